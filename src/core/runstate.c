/* placeholder: src/core/runstate.c */
