/* placeholder: src/core/names.c */
