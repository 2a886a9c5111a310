/* migrations.h — the SQLite schema of jobd's store, as an ordered list of
 * migrations.  Migration i (0-based) takes the database from
 * `PRAGMA user_version` i to i + 1; sqlite.c applies each one in its own
 * transaction together with the new user_version, so a crash mid-way leaves
 * the schema at a whole version.  Never edit a released migration: append.
 *
 * The runs table starts with the columns of the seed queue table (so
 * applications that INSERT rows the seed's way still fit), with times in
 * unix microseconds, followed by jobd's own columns.  "trigger" is quoted:
 * it is an SQL keyword.
 */
#ifndef JOBD_STORE_MIGRATIONS_H
#define JOBD_STORE_MIGRATIONS_H

static const char *const store_migrations[] = {
	/* 1: the initial schema */
	"CREATE TABLE jobs ("
	"  name TEXT PRIMARY KEY,"
	"  def TEXT NOT NULL,"
	"  updated INTEGER"
	");"
	"CREATE TABLE runs ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  target TEXT NOT NULL,"
	"  time_created INTEGER,"
	"  time_started INTEGER,"
	"  time_finished INTEGER,"
	"  status TEXT NOT NULL CHECK (status IN ('waiting','manual',"
	"    'accepted','running','done','ignored')),"
	"  result TEXT CHECK (result IN ('ok','fail')),"
	"  return_code INTEGER,"
	"  sig TEXT,"
	"  stdout BLOB,"
	"  stderr BLOB,"
	"  jid TEXT UNIQUE NOT NULL,"
	"  job TEXT,"
	"  action TEXT,"
	"  \"trigger\" TEXT,"
	"  attempt INTEGER,"
	"  parent TEXT,"
	"  priority INTEGER,"
	"  time_not_before INTEGER,"
	"  spec TEXT,"
	"  user TEXT,"
	"  uid INTEGER,"
	"  pid INTEGER,"
	"  pid_start INTEGER,"
	"  worker TEXT,"
	"  stdout_truncated INTEGER,"
	"  stderr_truncated INTEGER"
	");"
	"CREATE INDEX runs_status_target ON runs (status, target, priority DESC, id);"
	"CREATE INDEX runs_job ON runs (job, id);"
	"CREATE INDEX runs_time_finished ON runs (time_finished);"
	"CREATE INDEX runs_uid ON runs (uid);"
	"CREATE TABLE targets ("
	"  name TEXT PRIMARY KEY,"
	"  concurrency INTEGER NOT NULL,"
	"  paused INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE TABLE kv ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT"
	");",
};

#define STORE_SCHEMA_VERSION \
	((int)(sizeof(store_migrations) / sizeof(store_migrations[0])))

#endif
