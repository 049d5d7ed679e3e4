/*
 * runtime.h -- what dotsec-control adds to the configuration at run time:
 * negative trust anchors (RFC 7646), which expire, and forward zones.
 *
 * They are kept here, outside any configuration, and handed to the
 * configuration parser as one more include file (config_load_overlay), so
 * that they are checked like the file's own entries and survive a reload.
 */
#ifndef DS_RUNTIME_H
#define DS_RUNTIME_H

#include <stddef.h>
#include <time.h>

#define RUNTIME_NTA_DEFAULT	3600u		/* seconds */
#define RUNTIME_NTA_MAX		(7u * 86400)	/* a week, RFC 7646 */
#define RUNTIME_MAX_ENTRIES	256

struct runtime;
struct evbuffer;

struct runtime *runtime_create(void);
struct runtime *runtime_clone(const struct runtime *rt);
void runtime_delete(struct runtime *rt);

/* Add (or renew) a negative trust anchor for name, until now + secs.
 * Returns 0, or -1 with the reason in err. */
int runtime_nta_add(struct runtime *rt, const char *name, unsigned secs,
    time_t now, char *err, size_t errlen);
/* Remove one; -1 with err when there is none for name. */
int runtime_nta_remove(struct runtime *rt, const char *name, char *err,
    size_t errlen);
/* One line per anchor: name, seconds left, expiry time. */
void runtime_nta_list(const struct runtime *rt, time_t now,
    struct evbuffer *out);
/* Drop the anchors expired at now, logging each; returns how many. */
size_t runtime_nta_expire(struct runtime *rt, time_t now);
/* The earliest expiry, 0 when there is no anchor. */
time_t runtime_nta_next(const struct runtime *rt);

/* forward add NAME SERVER... [--plain] [--insecure] [--ca FILE]; each
 * SERVER is ADDR[@PORT][#AUTHNAME].  args are the words after "add".
 * Replaces an earlier runtime zone of the same name.  Returns 0, or -1
 * with the reason in err (the parser checks the rest on apply). */
int runtime_fwd_add(struct runtime *rt, int argc, char **args, char *err,
    size_t errlen);
int runtime_fwd_remove(struct runtime *rt, const char *name, char *err,
    size_t errlen);

/* The YAML of every runtime entry (forward_zones, domain_insecure), for
 * config_load_overlay; malloc'd, *len its length (0: nothing). */
char *runtime_overlay(const struct runtime *rt, size_t *len);

#endif /* DS_RUNTIME_H */
