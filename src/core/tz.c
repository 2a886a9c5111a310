/* placeholder: src/core/tz.c */
