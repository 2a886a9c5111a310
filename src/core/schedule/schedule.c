/* placeholder: src/core/schedule/schedule.c */
