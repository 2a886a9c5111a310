/* placeholder: src/engine/log.c */
