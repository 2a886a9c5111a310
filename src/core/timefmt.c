/* placeholder: src/core/timefmt.c */
