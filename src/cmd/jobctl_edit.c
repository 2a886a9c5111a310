/* jobctl_edit.c — `jobctl set NAME KEY=VALUE`: the set-job request from
 * the command line (the call and the output are jobctl.c's). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "cmd/jobctl.h"

static int bool_word(const char *s)
{
	static const char *const yes[] = { "true", "yes", "on", "1", NULL };
	static const char *const no[] = { "false", "no", "off", "0", NULL };
	for (int i = 0; yes[i]; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

int set_request(const char *name, const char *kv, json_t **out, char *err,
                size_t errlen)
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) : 0;
	json_t *v;

	*out = NULL;
	if (!eq || !klen) {
		snprintf(err, errlen, "'%s': want KEY=VALUE (schedule=S, "
		         "command=CMD, enabled=true|false)", kv);
		return -1;
	}
	if (klen == 8 && strncmp(kv, "schedule", klen) == 0) {
		v = json_string(eq + 1);
	} else if ((klen == 7 && strncmp(kv, "command", klen) == 0) ||
	           (klen == 3 && strncmp(kv, "cmd", klen) == 0)) {
		v = json_string(eq + 1);
		kv = "command";
		klen = 7;
	} else if (klen == 7 && strncmp(kv, "enabled", klen) == 0) {
		int b = bool_word(eq + 1);
		if (b < 0) {
			snprintf(err, errlen, "enabled: '%s' is not true or false",
			         eq + 1);
			return -1;
		}
		v = json_boolean(b);
	} else {
		snprintf(err, errlen, "unknown key '%.*s' (schedule, command, "
		         "enabled)", (int)klen, kv);
		return -1;
	}
	*out = json_pack("{s:s, s#:o}", "name", name, kv, (int)klen, v);
	if (!*out)
		snprintf(err, errlen, "'%s': not valid UTF-8", kv);
	return *out ? 0 : -1;
}
