/*
 * dsconfig.h -- the configuration of dotsecd: a YAML file with Stubby's key
 * names where the two overlap, plus dotsec's own keys.
 *
 * Contract:
 *   - config_default() gives the built-in defaults (see conf/dotsecd.yml).
 *   - config_load()/config_parse() read a file or a buffer.  Every error is
 *     reported through the error callback as one line "FILE:LINE: message"
 *     (the line of the offending key or value, 1-based), and parsing goes on
 *     so that all errors of a file are reported in one run.  They return NULL
 *     when there was at least one error.
 *   - Unknown keys and values of the wrong type are errors naming the key.
 *   - Every returned config is freed with config_free(), which takes NULL.
 */
#ifndef DS_DSCONFIG_H
#define DS_DSCONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "acl.h"
#include "log.h"

/* One SPKI pin: digest is always "sha256", value is the base64 text. */
struct ds_pin {
	char *digest;
	char *value;
};

struct ds_upstream {
	char *address;		/* numeric IPv4 or IPv6 address, as written */
	struct sockaddr_storage addr;	/* address and tls_port */
	socklen_t addrlen;
	unsigned port;		/* tls_port, default 853 */
	char *auth_name;	/* tls_auth_name, NULL when absent */
	struct ds_pin *pins;	/* tls_pubkey_pinset */
	size_t npins;
};

/* How a forward zone's queries travel. */
enum ds_fwd_transport {
	DS_FWD_TLS = 0,		/* getdns strict DoT, like the default */
	DS_FWD_PLAIN		/* ordinary DNS: UDP, TCP on truncation */
};

/* A forward zone (forward_zones, and the files of include_dir): names at
 * and below name go to its own upstreams. */
struct ds_fwd_zone {
	char *name;		/* presentation form, lower case, with the
				   final dot ("corp.example.") */
	size_t line;		/* where it was defined, for messages */
	char *file;		/* the file it came from (not owned: the
				   config's path or an include's, kept in
				   ds_config.files) */
	struct ds_upstream *upstreams;	/* upstream_recursive_servers; for
				   plain, port is "port" (default 53) */
	size_t nupstreams;
	char *tls_ca_file;	/* NULL: the top level's tls_ca_file */
	enum ds_fwd_transport transport;	/* default DS_FWD_TLS */
	bool insecure;		/* dnssec: insecure (default validate) */
	char **trust_anchors;	/* DS/DNSKEY lines, NULL-terminated, or
				   NULL when none */
};

struct ds_listen {
	char *spec;		/* as written: "127.0.0.1@53", "0::1" */
	struct sockaddr_storage addr;
	socklen_t addrlen;
};

struct ds_config {
	char *path;			/* file it came from, or "(defaults)" */

	struct ds_listen *listen;	/* listen_addresses */
	size_t nlisten;
	/* The DoT listener (src/tlsserve.h): listen_tls_addresses (none by
	 * default), its certificate chain and key (PEM files), and the CA
	 * whose certificates clients must present (NULL: none asked). */
	struct ds_listen *listen_tls;
	size_t nlisten_tls;
	char *tls_service_pem;
	char *tls_service_key;
	char *tls_client_ca;
	unsigned tls_handshake_timeout_ms;	/* default 3000 */
	struct ds_upstream *upstreams;	/* upstream_recursive_servers */
	size_t nupstreams;

	bool round_robin;		/* round_robin_upstreams, default 1 */
	unsigned padding_blocksize;	/* tls_query_padding_blocksize, 128 */
	unsigned idle_timeout_ms;	/* idle_timeout (upstream), 60000 */
	unsigned timeout_ms;		/* timeout per query, 5000 */
	unsigned upstream_stall_ms;	/* upstream_stall_timeout: an upstream
					   that answers nothing this long (or
					   four times its smoothed RTT) while
					   queries wait is skipped; 500 */
	unsigned tls_backoff_time;	/* seconds, default 10 */
	unsigned tls_connection_retries;	/* default 2 */
	unsigned limit_outstanding_queries;	/* per worker, default 1000 */
	char *tls_ca_file;		/* NULL: the system's CA store */
	char *tls_ca_path;
	char *tls_min_version;		/* NULL, "GETDNS_TLS1_2" or "..1_3" */
	char *tls_max_version;		/* the same */

	char *trust_anchor_file;	/* default DS_DATADIR "/root.key" */
	char *state_dir;		/* default DS_STATEDIR */
	char *control_socket;		/* "": none; default
					   DS_RUNDIR/control.sock */
	char *user;			/* run as, after binding; "" keeps
					   root; default "dotsec" */
	/* RFC 5011 timers, seconds: 30 days, 30 days, 366 days, and a probe
	 * at least this often when non-zero (for tests). */
	unsigned anchor_add_holddown;
	unsigned anchor_del_holddown;
	unsigned anchor_keep_missing;
	unsigned anchor_probe_interval;
	/* RFC 7958 bootstrap of a missing state, instead of seeding from
	 * trust_anchor_file: a local file pair, else the URL (the signature
	 * at the same place with ".p7s" for ".xml"), verified with the CA
	 * file and the signer's e-mail. */
	bool anchor_bootstrap;		/* default 0 */
	char *anchor_bootstrap_xml;
	char *anchor_bootstrap_sig;
	char *anchor_bootstrap_url;	/* default IANA's https URL */
	char *anchor_bootstrap_ca;	/* default DS_DATADIR/icannbundle.pem */
	char *anchor_bootstrap_email;	/* default dnssec@iana.org */
	char *anchor_bootstrap_url_ca;	/* authenticates the https server;
					   NULL: the system's CA store */
	enum ds_log_level log_level;	/* log_level, default notice */
	unsigned edns_udp_size;		/* edns_udp_size, 1232 (512..4096) */
	unsigned workers;		/* 0: one per online CPU (the daemon
					   replaces 0 by the count) */

	/* libunbound's caches, shared out among the workers. */
	unsigned cache_size;		/* bytes in all, default 32 MiB */
	unsigned cache_min_ttl;		/* seconds, default 0 */
	unsigned cache_max_ttl;		/* seconds, default 86400 */
	bool prefetch;			/* refresh popular entries, 1 */
	bool serve_stale;		/* RFC 8767, default 0 */
	bool aggressive_nsec;		/* answers from validated NSEC3
					   (RFC 8198, src/synth.h), 1 */
	bool cache_persist;		/* answer cache kept over a restart
					   in state_dir/cache.dump, 0 */
	unsigned bogus_ttl;		/* remember a bogus verdict, 60 s */

	/* Who may ask (access_control), default 127.0.0.0/8 and ::1; others
	 * get REFUSED, or nothing over UDP with access_control_drop. */
	struct acl_prefix *acl;
	size_t nacl;
	/* access_control's client identities (DoT, src/acl.h), in order. */
	struct acl_identity *acl_ids;
	size_t nacl_ids;
	bool acl_drop;
	/* Per client address (IPv6: /64), shared out among the workers;
	 * 0: off (default).  Over it: dropped, or REFUSED with
	 * ratelimit_refuse. */
	char *query_log;		/* one line per query; NULL: off */
	char *metrics_address;		/* /metrics, /healthz; NULL: off */
	unsigned health_max_age;	/* s since an upstream answered, 60 */
	unsigned ratelimit_qps;
	bool ratelimit_refuse;

	unsigned tcp_idle_timeout_ms;	/* client TCP idle, default 10000 */
	unsigned tcp_max_connections;	/* per worker, default 1000 */
	unsigned tcp_max_inflight;	/* per TCP connection, default 100 */
	unsigned tcp_read_timeout_ms;	/* finish a started message, 3000 */
	unsigned so_rcvbuf;		/* UDP receive buffer, 0: the
					   system's default */
	unsigned max_inflight;		/* per worker, default 10000 */

	/* Confinement after start-up (src/sandbox.h). */
	bool sandbox;			/* default 1 */
	bool sandbox_log;		/* log denied calls, allow them; 0 */
	bool allow_core_dumps;		/* default 0: memory holds keys */

	/* Routing by domain (src/route.h).  Names are in presentation form,
	 * lower case, with the final dot. */
	struct ds_fwd_zone *fwd_zones;	/* forward_zones + include_dir */
	size_t nfwd_zones;
	char **domain_insecure;		/* negative trust anchors */
	size_t ndomain_insecure;
	char **local_zones_disable;	/* special-use zones not answered
					   locally */
	size_t nlocal_zones_disable;
	char *include_dir;		/* NULL: none */
	char **files;			/* the include files read, for
					   messages; NULL-terminated, NULL
					   when none was read */
};

/* The special-use zones dotsecd answers itself unless listed in
 * local_zones_disable (see dotsecd.yml(5)): presentation form, lower
 * case, with the final dot; NULL-terminated. */
extern const char *const ds_special_zones[];

/* Called once per error; line is "FILE:LINE: message" without newline. */
typedef void (*ds_config_err_fn)(void *arg, const char *line);

/* The built-in defaults.  Returns NULL only on allocation failure. */
struct ds_config *config_default(void);

/* Read and check the YAML file at path.  Keys that are absent keep their
 * defaults; listen_addresses and upstream_recursive_servers, when present,
 * replace the default lists.  With include_dir, every regular *.yml file
 * of that directory is read next, in strcmp() order; such a file may hold
 * only forward_zones and domain_insecure, whose entries are appended, and
 * its errors name it.  Returns NULL after reporting every error (including
 * "cannot open FILE: strerror") through err. */
struct ds_config *config_load(const char *path, ds_config_err_fn err,
    void *arg);

/* The same, then overlay (olen bytes; NULL: none) as one more include
 * file named CONFIG_OVERLAY_NAME: the forward zones and negative trust
 * anchors added at run time (dotsec-control). */
#define CONFIG_OVERLAY_NAME	"(added by dotsec-control)"
struct ds_config *config_load_overlay(const char *path, const char *overlay,
    size_t olen, ds_config_err_fn err, void *arg);

/* The same for a buffer; name is used in error lines in place of a file
 * name.  The buffer need not be NUL-terminated.  include_dir is honoured
 * as for a file. */
struct ds_config *config_parse(const char *text, size_t len, const char *name,
    ds_config_err_fn err, void *arg);

void config_free(struct ds_config *cfg);

/* Whether control_socket is the default path (whose failure is not
 * fatal: see main.c). */
bool config_is_default_control_socket(const struct ds_config *cfg);

/* The share of cache_size for the answer cache in front of libunbound
 * (a quarter); libunbound's caches get the rest. */
static inline unsigned
ds_answer_cache_bytes(const struct ds_config *cfg)
{
	return cfg->cache_size / 4;
}

/* The share of cache_size for the DS and DNSKEY replies that the workers'
 * relays share (a sixteenth), so that a zone's keys are fetched from the
 * upstream once, not once per worker. */
static inline unsigned
ds_key_cache_bytes(const struct ds_config *cfg)
{
	return cfg->cache_size / 16;
}

/* The share of cache_size for the validated NSEC3 records, SOAs and
 * wildcard RRsets that answers are made from (src/synth.h): a
 * thirty-second, even with aggressive_nsec off, so that turning it on at
 * a reload changes no other share. */
static inline unsigned
ds_synth_bytes(const struct ds_config *cfg)
{
	return cfg->cache_size / 32;
}

/* How long expired answers are kept for serve-stale (RFC 8767 suggests
 * one to three days). */
#define DS_STALE_MAX_SEC	86400u

/* Whether two upstream lists are the same, in order: address, port, auth
 * name and pins. */
bool config_upstreams_same(const struct ds_upstream *a, size_t na,
    const struct ds_upstream *b, size_t nb);

/* The SHA-256 (32 bytes, into out) of what the answers cached under cfg
 * depend on: the trust anchors in force (anchors: NULL-terminated
 * records, any order) and the settings that change answers: the
 * upstreams (address, port, auth name, in order), the forward zones
 * (name, upstreams, transport, dnssec, trust anchors), domain_insecure,
 * local_zones_disable, cache_min_ttl, cache_max_ttl and edns_udp_size.
 * Lists that are sets count whatever their order.  A dump of the answer
 * cache (cache_persist) is loaded only under the same fingerprint.
 * Returns 0, or -1 when out of memory. */
int config_answer_fingerprint(const struct ds_config *cfg,
    char *const *anchors, unsigned char out[32]);

/* Parse "ADDR", "ADDR@PORT" or "ADDR#PORT" (IPv4 or IPv6, numeric only)
 * into ss.  Returns 0, or -1 when the text is not such an address or the
 * port is out of 1..65535. */
int config_parse_addr(const char *text, unsigned default_port,
    struct sockaddr_storage *ss, socklen_t *len);

#endif /* DS_DSCONFIG_H */
