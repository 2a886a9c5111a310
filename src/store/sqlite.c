/* placeholder: src/store/sqlite.c */
