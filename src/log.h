/*
 * log.h -- levels and messages of dotsecd.
 *
 * Every message goes to stderr as one line: "dotsecd[pid]: LEVEL: text".
 * The functions are safe to call from any worker thread.
 */
#ifndef DS_LOG_H
#define DS_LOG_H

#include <stdarg.h>

enum ds_log_level {
	DS_LOG_ERR = 0,
	DS_LOG_WARN,
	DS_LOG_NOTICE,
	DS_LOG_INFO,
	DS_LOG_DEBUG
};

/* Set the most verbose level printed (default DS_LOG_NOTICE). */
void ds_log_set_level(enum ds_log_level level);
enum ds_log_level ds_log_get_level(void);

/* Parse "error", "warning", "notice", "info", "debug" (and the syslog style
 * names "err", "warn", "GETDNS_LOG_ERR" ... as Stubby writes them).
 * Returns 0 and sets *out, or -1 when the name is unknown. */
int ds_log_level_parse(const char *name, enum ds_log_level *out);

void ds_log(enum ds_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ds_vlog(enum ds_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#define ds_err(...)	ds_log(DS_LOG_ERR, __VA_ARGS__)
#define ds_warn(...)	ds_log(DS_LOG_WARN, __VA_ARGS__)
#define ds_notice(...)	ds_log(DS_LOG_NOTICE, __VA_ARGS__)
#define ds_info(...)	ds_log(DS_LOG_INFO, __VA_ARGS__)
#define ds_debug(...)	ds_log(DS_LOG_DEBUG, __VA_ARGS__)

/* Log at DS_LOG_ERR and exit(1).  Only for start-up and broken invariants,
 * never on the query path. */
void ds_fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

#endif /* DS_LOG_H */
