/* jid.h — Salt-style job ids: 20 digits YYYYMMDDhhmmssffffff, UTC. */
#ifndef JOBD_JID_H
#define JOBD_JID_H
#include <stdint.h>

/* The jid for `now_us` (unix microseconds) that is strictly greater than
 * *last_us: now, or last + 1 µs on collision or a clock step back.
 * Updates *last_us.  out must hold 21 bytes. */
void jid_next(char out[21], int64_t now_us, int64_t *last_us);
void jid_format(char out[21], int64_t us);
/* Parses a jid back into unix microseconds; -EINVAL if not 20 valid digits. */
int jid_parse(const char *s, int64_t *us);
int jid_valid(const char *s);
#endif
