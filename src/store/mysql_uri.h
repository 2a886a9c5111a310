/* mysql_uri.h — the MariaDB store's URI (mysql_uri.c): pure parsing, no
 * connection, so it can be fuzzed on its own (fuzz/fuzz_mysql_uri.c).
 *
 *   mysql://USER:PASS@HOST:PORT/DB?table=jobs[&socket=/path]
 */
#ifndef JOBD_STORE_MYSQL_URI_H
#define JOBD_STORE_MYSQL_URI_H

#include <stddef.h>

#define TABLE_MAX 64

struct my_uri {
	char *host, *user, *pass, *dbname, *socket, *table;
	unsigned port;
	char *desc;          /* "mysql://user@host:port/db?table=t", no password */
};

/* Fills *u (zeroed first) from `uri`; on failure err says what is wrong
 * (-EINVAL) or -ENOMEM.  Free with my_uri_free either way. */
int my_uri_parse(struct my_uri *u, const char *uri, char *err, size_t errlen);
void my_uri_free(struct my_uri *u);

#endif
