/* runas.h — the exec trampoline of runs that switch user (runas.c). */
#ifndef JOBD_RUNAS_H
#define JOBD_RUNAS_H

#define RUNAS_FLAG "--run-as"

/* jobd's main when argv[1] is RUNAS_FLAG: never returns on success (it
 * execs); returns the exit code otherwise. */
int runas_main(int argc, char **argv);
#endif
