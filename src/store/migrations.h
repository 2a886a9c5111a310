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

	/* 2: jid may be NULL, so that other programs can INSERT rows the seed
	 * queue's way (target, status, time_created and their own columns)
	 * without inventing a jid; jobd gives the row one when it claims it
	 * (run_claim).  SQLite cannot drop a NOT NULL constraint in place:
	 * the table is rebuilt with the same columns in the same order.
	 * "SELECT *" makes the copy fail (and the whole migration roll back)
	 * rather than drop columns that an application added to version 1.
	 * The AUTOINCREMENT high-water mark is carried over so that ids of
	 * swept runs are never reused. */
	"CREATE TABLE runs_new ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  target TEXT NOT NULL,"
	"  time_created INTEGER,"
	"  time_started INTEGER,"
	"  time_finished INTEGER,"
	"  status TEXT NOT NULL CHECK (status = 'waiting' OR status = 'manual'"
	"    OR status = 'accepted' OR status = 'running' OR status = 'done'"
	"    OR status = 'ignored'),"
	/* OR, not IN (...): SQLite checks an IN list through a temporary
	 * table on every write, about half the cost of an INSERT */
	"  result TEXT CHECK (result = 'ok' OR result = 'fail'),"
	"  return_code INTEGER,"
	"  sig TEXT,"
	"  stdout BLOB,"
	"  stderr BLOB,"
	"  jid TEXT UNIQUE,"
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
	"INSERT INTO runs_new SELECT * FROM runs;"
	"DELETE FROM sqlite_sequence WHERE name = 'runs_new';"
	"INSERT INTO sqlite_sequence (name, seq) "
	"  SELECT 'runs_new', seq FROM sqlite_sequence WHERE name = 'runs';"
	"DROP TABLE runs;"
	"ALTER TABLE runs_new RENAME TO runs;"
	"CREATE INDEX runs_status_target ON runs (status, target, priority DESC, id);"
	"CREATE INDEX runs_job ON runs (job, id);"
	"CREATE INDEX runs_time_finished ON runs (time_finished);"
	"CREATE INDEX runs_uid ON runs (uid);",

	/* 3: runs_time_finished holds finished runs only.  A full index on
	 * time_finished was rewritten by every update of a run (the update
	 * names the column, so SQLite deletes and reinserts the entry even
	 * when the value stays NULL): one more page in the WAL per commit of
	 * a run.  Partial, it is written once, when the run finishes, and the
	 * retention sweep (time_finished < ?, which implies NOT NULL) walks
	 * it in time order. */
	"DROP INDEX runs_time_finished;"
	"CREATE INDEX runs_time_finished ON runs (time_finished) "
	"  WHERE time_finished IS NOT NULL;",

	/* 4: leases of placement = one jobs (engine/lease.c) */
	"CREATE TABLE leases ("
	"  job TEXT PRIMARY KEY,"
	"  holder TEXT,"
	"  expires_us INTEGER NOT NULL DEFAULT 0,"
	"  last_fire_us INTEGER NOT NULL DEFAULT 0"
	");",
};

#define STORE_SCHEMA_VERSION \
	((int)(sizeof(store_migrations) / sizeof(store_migrations[0])))

#endif
