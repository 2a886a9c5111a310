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
	int port;                /* 0 = off; 7081 by default for role master */
	char *password;
	int always_allow_localhost;
	char *name;              /* worker name, default host name */
	char *labels;
	char *role;              /* worker (default) | master */
	char *master_host;
	int master_port;         /* 7081 when master_host is set */
	int64_t ping_interval, poke_throttle_interval, master_reconnect_timeout;
	char *ninep_listen, *ninep_token, *ninep_socket;
	char *http_listen, *http_token;
	char *launcher, *launcher_cwd;
	struct config_env *launcher_env;
	int n_launcher_env;
	char *mysql_host, *mysql_user, *mysql_password, *mysql_database,
	     *mysql_table;
	int mysql_port, mysql_fetch_limit;
	int64_t max_output_buffer;   /* sets output_cap unless it is given */
	int64_t max_buffered;    /* bytes of client input and replies held,
	                            all connections; default 64 MiB */
	int64_t auth_timeout;    /* us a TCP client has to give the password */
	struct config_target *targets;   /* [targets] name = concurrency */
	int n_targets;
	int max_connections;     /* default 1024 (admins on the socket: always) */
};

/* Reads `path`.  Relative paths in values (state_dir, socket, store,
 * jobs_dir, ...) are relative to jobd's working directory; only the default
 * jobs_dir is derived from the config file's own directory.   On error returns -EINVAL (or -errno of the open) and err
 * reads like "jobd.conf:12: unknown key 'foo'".  *out is valid only on 0. */
int config_load(const char *path, struct config *out, char *err, size_t errlen);
/* Defaults only (no file): state in ./var, jobs_dir NULL (no job files). */
void config_defaults(struct config *c);
void config_free(struct config *c);

/* Parses a byte size: "1048576", "512k", "1M", "1MiB", "2 GB" (k/M/G are
 * powers of 1024).  Returns 0 or -EINVAL. */
int config_bytes_parse(const char *s, int64_t *out);
/* true/false, yes/no, on/off, 1/0 (any case) -> 1/0; -1 if none of them. */
int config_bool_parse(const char *s);
/* "HOST:PORT" or "[V6]:PORT" (http_listen): the host (without brackets)
 * into host, the port 1..65535 into *port; -EINVAL for another shape. */
int config_hostport(const char *s, char *host, size_t hostlen, int *port);

/* The INI reader shared by config.c and jobfile.c: inih (libinih), fed one
 * line at a time by our own reader so that every callback knows its line
 * number (Debian's inih has no INI_HANDLER_LINENO), section headers are
 * seen even when a section is empty, and over-long lines (inih silently
 * splits lines longer than its 200-byte buffer) are errors instead of
 * truncated values.  Callbacks return 0 or a negative errno with a message
 * in err; the reader prefixes it with "PATH:LINE: ". */
struct config_ini_ops {
	/* A "[name]" header (name trimmed). */
	int (*section)(void *user, const char *name, int line, char *err,
	               size_t errlen);
	/* The end of the section whose header was on `line` (before the next
	 * header, or at the end of the file); may be NULL. */
	int (*end)(void *user, int line, char *err, size_t errlen);
	/* "name = value"; cont = 1 for an indented continuation line, which
	 * inih hands over as another value of the previous name. */
	int (*key)(void *user, const char *name, const char *value, int line,
	           int cont, char *err, size_t errlen);
};
/* Returns 0, -EINVAL (err "PATH:LINE: ...") or -errno when the file cannot
 * be read (err "cannot read WHAT 'PATH': <strerror>"). */
int config_ini_read(const char *path, const char *what,
                    const struct config_ini_ops *ops, void *user, char *err,
                    size_t errlen);
#endif
