/* peer.h — what the network faces (the wire port, HTTP, 9P) share about
 * the peer at the other end: its address and whether it is loopback, a
 * comparison of a secret it gives (the password, the bearer token, the
 * attach name) in time that does not depend on the secret, and a bounded
 * per-address limit on wrong secrets (docs/security.md).  One copy, so
 * that no face has a weaker one. */
#ifndef JOBD_PEER_H
#define JOBD_PEER_H
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* An IPv4 or IPv6 peer: its address as IPv6 (IPv4 mapped), "IP" text
 * and port.  Returns 1 when it is loopback (127/8, ::1, ::ffff:127/104),
 * 0 when not, -1 for another family (then *a is zero and text "?"). */
int peer_from_sockaddr(const struct sockaddr *sa, struct in6_addr *a,
                       char *text, size_t textlen, int *port);

/* 1 when given (glen bytes) equals secret; its time depends on glen only. */
int peer_secret_equal(const char *given, size_t glen, const char *secret);

/* Wrong secrets per address: PEER_FAILS_MAX within PEER_FAIL_WINDOW_MS,
 * then an address is refused without a comparison until its window ends.
 * The table is bounded: when full, the address whose window began first
 * is forgotten. */
#define PEER_FAILS_MAX 5
#define PEER_FAIL_WINDOW_MS 60000
#define PEER_FAIL_SLOTS 256
struct peer_fail {
	struct in6_addr addr;
	uint64_t since;          /* its window's start (ms) */
	int fails;               /* 0: a free slot */
};
struct peer_fails {
	struct peer_fail slot[PEER_FAIL_SLOTS];
};
/* 1 when a is over its limit at now (ms). */
int peer_fails_blocked(struct peer_fails *t, const struct in6_addr *a,
                       uint64_t now);
/* Counts one wrong secret of a at now (ms). */
void peer_fails_add(struct peer_fails *t, const struct in6_addr *a,
                    uint64_t now);
#endif
