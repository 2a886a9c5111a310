/* test_mysql_uri.c — the MariaDB store's URI parser (store/mysql_uri.c),
 * without a server: good URIs and their fields and description, bad ones
 * and the sentence that says what is wrong, and that no error shows the
 * password. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store/mysql_uri.h"

struct good {
	const char *uri;
	const char *user, *pass, *host;
	unsigned port;
	const char *db, *table, *socket, *desc;
};

static const struct good goods[] = {
	{ "mysql://jobd:pw@db1:3307/jobs", "jobd", "pw", "db1", 3307, "jobs",
	  "jobs", NULL, "mysql://jobd@db1:3307/jobs?table=jobs" },
	{ "mariadb://h/d", NULL, NULL, "h", 3306, "d", "jobs", NULL,
	  "mysql://h:3306/d?table=jobs" },
	{ "mysql://u@h/d?table=T_1", "u", NULL, "h", 3306, "d", "T_1", NULL,
	  "mysql://u@h:3306/d?table=T_1" },
	{ "mysql://u%40x:p%2F%3A@[::1]:1/d%20b", "u@x", "p/:", "::1", 1, "d b",
	  "jobs", NULL, "mysql://u@x@[::1]:1/d b?table=jobs" },
	{ "mysql://u:a@b@h:65535/d", "u", "a@b", "h", 65535, "d", "jobs", NULL,
	  "mysql://u@h:65535/d?table=jobs" },    /* the last @ ends userinfo */
	{ "mysql://u:p@/d?socket=/run/my.sock&table=t", "u", "p", "", 3306, "d",
	  "t", "/run/my.sock", "mysql://u@/d?socket=/run/my.sock&table=t" },
	{ "mysql://h/d?table=a&table=b", NULL, NULL, "h", 3306, "d", "b", NULL,
	  "mysql://h:3306/d?table=b" },           /* the last one wins */
	{ "mysql://u:%zz@h/d", "u", "%zz", "h", 3306, "d", "jobs", NULL,
	  "mysql://u@h:3306/d?table=jobs" },      /* not a %XX: kept as is */
};

static void eq_or_null(const char *want, const char *got)
{
	if (!want)
		assert_null(got);
	else
		assert_string_equal(want, got);
}

static void test_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		const struct good *g = &goods[i];
		struct my_uri u;
		char err[256] = "";

		print_message("%s\n", g->uri);
		assert_int_equal(my_uri_parse(&u, g->uri, err, sizeof(err)), 0);
		eq_or_null(g->user, u.user);
		eq_or_null(g->pass, u.pass);
		assert_string_equal(g->host, u.host);
		assert_int_equal(g->port, u.port);
		assert_string_equal(g->db, u.dbname);
		assert_string_equal(g->table, u.table);
		eq_or_null(g->socket, u.socket);
		assert_string_equal(g->desc, u.desc);
		my_uri_free(&u);
	}
}

struct bad {
	const char *uri;
	const char *says;     /* a part of the error */
};

static const struct bad bads[] = {
	{ "mysql:h/d", "is not mysql://USER:PASS@HOST:PORT/DB" },
	{ "mysql://h", "names no database" },
	{ "mysql://h/", "names no database" },
	{ "mysql://h/?table=t", "names no database" },
	{ "mysql://u:p@/d", "names no host (or ?socket=PATH)" },
	{ "mysql://h:0/d", "store host 'h:0' is not HOST, HOST:PORT" },
	{ "mysql://h:65536/d", "port 1..65535" },
	{ "mysql://h:/d", "store host 'h:'" },
	{ "mysql://h:+80/d", "store host 'h:+80'" },
	{ "mysql://h: 80/d", "store host 'h: 80'" },
	{ "mysql://h:80x/d", "store host 'h:80x'" },
	{ "mysql://h:12345678/d", "store host 'h:12345678'" },
	{ "mysql://[::1/d", "store host '[::1'" },
	{ "mysql://[::1]x/d", "store host '[::1]x'" },
	{ "mysql://h/d?table=a;drop", "store table 'a;drop' is invalid" },
	{ "mysql://h/d?table=", "store option 'table' has no value" },
	{ "mysql://h/d?table=%00", "store option 'table' has no value or contains %00" },
	{ "mysql://u:p@/d?socket=", "store option 'socket' has no value" },
	{ "mysql://h/d?table=" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  "1..64 characters" },
	{ "mysql://h/d?bogus=1", "store option 'bogus=1' is unknown (known: table=NAME, socket=PATH)" },
	{ "mysql://h/d?table", "store option 'table' is unknown" },
	{ "mysql://u%00x:p@h/d", "store user or password contains %00" },
	{ "mysql://u:p%00@h/d", "store user or password contains %00" },
	{ "mysql://h/d%00x", "store database name contains %00" },
};

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		struct my_uri u;
		char err[256] = "";

		print_message("%s\n", bads[i].uri);
		assert_int_equal(my_uri_parse(&u, bads[i].uri, err, sizeof(err)), -EINVAL);
		if (!strstr(err, bads[i].says))
			fail_msg("'%s': error '%s' lacks '%s'", bads[i].uri, err,
			         bads[i].says);
		my_uri_free(&u);
	}
}

/* An error about the URI as a whole shows it with the password hidden. */
static void test_error_hides_password(void **state)
{
	static const char *uris[] = {
		"mysql://jobd:hunter2@/d",
		"mysql://jobd:hunter2@h",
		"mysql://jobd:hunter2@h/",
		"mysql:jobd:hunter2@h",
		"mysql://jobd:hunter2@@h:99999/d",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
		struct my_uri u;
		char err[256] = "";

		assert_int_equal(my_uri_parse(&u, uris[i], err, sizeof(err)), -EINVAL);
		print_message("%s -> %s\n", uris[i], err);
		assert_null(strstr(err, "hunter2"));
		my_uri_free(&u);
	}
	{
		struct my_uri u;
		char err[256] = "";

		assert_int_equal(my_uri_parse(&u, "mysql://jobd:hunter2@/d", err,
		                              sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "'mysql://jobd:***@/d'"));
		my_uri_free(&u);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_error_hides_password),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
