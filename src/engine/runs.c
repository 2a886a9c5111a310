/* placeholder: src/engine/runs.c */
