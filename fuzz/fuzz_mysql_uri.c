/* fuzz_mysql_uri.c — libFuzzer target for store/mysql_uri.c: any bytes
 * must parse or fail with an explanation, never crash; a parsed URI has
 * every field the connection needs, a valid table (it is spliced into
 * SQL) and a description; and neither the description (it is logged) nor
 * an error ever shows the password.  The first byte picks the shape: raw
 * bytes, or "mysql://u:PASSWORD@" + the rest, so the password check
 * sees real userinfo (unless the fuzzer put the word elsewhere too).
 *   clang -g -O1 -fsanitize=fuzzer,address -D_GNU_SOURCE -Isrc \
 *         fuzz/fuzz_mysql_uri.c src/store/mysql_uri.c -o /tmp/fz &&
 *   /tmp/fz fuzz/corpus/mysql_uri */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/mysql_uri.h"

#define SECRET "Zq9xSECRETpw7"

static void check_ok(const struct my_uri *u)
{
	size_t n;

	if (!u->dbname || !u->table || !u->desc || !u->host)
		abort();
	if (!u->dbname[0] || (!u->host[0] && !u->socket))
		abort();
	if (u->port < 1 || u->port > 65535)
		abort();
	n = strlen(u->table);
	if (n < 1 || n > TABLE_MAX || strspn(u->table, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
		abort();
	if (u->socket && !u->socket[0])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *pre = "";
	struct my_uri u;
	char err[256], *s;
	size_t pl;
	int ret;

	if (size && (data[0] & 1)) {
		pre = "mysql://u:" SECRET "@";
		data++;
		size--;
	}
	pl = strlen(pre);
	s = malloc(pl + size + 1);
	if (!s)
		return 0;
	memcpy(s, pre, pl);
	memcpy(s + pl, data, size);
	s[pl + size] = '\0';   /* an embedded NUL just ends the string early */
	err[0] = '\0';
	ret = my_uri_parse(&u, s, err, sizeof(err));
	if (ret == 0)
		check_ok(&u);
	else if (ret != -EINVAL && ret != -ENOMEM)
		abort();
	else if (ret == -EINVAL && !err[0])
		abort();   /* every error must explain itself */
	if (pl && !memmem(data, size, "SECRET", 6) &&
	    (strstr(err, SECRET) || (u.desc && strstr(u.desc, SECRET))))
		abort();   /* the password is never shown */
	my_uri_free(&u);
	free(s);
	return 0;
}
