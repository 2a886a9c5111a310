/* shlex.h — shell-word splitting (POSIX sh quoting rules, no expansion). */
#ifndef JOBD_SHLEX_H
#define JOBD_SHLEX_H
#include <stddef.h>

/* Splits `s` into words the way sh would, honouring '...', "...", and
 * backslash escapes, without any expansion.  On success *argv is a
 * NULL-terminated malloc'd vector (free with shlex_free) and *argc its
 * length.  Returns 0, -EINVAL (unterminated quote, trailing backslash;
 * err says which and where) or -ENOMEM. */
int shlex_split(const char *s, char ***argv, int *argc, char *err, size_t errlen);
void shlex_free(char **argv);

/* Quotes one word so shlex_split gives it back unchanged (for display). */
char *shlex_quote(const char *word);
/* Joins argv into one string of quoted words (malloc'd). */
char *shlex_join(char *const *argv);
#endif
