/*
 * log.c -- levels and messages of dotsecd.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"

static volatile int log_level = DS_LOG_NOTICE;

static const char *const ds_log_level_str[] = {
	"error", "warning", "notice", "info", "debug"
};

void
ds_log_set_level(enum ds_log_level level)
{
	log_level = level;
}

enum ds_log_level
ds_log_get_level(void)
{
	return (enum ds_log_level)log_level;
}

int
ds_log_level_parse(const char *name, enum ds_log_level *out)
{
	static const struct {
		const char *name;
		enum ds_log_level level;
	} names[] = {
		{ "error", DS_LOG_ERR }, { "err", DS_LOG_ERR },
		{ "warning", DS_LOG_WARN }, { "warn", DS_LOG_WARN },
		{ "notice", DS_LOG_NOTICE }, { "info", DS_LOG_INFO },
		{ "debug", DS_LOG_DEBUG },
		/* Stubby's spelling of the same levels. */
		{ "GETDNS_LOG_EMERG", DS_LOG_ERR },
		{ "GETDNS_LOG_ALERT", DS_LOG_ERR },
		{ "GETDNS_LOG_CRIT", DS_LOG_ERR },
		{ "GETDNS_LOG_ERR", DS_LOG_ERR },
		{ "GETDNS_LOG_WARNING", DS_LOG_WARN },
		{ "GETDNS_LOG_NOTICE", DS_LOG_NOTICE },
		{ "GETDNS_LOG_INFO", DS_LOG_INFO },
		{ "GETDNS_LOG_DEBUG", DS_LOG_DEBUG },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(name, names[i].name) == 0) {
			*out = names[i].level;
			return 0;
		}
	}
	return -1;
}

void
ds_vlog(enum ds_log_level level, const char *fmt, va_list ap)
{
	char line[1024];
	int n;

	if ((int)level > log_level)
		return;
	n = snprintf(line, sizeof(line), "dotsecd[%d]: %s: ", (int)getpid(),
	    ds_log_level_str[level]);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	/* One fprintf per line so that threads do not interleave. */
	fprintf(stderr, "%s\n", line);
}

void
ds_log(enum ds_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ds_vlog(level, fmt, ap);
	va_end(ap);
}

void
ds_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ds_vlog(DS_LOG_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}
