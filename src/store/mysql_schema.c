/* mysql_schema.c — the MariaDB store's schema: the migrations of the run
 * table and jobd's own tables, applied under a named lock, and the probe of
 * the output columns' charset (mysql_int.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/mysql_int.h"

/* Migrations: each an ordered list of statements (NULL-terminated), @T the
 * run table.  Every statement is idempotent (IF NOT EXISTS), because DDL
 * commits implicitly and a crash may stop a migration half-way; the version
 * row is written after the last one.  Never edit a released one: append. */
static const char *const migration_1[] = {
	/* The original queue table, for when there is none yet. */
	"CREATE TABLE IF NOT EXISTS `@T` ("
	" `id` int(10) UNSIGNED NOT NULL AUTO_INCREMENT,"
	" `target` varchar(64) COLLATE utf8mb4_bin NOT NULL,"
	" `slot` char(16) DEFAULT NULL,"
	" `time_created` int(10) UNSIGNED NOT NULL,"
	" `time_started` int(10) UNSIGNED NOT NULL DEFAULT 0,"
	" `time_finished` int(10) UNSIGNED NOT NULL DEFAULT 0,"
	" `status` enum('waiting','manual','accepted','running','done','ignored')"
	"   NOT NULL DEFAULT 'waiting',"
	" `result` enum('ok','fail') DEFAULT NULL,"
	" `return_code` tinyint(3) UNSIGNED DEFAULT NULL,"
	" `sig` char(10) DEFAULT NULL,"
	" `stdout` mediumtext DEFAULT NULL,"
	" `stderr` mediumtext DEFAULT NULL,"
	" PRIMARY KEY (`id`),"
	" KEY `status_target_idx` (`status`, `target`, `id`)"
	") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
	/* jobd's own columns, on a table of any origin. */
	"ALTER TABLE `@T`"
	" ADD COLUMN IF NOT EXISTS `jid` varchar(20) CHARACTER SET ascii NULL,"
	" ADD COLUMN IF NOT EXISTS `job` varchar(64)"
	"   CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,"
	" ADD COLUMN IF NOT EXISTS `action` varchar(64)"
	"   CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,"
	" ADD COLUMN IF NOT EXISTS `trigger` varchar(16) CHARACTER SET ascii NULL,"
	" ADD COLUMN IF NOT EXISTS `attempt` int NULL,"
	" ADD COLUMN IF NOT EXISTS `parent` varchar(20) CHARACTER SET ascii NULL,"
	" ADD COLUMN IF NOT EXISTS `priority` int NULL,"
	" ADD COLUMN IF NOT EXISTS `time_not_before` bigint NULL,"
	" ADD COLUMN IF NOT EXISTS `time_created_us` bigint NULL,"
	" ADD COLUMN IF NOT EXISTS `time_started_us` bigint NULL,"
	" ADD COLUMN IF NOT EXISTS `time_finished_us` bigint NULL,"
	" ADD COLUMN IF NOT EXISTS `spec` mediumtext CHARACTER SET utf8mb4 NULL,"
	" ADD COLUMN IF NOT EXISTS `user` varchar(64)"
	"   CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,"
	" ADD COLUMN IF NOT EXISTS `uid` int UNSIGNED NULL,"
	" ADD COLUMN IF NOT EXISTS `pid` int NULL,"
	" ADD COLUMN IF NOT EXISTS `pid_start` bigint NULL,"
	" ADD COLUMN IF NOT EXISTS `worker` varchar(255)"
	"   CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,"
	" ADD COLUMN IF NOT EXISTS `stdout_truncated` tinyint NULL,"
	" ADD COLUMN IF NOT EXISTS `stderr_truncated` tinyint NULL,"
	" ADD UNIQUE KEY IF NOT EXISTS `jobd_jid` (`jid`),"
	" ADD KEY IF NOT EXISTS `jobd_job` (`job`, `id`),"
	" ADD KEY IF NOT EXISTS `jobd_time_finished` (`time_finished`),"
	" ADD KEY IF NOT EXISTS `jobd_uid` (`uid`)",
	"CREATE TABLE IF NOT EXISTS jobd_jobs ("
	" name varchar(64) COLLATE utf8mb4_bin PRIMARY KEY,"
	" def mediumtext NOT NULL,"
	" updated bigint"
	") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
	"CREATE TABLE IF NOT EXISTS jobd_targets ("
	" name varchar(64) COLLATE utf8mb4_bin PRIMARY KEY,"
	" concurrency int NOT NULL,"
	" paused tinyint NOT NULL DEFAULT 0"
	") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
	"CREATE TABLE IF NOT EXISTS jobd_kv ("
	" k varchar(191) COLLATE utf8mb4_bin PRIMARY KEY,"
	" v mediumtext"
	") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
	NULL
};

/* Leases of placement = one jobs (mysql_lease.c, engine/lease.c). */
static const char *const migration_2[] = {
	"CREATE TABLE IF NOT EXISTS jobd_leases ("
	" job varchar(191) COLLATE utf8mb4_bin PRIMARY KEY,"
	" holder varchar(255) COLLATE utf8mb4_bin NULL,"
	" expires_us bigint NOT NULL DEFAULT 0,"
	" last_fire_us bigint NOT NULL DEFAULT 0"
	") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
	NULL
};

static const char *const *const migrations[] = { migration_1, migration_2 };
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* One text query's first column of its first row, as an int (-1 if no row). */
static int query_int(struct my *m, const char *sql, long long *out)
{
	MYSQL_RES *res;
	MYSQL_ROW row;

	*out = -1;
	if (mysql_query(m->db, sql) != 0)
		return my_failf(m, my_errno_of(mysql_errno(m->db)), "%s", mysql_error(m->db));
	res = mysql_store_result(m->db);
	if (!res)
		return my_failf(m, -EIO, "%s", mysql_error(m->db));
	row = mysql_fetch_row(res);
	if (row && row[0])
		*out = strtoll(row[0], NULL, 10);
	mysql_free_result(res);
	return 0;
}

static int apply_migration(struct my *m, int v)
{
	char sql[256];

	for (const char *const *q = migrations[v]; *q; q++) {
		char *s = my_sql_expand(*q, m->u.table);
		int ret = s ? my_query(m, s) : -ENOMEM;

		free(s);
		if (ret < 0)
			return ret;
	}
	snprintf(sql, sizeof(sql), "REPLACE INTO jobd_meta (k, v) VALUES "
	         "('schema/%s', '%d')", m->u.table, v + 1);
	return my_query(m, sql);
}

static int migrate_locked(struct my *m)
{
	char sql[256];
	long long v;
	int ret;

	ret = my_query(m, "CREATE TABLE IF NOT EXISTS jobd_meta ("
	               " k varchar(191) COLLATE utf8mb4_bin PRIMARY KEY,"
	               " v varchar(255) NOT NULL"
	               ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
	if (ret < 0)
		return ret;
	snprintf(sql, sizeof(sql), "SELECT v FROM jobd_meta WHERE k = 'schema/%s'",
	         m->u.table);
	ret = query_int(m, sql, &v);
	if (ret < 0)
		return ret;
	if (v < 0)
		v = 0;
	if (v > SCHEMA_VERSION)
		return my_failf(m, -EPROTO, "schema version %lld of table %s is newer "
		                "than this jobd's (%d)", v, m->u.table, SCHEMA_VERSION);
	for (; v < SCHEMA_VERSION; v++) {
		ret = apply_migration(m, (int)v);
		if (ret < 0)
			return my_failf(m, ret, "migrating table %s to schema version "
			                "%lld: %s", m->u.table, v + 1, m->errmsg);
	}
	return 0;
}

/* Migrates under a named lock: two jobds opening one table at once apply
 * each migration once. */
int my_migrate(struct my *m)
{
	char sql[256];
	long long got;
	int ret;

	snprintf(sql, sizeof(sql), "SELECT GET_LOCK(CONCAT('jobd:', DATABASE(), "
	         "'.%s'), 30)", m->u.table);
	ret = query_int(m, sql, &got);
	if (ret == 0 && got != 1)
		ret = my_failf(m, -EBUSY, "another jobd holds the migration lock of "
		               "table %s (waited 30 s)", m->u.table);
	if (ret < 0)
		return ret;
	ret = migrate_locked(m);
	snprintf(sql, sizeof(sql), "DO RELEASE_LOCK(CONCAT('jobd:', DATABASE(), "
	         "'.%s'))", m->u.table);
	if (mysql_query(m->db, sql) != 0 && ret == 0)
		ret = my_failf(m, -EIO, "%s", mysql_error(m->db));
	return ret;
}

/* Whether the output columns take 4-byte UTF-8 (utf8mb4); the original's
 * table is utf8 (3-byte). */
int my_probe_charset(struct my *m)
{
	char sql[256];
	MYSQL_RES *res;
	MYSQL_ROW row;

	snprintf(sql, sizeof(sql), "SELECT CHARACTER_SET_NAME FROM "
	         "information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND "
	         "TABLE_NAME = '%s' AND COLUMN_NAME = 'stdout'", m->u.table);
	if (mysql_query(m->db, sql) != 0 || !(res = mysql_store_result(m->db)))
		return my_failf(m, -EIO, "%s", mysql_error(m->db));
	row = mysql_fetch_row(res);
	m->out_mb4 = row && row[0] && strcmp(row[0], "utf8mb4") == 0;
	mysql_free_result(res);
	return 0;
}
