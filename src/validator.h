/*
 * validator.h -- DNSSEC validation with caches: one libunbound context per
 * worker, in event mode on the worker's libevent loop, forwarding to the
 * worker's relay, with the configured trust anchors; with prefetch a second
 * one, without message or RRset cache, refreshes popular answers.
 *
 * libunbound is only ever called asynchronously: a synchronous resolve
 * would wait for the relay that runs in this same loop, forever.
 */
#ifndef DS_VALIDATOR_H
#define DS_VALIDATOR_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct ds_config;
struct validator;

enum validator_verdict {
	VAL_INSECURE = 0,	/* answer, without AD */
	VAL_BOGUS = 1,		/* never to a client without CD */
	VAL_SECURE = 2,		/* answer, AD for DO or AD clients */
	VAL_FAILED = 3		/* no answer: rcode says which */
};

/*
 * Called once per validator_resolve() that returned 0, from the loop.
 * pkt/len hold libunbound's reply (ID 0, its own OPT, DNSSEC records
 * included) for VAL_INSECURE, VAL_SECURE and VAL_BOGUS, and are NULL/0 for
 * VAL_FAILED.  why is libunbound's reason for a bogus verdict (may be
 * NULL).  Nothing passed is valid after the callback returns.
 */
typedef void (*validator_done_fn)(void *arg, enum validator_verdict v,
    int rcode, const uint8_t *pkt, size_t len, const char *why);

/* Create a validator on base forwarding to relay_ip@relay_port, trusting
 * the anchors (zone-format DS/DNSKEY records, a NULL-terminated list that
 * must not be empty; copied).  Returns NULL after logging which libunbound
 * call failed. */
struct validator *validator_create(struct event_base *base,
    const struct ds_config *cfg, const char *relay_ip, unsigned relay_port,
    char *const *anchors);

/* Queries of v still waiting for libunbound. */
unsigned validator_inflight(const struct validator *v);

struct ub_ctx;
/* The settings every libunbound context of dotsecd shares (the validators'
 * and the anchor prober's): forward to the relay, and only there.
 * Returns 0, or -1 after logging. */
int validator_ub_setup(struct ub_ctx *ctx, const char *relay_ip,
    unsigned relay_port, unsigned timeout_ms);

/* A context of its own for dotsec-control explain: no event base (the
 * caller resolves synchronously, from a thread that is not the relay's),
 * no cache, the trust anchors given, val-log-level 2.  NULL after
 * logging; free with ub_ctx_delete. */
struct ub_ctx *validator_explain_context(const struct ds_config *cfg,
    const char *relay_ip, unsigned relay_port, char *const *anchors);

/* Free v.  Queries in flight are dropped without callbacks.  Never call it
 * from inside a validator callback.  Takes NULL. */
void validator_delete(struct validator *v);

/* Resolve and validate name (presentation format) / qtype, class IN.
 * Returns 0, or -1 after logging (cb is then never called).  An answer
 * from the cache calls cb before validator_resolve returns. */
int validator_resolve(struct validator *v, const char *name, uint16_t qtype,
    validator_done_fn cb, void *arg);

/* The same through the validator's refresh context (prefetch: on): its
 * forward zone has forward-no-cache, so the question always goes upstream
 * and the answer carries the upstream's TTLs, where libunbound's own cache
 * would hand back the copy it holds until that expires.  Only validated
 * keys are kept.  -1 without logging when there is no refresh context. */
int validator_refresh(struct validator *v, const char *name, uint16_t qtype,
    validator_done_fn cb, void *arg);

/* The RFC 8914 info-code that best describes libunbound's bogus reason
 * (DNS_EDE_DNSSEC_BOGUS when nothing more precise fits), and the part of
 * the reason worth showing a client (after the name and server address
 * libunbound prefixes).  why may be NULL. */
int validator_ede(const char *why);
const char *validator_reason(const char *why);

#endif /* DS_VALIDATOR_H */
