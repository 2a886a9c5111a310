/* placeholder: src/core/schedule/calendar.c */
