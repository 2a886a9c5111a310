/* placeholder: src/engine/jobs.c */
