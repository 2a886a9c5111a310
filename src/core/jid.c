/* placeholder: src/core/jid.c */
