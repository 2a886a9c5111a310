/* placeholder: src/faces/server.c */
