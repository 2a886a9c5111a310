/* ninep.h — the 9P file server face (docs/9p.md): jobs, runs and targets
 * as files over 9P2000, 9P2000.u and 9P2000.L, on `ninep_listen` (TCP)
 * and `ninep_socket` (Unix).  Every read and write is an ops call. */
#ifndef JOBD_FACES_NINEP_H
#define JOBD_FACES_NINEP_H
#include <stddef.h>

#include "engine/engine_api.h"

struct nsrv;

/* Listens where the config says (nothing when neither key is set: *out
 * is then NULL).  0, or a negative errno with err saying why. */
int ninep_start(struct nsrv **out, struct engine *e, char *err,
                size_t errlen);
void ninep_stop_listening(struct nsrv *s);
/* Closes every connection and frees s (NULL: nothing). */
void ninep_close(struct nsrv *s);
#endif
