/* placeholder: src/faces/ops.c */
