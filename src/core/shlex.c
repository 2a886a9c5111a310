/* placeholder: src/core/shlex.c */
