/* placeholder: src/faces/json.c */
