/* log.h — levelled logging to stderr: "2026-11-23T10:00:00.123Z INFO  msg". */
#ifndef JOBD_LOG_H
#define JOBD_LOG_H
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
extern int log_min_level;
int log_level_parse(const char *s);          /* -1 if unknown */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_debug(...) do { if (log_min_level <= LOG_DEBUG) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#endif
