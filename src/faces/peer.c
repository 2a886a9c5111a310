/* peer.c — the network peer: address, secrets, wrong-secret limits
 * (peer.h). */
#include "faces/peer.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

int peer_from_sockaddr(const struct sockaddr *sa, struct in6_addr *a,
                       char *text, size_t textlen, int *port)
{
	uint8_t *b = a->s6_addr;

	memset(a, 0, sizeof *a);
	snprintf(text, textlen, "?");
	*port = 0;
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		b[10] = b[11] = 0xff;
		memcpy(b + 12, &s4->sin_addr, 4);
		inet_ntop(AF_INET, &s4->sin_addr, text, (socklen_t)textlen);
		*port = ntohs(s4->sin_port);
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		*a = s6->sin6_addr;
		inet_ntop(AF_INET6, &s6->sin6_addr, text, (socklen_t)textlen);
		*port = ntohs(s6->sin6_port);
	} else {
		return -1;
	}
	return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && b[12] == 127);
}

int peer_secret_equal(const char *given, size_t glen, const char *secret)
{
	size_t sl = strlen(secret);
	unsigned char d = glen != sl || sl == 0;

	for (size_t i = 0; sl && i < glen; i++)
		d |= (unsigned char)given[i] ^ (unsigned char)secret[i % sl];
	return d == 0;
}

/* a's slot (create: a free or the oldest one, made a's), or NULL. */
static struct peer_fail *slot_of(struct peer_fails *t,
                                 const struct in6_addr *a, uint64_t now,
                                 int create)
{
	struct peer_fail *victim = NULL;

	for (int i = 0; i < PEER_FAIL_SLOTS; i++) {
		struct peer_fail *f = &t->slot[i];
		if (f->fails && now - f->since >= PEER_FAIL_WINDOW_MS)
			f->fails = 0;                 /* its window is over */
		if (f->fails && memcmp(&f->addr, a, sizeof *a) == 0)
			return f;
		if (!victim || (victim->fails && (!f->fails ||
		                                  f->since < victim->since)))
			victim = f;
	}
	if (!create)
		return NULL;
	victim->addr = *a;
	victim->since = now;
	victim->fails = 0;
	return victim;
}

int peer_fails_blocked(struct peer_fails *t, const struct in6_addr *a,
                       uint64_t now)
{
	struct peer_fail *f = slot_of(t, a, now, 0);
	return f && f->fails >= PEER_FAILS_MAX;
}

void peer_fails_add(struct peer_fails *t, const struct in6_addr *a,
                    uint64_t now)
{
	slot_of(t, a, now, 1)->fails++;
}
