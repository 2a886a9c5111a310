/* placeholder: src/engine/recover.c */
