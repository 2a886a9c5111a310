/* placeholder: src/engine/proc.c */
