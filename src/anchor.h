/*
 * anchor.h -- the managed root trust anchor.
 *
 * The state file (state_dir/root.anchor) is libunbound's autotrust file.
 * At start it is read if it parses; a file that does not parse is kept
 * aside (renamed with a ".bad-TIME" suffix) and the anchor is seeded
 * again from trust_anchor_file.  dotsecd never runs without an anchor.
 *
 * libunbound never probes by itself: the manager resolves ". DNSKEY" on
 * the RFC 5011 schedule (the file's next_probe_time, or more often with
 * anchor_probe_interval) through a fresh short-lived libunbound context
 * that forwards through a worker's relay, so the probe leaves the host
 * over strict DoT like every other packet.  libunbound's autotrust state
 * machine rewrites the file; the manager then reads the trusted keys from
 * it and, when the set changed, hands it to every validator.
 */
#ifndef DS_ANCHOR_H
#define DS_ANCHOR_H

struct event_base;
struct ds_config;
struct anchor_mgr;

/* Called on the prober's loop with the new trusted set (a NULL-terminated
 * list of zone-format records, never empty); valid only during the call. */
typedef void (*anchor_changed_fn)(void *arg, char *const *set);

/* Check that cfg->state_dir exists (it is created if missing) and is
 * writable, load or seed the state file.  Returns NULL after logging
 * (with the directory or file) on failure.  cfg is kept: it must outlive
 * the manager. */
struct anchor_mgr *anchor_create(const struct ds_config *cfg);

/* The keys trusted now (not empty). */
char *const *anchor_trusted(const struct anchor_mgr *m);

/* Start probing on base through the relay at relay_ip@relay_port; changed
 * is called (on base's loop) each time the trusted set changes.  Returns 0
 * or -1 after logging. */
int anchor_start(struct anchor_mgr *m, struct event_base *base,
    const char *relay_ip, unsigned relay_port, anchor_changed_fn changed,
    void *arg);

/* Stop and free; call only when base's loop no longer runs.  Takes NULL. */
void anchor_delete(struct anchor_mgr *m);

struct stats_anchor;
/* The anchor's state for the metrics, from any thread. */
void anchor_info(const struct anchor_mgr *m, struct stats_anchor *out);

/* The path of the state file. */
const char *anchor_state_path(const struct anchor_mgr *m);

#endif /* DS_ANCHOR_H */
