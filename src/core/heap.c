/* placeholder: src/core/heap.c */
