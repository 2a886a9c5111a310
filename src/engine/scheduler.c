/* placeholder: src/engine/scheduler.c */
