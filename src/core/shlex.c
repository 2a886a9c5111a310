/* shlex.c — shell-word splitting with POSIX sh quoting and no expansion,
 * and the inverse (quote/join) for display.
 *
 * Hand-written: glibc's wordexp() would do expansion (variables, globs,
 * command substitution with WRDE_NOCMD only refused, not taken literally)
 * and Debian has no small library for sh quoting alone.
 *
 * Rules (POSIX XCU 2.2): '...' is literal; inside "..." a backslash escapes
 * only \ " $ ` and newline (backslash-newline vanishes), other backslashes
 * stay; outside quotes a backslash makes the next character literal and
 * backslash-newline is a line continuation.  Space, tab and newline separate
 * words.  '' and "" are (empty) words.  '#' is NOT a comment: a job command
 * is a command line, not a script, so '#' stays literal (shlex_quote still
 * quotes it so the displayed form means the same to sh).  Error positions
 * are 1-based character columns of the opening quote or the backslash. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/shlex.h"

struct split {
	const char *s;
	size_t i;           /* read position in s */
	char *cur;          /* the word being built (capacity strlen(s)+1) */
	size_t curlen;
	int in_word;        /* a word has started (even if still empty) */
	char **argv;
	int argc, cap;
};

static void set_err(char *err, size_t errlen, const char *fmt, size_t pos)
{
	if (err && errlen)
		snprintf(err, errlen, fmt, pos);
}

static int end_word(struct split *sp)
{
	char *w;

	if (!sp->in_word)
		return 0;
	if (sp->argc + 1 >= sp->cap) {
		int ncap = sp->cap ? sp->cap * 2 : 8;
		char **nv = realloc(sp->argv, (size_t)ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		sp->argv = nv;
		sp->cap = ncap;
	}
	w = malloc(sp->curlen + 1);
	if (!w)
		return -ENOMEM;
	memcpy(w, sp->cur, sp->curlen);
	w[sp->curlen] = '\0';
	sp->argv[sp->argc++] = w;
	sp->argv[sp->argc] = NULL;
	sp->curlen = 0;
	sp->in_word = 0;
	return 0;
}

static void put(struct split *sp, char c)
{
	sp->cur[sp->curlen++] = c;
	sp->in_word = 1;
}

/* At the opening '; consumes through the closing '. */
static int single_quoted(struct split *sp, char *err, size_t errlen)
{
	size_t open = sp->i++;

	sp->in_word = 1;
	for (; sp->s[sp->i] != '\''; sp->i++) {
		if (!sp->s[sp->i]) {
			set_err(err, errlen, "unterminated single quote at position %zu",
				open + 1);
			return -EINVAL;
		}
		put(sp, sp->s[sp->i]);
	}
	sp->i++;
	return 0;
}

/* At the opening "; consumes through the closing ". */
static int double_quoted(struct split *sp, char *err, size_t errlen)
{
	size_t open = sp->i++;
	char c;

	sp->in_word = 1;
	while ((c = sp->s[sp->i]) != '"') {
		if (!c) {
			set_err(err, errlen, "unterminated double quote at position %zu",
				open + 1);
			return -EINVAL;
		}
		if (c == '\\' && sp->s[sp->i + 1] &&
		    strchr("\\\"$`\n", sp->s[sp->i + 1])) {
			c = sp->s[++sp->i];
			sp->i++;
			if (c != '\n')   /* backslash-newline: continuation */
				put(sp, c);
			continue;
		}
		put(sp, c);
		sp->i++;
	}
	sp->i++;
	return 0;
}

/* At a backslash outside quotes. */
static int backslash(struct split *sp, char *err, size_t errlen)
{
	char c = sp->s[sp->i + 1];

	if (!c) {
		set_err(err, errlen, "trailing backslash at position %zu", sp->i + 1);
		return -EINVAL;
	}
	sp->i += 2;
	if (c != '\n')
		put(sp, c);
	return 0;
}

static int split_loop(struct split *sp, char *err, size_t errlen)
{
	int rc = 0;
	char c;

	while ((c = sp->s[sp->i]) && rc == 0) {
		if (c == ' ' || c == '\t' || c == '\n') {
			rc = end_word(sp);
			sp->i++;
		} else if (c == '\'') {
			rc = single_quoted(sp, err, errlen);
		} else if (c == '"') {
			rc = double_quoted(sp, err, errlen);
		} else if (c == '\\') {
			rc = backslash(sp, err, errlen);
		} else {
			put(sp, c);
			sp->i++;
		}
	}
	return rc ? rc : end_word(sp);
}

int shlex_split(const char *s, char ***argv, int *argc, char *err, size_t errlen)
{
	struct split sp = { .s = s };
	int rc;

	*argv = NULL;
	*argc = 0;
	/* A word is never longer than the input, so one buffer suffices. */
	sp.cur = malloc(strlen(s) + 1);
	if (!sp.cur)
		return -ENOMEM;
	rc = split_loop(&sp, err, errlen);
	if (rc == 0 && !sp.argv) {
		/* No words: still hand back a valid empty vector. */
		sp.argv = calloc(1, sizeof(*sp.argv));
		if (!sp.argv)
			rc = -ENOMEM;
	}
	free(sp.cur);
	if (rc < 0)
		goto error;
	*argv = sp.argv;
	*argc = sp.argc;
	return 0;
error:
	if (rc == -ENOMEM && err && errlen)
		snprintf(err, errlen, "out of memory");
	/* argv is NULL only while argc is 0; said here for clang's analyzer,
	 * which evaluates end_word conservatively and loses that */
	for (int k = 0; sp.argv && k < sp.argc; k++)
		free(sp.argv[k]);
	free(sp.argv);
	return rc;
}

void shlex_free(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}

/* Characters that never mean anything to sh in any position of a word. */
static int safe_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || (c && strchr("@%+=:,./_-", c));
}

char *shlex_quote(const char *word)
{
	size_t n = 0, quotes = 0, safe = 1;
	char *out, *o;

	for (const char *p = word; *p; p++, n++) {
		quotes += *p == '\'';
		safe = safe && safe_char(*p);
	}
	if (n && safe)
		return strdup(word);
	/* '...' with each ' written as '\'' (close, escaped quote, reopen). */
	out = malloc(n + 3 * quotes + 3);
	if (!out)
		return NULL;
	o = out;
	*o++ = '\'';
	for (const char *p = word; *p; p++) {
		if (*p == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *p;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

char *shlex_join(char *const *argv)
{
	size_t len = 0, used = 0;
	char *out = malloc(1), *q = NULL;

	if (!out)
		return NULL;
	out[0] = '\0';
	for (size_t k = 0; argv[k]; k++) {
		char *nout;
		size_t qn;

		q = shlex_quote(argv[k]);
		if (!q)
			goto error;
		qn = strlen(q);
		len = used + (k ? 1 : 0) + qn;
		nout = realloc(out, len + 1);
		if (!nout)
			goto error;
		out = nout;
		if (k)
			out[used++] = ' ';
		memcpy(out + used, q, qn + 1);
		used += qn;
		free(q);
		q = NULL;
	}
	return out;
error:
	free(q);
	free(out);
	return NULL;
}
