/* config.h — the daemon configuration (jobd -c FILE): INI, ';' and '#'
 * comments, top-level keys before any section, then sections.  Unknown keys
 * are errors naming file and line.  See docs/jobd.conf.md. */
#ifndef JOBD_CONFIG_H
#define JOBD_CONFIG_H
#include <stddef.h>
#include <stdint.h>

struct config_target {
	char *name;
	int concurrency;
};

struct config_env {
	char *name, *value;
};

struct config {
	char *path;              /* the file read (absolute) */
	char *state_dir;         /* default ./var */
	char *socket;            /* default <state_dir>/jobd.sock */
	char *socket_group;      /* group of the socket (mode 0660), optional */
	int log_level;           /* enum log_level, default info */
	char *store;             /* default sqlite:<state_dir>/jobd.db */
	char *jobs_dir;          /* default <config dir>/jobs.d */
	char *timezone;          /* default UTC */
	int64_t output_cap;      /* bytes per stream, default 1 MiB */
	int64_t keep_runs;       /* us, default 24h, 0 = forever */
	int64_t shutdown_grace;  /* us, default 30 s */
	int orphans_adopt;       /* orphans = adopt|kill (default kill) */
	char *host;              /* wire worker role */
	int port;                /* 0 = off */
	char *password;
	int always_allow_localhost;
	char *name;              /* worker name, default host name */
	char *labels;
	char *role;              /* worker (default) | master */
	char *master_host;
	int master_port;
	int64_t ping_interval, poke_throttle_interval, master_reconnect_timeout;
	char *ninep_listen, *ninep_token, *ninep_socket;
	char *http_listen, *http_token;
	char *launcher, *launcher_cwd;
	struct config_env *launcher_env;
	int n_launcher_env;
	char *mysql_host, *mysql_user, *mysql_password, *mysql_database,
	     *mysql_table;
	int mysql_port, mysql_fetch_limit;
	int64_t max_output_buffer;
	struct config_target *targets;   /* [targets] name = concurrency */
	int n_targets;
};

/* Reads `path`.  On error returns -EINVAL (or -errno of the open) and err
 * reads like "jobd.conf:12: unknown key 'foo'".  *out is valid only on 0. */
int config_load(const char *path, struct config *out, char *err, size_t errlen);
/* Defaults only (no file): state in ./var. */
void config_defaults(struct config *c);
void config_free(struct config *c);
#endif
