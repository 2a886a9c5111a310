/* placeholder: src/core/schedule/cron.c */
