/* frame.h — the queue wire framing: UTF-8 JSON messages, each ended by one
 * 0x04 (EOT) byte, no length prefix.  Pure byte handling, no sockets. */
#ifndef JOBD_FRAME_H
#define JOBD_FRAME_H
#include <stddef.h>

#define FRAME_EOT 0x04

struct framebuf {
	char *buf;
	size_t len, cap;
	size_t max;         /* a message longer than this is an error */
	size_t scanned;     /* bytes already searched for EOT */
	size_t off;         /* start of the unconsumed bytes (lazy compaction) */
	size_t msg_start;   /* start of the last, unfinished message */
};

void framebuf_init(struct framebuf *fb, size_t max);
void framebuf_free(struct framebuf *fb);
/* Appends received bytes.  -EMSGSIZE once the unfinished message exceeds
 * max (the caller drops the connection), -ENOMEM. */
int framebuf_push(struct framebuf *fb, const char *data, size_t n);
/* Takes the next complete message: sets *msg (NUL-terminated, without the
 * EOT, valid until the next push/pop) and *len; returns 1, or 0 if none. */
int framebuf_pop(struct framebuf *fb, char **msg, size_t *len);
#endif
