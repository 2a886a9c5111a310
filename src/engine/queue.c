/* placeholder: src/engine/queue.c */
