/* placeholder: src/cmd/jobctl_out.c */
