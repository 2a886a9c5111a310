/* placeholder: src/core/frame.c */
