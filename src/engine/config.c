/* placeholder: src/engine/config.c */
