/*
 * check_config.c -- unit tests of the configuration reader (dsconfig.h):
 * defaults, every key's values and ranges, error lines, Stubby
 * compatibility, addresses, pins, and the shipped conf/dotsecd.yml.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dsconfig.h"
#include "log.h"
#include "suites.h"

#define NELEMS(a)	(sizeof(a) / sizeof((a)[0]))

/* A valid pin: base64 of 32 bytes. */
#define PIN	"yioEpqeR4WtDwE9YxNVnCEkTxIjx6EEIwFSQW+lJsbc="

/* Every error line of one parse, each followed by a newline. */
struct errs {
	char text[8192];
	size_t len;
	unsigned n;
};

static void
collect(void *arg, const char *line)
{
	struct errs *e = arg;
	size_t n = strlen(line);

	e->n++;
	if (e->len + n + 2 > sizeof(e->text))
		return;
	memcpy(e->text + e->len, line, n);
	e->len += n;
	e->text[e->len++] = '\n';
	e->text[e->len] = '\0';
}

static struct ds_config *
parse(const char *text, struct errs *e)
{
	memset(e, 0, sizeof(*e));
	return config_parse(text, strlen(text), "t.yml", collect, e);
}

/* Parse text that must be accepted. */
static struct ds_config *
parse_ok(const char *text, const char *what)
{
	struct ds_config *cfg;
	struct errs e;

	cfg = parse(text, &e);
	ck_assert_msg(cfg != NULL && e.n == 0,
	    "%s: expected no error, got %u:\n%s", what, e.n, e.text);
	return cfg;
}

/* Parse text that must be refused with exactly one error containing
 * expect (which starts with "t.yml:LINE:" to pin the line). */
static void
parse_err(const char *text, const char *expect, const char *what)
{
	struct ds_config *cfg;
	struct errs e;

	cfg = parse(text, &e);
	ck_assert_msg(cfg == NULL, "%s: expected NULL for an error", what);
	ck_assert_msg(e.n == 1, "%s: expected 1 error, got %u:\n%s", what,
	    e.n, e.text);
	ck_assert_msg(strstr(e.text, expect) != NULL,
	    "%s: expected '%s' in:\n%s", what, expect, e.text);
}

/*
 * stderr capture, for the warnings that go through ds_warn.  Each test
 * runs in its own process (CK_FORK), so redirecting fd 2 is harmless.
 */

struct capture {
	FILE *file;
	int saved;
};

static void
capture_start(struct capture *cap)
{
	fflush(stderr);
	cap->file = tmpfile();
	ck_assert_msg(cap->file != NULL, "capture_start: tmpfile failed");
	cap->saved = dup(STDERR_FILENO);
	ck_assert_msg(cap->saved >= 0, "capture_start: dup failed");
	ck_assert_msg(dup2(fileno(cap->file), STDERR_FILENO) >= 0,
	    "capture_start: dup2 failed");
}

static void
capture_end(struct capture *cap, char *out, size_t size)
{
	size_t n;

	fflush(stderr);
	ck_assert_msg(dup2(cap->saved, STDERR_FILENO) >= 0,
	    "capture_end: dup2 failed");
	close(cap->saved);
	rewind(cap->file);
	n = fread(out, 1, size - 1, cap->file);
	out[n] = '\0';
	fclose(cap->file);
}

/*
 * Helpers on addresses.
 */

static unsigned
port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* The address of ss as text, without the port. */
static const char *
ip_of(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	const void *a;

	if (ss->ss_family == AF_INET)
		a = &((const struct sockaddr_in *)ss)->sin_addr;
	else
		a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
	if (inet_ntop(ss->ss_family, a, buf, (socklen_t)size) == NULL)
		return "?";
	return buf;
}

static void
check_sockaddr(const struct sockaddr_storage *ss, socklen_t len, int family,
    const char *ip, unsigned port, const char *what)
{
	char buf[INET6_ADDRSTRLEN];

	ck_assert_msg(ss->ss_family == family, "%s: family %d, want %d",
	    what, ss->ss_family, family);
	ck_assert_msg(len == (family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)),
	    "%s: wrong address length %u", what, (unsigned)len);
	ck_assert_msg(strcmp(ip_of(ss, buf, sizeof(buf)), ip) == 0,
	    "%s: address %s, want %s", what, buf, ip);
	ck_assert_msg(port_of(ss) == port, "%s: port %u, want %u", what,
	    port_of(ss), port);
}

/*
 * Comparison of a whole config with the defaults.
 */

static void
check_str_eq(const char *got, const char *want, const char *what,
    const char *field)
{
	if (want == NULL) {
		ck_assert_msg(got == NULL, "%s: %s is '%s', want absent",
		    what, field, got);
		return;
	}
	ck_assert_msg(got != NULL && strcmp(got, want) == 0,
	    "%s: %s is '%s', want '%s'", what, field,
	    got != NULL ? got : "(null)", want);
}

static void
check_same_as_defaults(const struct ds_config *cfg, const char *what)
{
	struct ds_config *def;
	size_t i;

	def = config_default();
	ck_assert_msg(def != NULL, "%s: config_default failed", what);

#define SAME(f)	ck_assert_msg(cfg->f == def->f, \
	    "%s: " #f " is %u, want %u", what, (unsigned)cfg->f, \
	    (unsigned)def->f)
	SAME(round_robin);
	SAME(padding_blocksize);
	SAME(idle_timeout_ms);
	SAME(timeout_ms);
	SAME(tls_backoff_time);
	SAME(tls_connection_retries);
	SAME(limit_outstanding_queries);
	SAME(log_level);
	SAME(edns_udp_size);
	SAME(workers);
	SAME(anchor_add_holddown);
	SAME(anchor_del_holddown);
	SAME(anchor_keep_missing);
	SAME(anchor_probe_interval);
	SAME(cache_size);
	SAME(cache_min_ttl);
	SAME(cache_max_ttl);
	SAME(prefetch);
	SAME(serve_stale);
	SAME(aggressive_nsec);
	SAME(cache_persist);
	SAME(bogus_ttl);
	SAME(tcp_idle_timeout_ms);
	SAME(tcp_max_connections);
	SAME(tcp_max_inflight);
	SAME(tcp_read_timeout_ms);
	SAME(so_rcvbuf);
	SAME(health_max_age);
	SAME(max_inflight);
	SAME(nlisten);
	SAME(nupstreams);
#undef SAME
	check_str_eq(cfg->tls_ca_file, def->tls_ca_file, what, "tls_ca_file");
	check_str_eq(cfg->anchor_bootstrap_url, def->anchor_bootstrap_url,
	    what, "anchor_bootstrap_url");
	check_str_eq(cfg->anchor_bootstrap_email, def->anchor_bootstrap_email,
	    what, "anchor_bootstrap_email");
	ck_assert_msg(cfg->anchor_bootstrap == def->anchor_bootstrap,
	    "%s: anchor_bootstrap differs", what);
	check_str_eq(cfg->tls_ca_path, def->tls_ca_path, what, "tls_ca_path");
	check_str_eq(cfg->tls_min_version, def->tls_min_version, what,
	    "tls_min_version");
	check_str_eq(cfg->trust_anchor_file, def->trust_anchor_file, what,
	    "trust_anchor_file");

	for (i = 0; i < def->nlisten; i++) {
		ck_assert_msg(cfg->listen[i].addrlen ==
		    def->listen[i].addrlen && memcmp(&cfg->listen[i].addr,
		    &def->listen[i].addr, def->listen[i].addrlen) == 0,
		    "%s: listen address %zu (%s) differs from the default "
		    "%s", what, i, cfg->listen[i].spec, def->listen[i].spec);
	}
	for (i = 0; i < def->nupstreams; i++) {
		const struct ds_upstream *u = &cfg->upstreams[i];
		const struct ds_upstream *d = &def->upstreams[i];

		check_str_eq(u->address, d->address, what, "upstream address");
		check_str_eq(u->auth_name, d->auth_name, what,
		    "upstream tls_auth_name");
		ck_assert_msg(u->port == d->port && u->addrlen == d->addrlen &&
		    memcmp(&u->addr, &d->addr, d->addrlen) == 0,
		    "%s: upstream %zu address or port differs", what, i);
		ck_assert_msg(u->npins == d->npins,
		    "%s: upstream %zu has %zu pins, want %zu", what, i,
		    u->npins, d->npins);
	}
	config_free(def);
}

/*
 * Defaults.
 */

START_TEST(test_default)
{
	struct ds_config *cfg;
	static const struct {
		const char *address;
		int family;
		const char *name;
	} ups[] = {
		{ "9.9.9.9", AF_INET, "dns.quad9.net" },
		{ "2620:fe::fe", AF_INET6, "dns.quad9.net" },
		{ "1.1.1.1", AF_INET, "cloudflare-dns.com" },
		{ "2606:4700:4700::1111", AF_INET6, "cloudflare-dns.com" },
	};
	size_t i;

	cfg = config_default();
	ck_assert_msg(cfg != NULL, "config_default: returned NULL");
	check_str_eq(cfg->path, "(defaults)", "config_default", "path");
	ck_assert_msg(cfg->nlisten == 2, "config_default: %zu listen "
	    "addresses, want 2", cfg->nlisten);
	check_sockaddr(&cfg->listen[0].addr, cfg->listen[0].addrlen, AF_INET,
	    "127.0.0.1", 53, "config_default: listen 0");
	check_sockaddr(&cfg->listen[1].addr, cfg->listen[1].addrlen,
	    AF_INET6, "::1", 53, "config_default: listen 1");
	check_str_eq(cfg->listen[0].spec, "127.0.0.1@53", "config_default",
	    "listen 0 spec");

	ck_assert_msg(cfg->nupstreams == NELEMS(ups), "config_default: %zu "
	    "upstreams, want %zu", cfg->nupstreams, NELEMS(ups));
	for (i = 0; i < NELEMS(ups); i++) {
		check_str_eq(cfg->upstreams[i].address, ups[i].address,
		    "config_default", "upstream address");
		check_str_eq(cfg->upstreams[i].auth_name, ups[i].name,
		    "config_default", "upstream tls_auth_name");
		ck_assert_msg(cfg->upstreams[i].port == 853,
		    "config_default: upstream %zu port %u, want 853", i,
		    cfg->upstreams[i].port);
		check_sockaddr(&cfg->upstreams[i].addr,
		    cfg->upstreams[i].addrlen, ups[i].family, ups[i].address,
		    853, "config_default: upstream sockaddr");
		ck_assert_msg(cfg->upstreams[i].npins == 0,
		    "config_default: upstream %zu has pins", i);
	}

	ck_assert_msg(cfg->round_robin, "config_default: round_robin off");
	ck_assert_msg(cfg->padding_blocksize == 128,
	    "config_default: padding %u", cfg->padding_blocksize);
	ck_assert_msg(cfg->idle_timeout_ms == 60000,
	    "config_default: idle_timeout %u", cfg->idle_timeout_ms);
	ck_assert_msg(cfg->timeout_ms == 5000, "config_default: timeout %u",
	    cfg->timeout_ms);
	ck_assert_msg(cfg->tls_backoff_time == 10,
	    "config_default: tls_backoff_time %u", cfg->tls_backoff_time);
	ck_assert_msg(cfg->tls_connection_retries == 2,
	    "config_default: tls_connection_retries %u",
	    cfg->tls_connection_retries);
	ck_assert_msg(cfg->limit_outstanding_queries == 1000,
	    "config_default: limit_outstanding_queries %u",
	    cfg->limit_outstanding_queries);
	ck_assert_msg(cfg->tls_ca_file == NULL && cfg->tls_ca_path == NULL &&
	    cfg->tls_min_version == NULL,
	    "config_default: TLS CA or version set");
#ifdef DS_DATADIR
	check_str_eq(cfg->trust_anchor_file, DS_DATADIR "/root.key",
	    "config_default", "trust_anchor_file");
#else
	ck_assert_msg(cfg->trust_anchor_file != NULL &&
	    strlen(cfg->trust_anchor_file) > 9 &&
	    strcmp(cfg->trust_anchor_file +
	    strlen(cfg->trust_anchor_file) - 9, "/root.key") == 0,
	    "config_default: trust_anchor_file '%s' is not .../root.key",
	    cfg->trust_anchor_file);
#endif
	ck_assert_msg(cfg->log_level == DS_LOG_NOTICE,
	    "config_default: log_level %d", (int)cfg->log_level);
	ck_assert_msg(cfg->edns_udp_size == 1232,
	    "config_default: edns_udp_size %u", cfg->edns_udp_size);
	ck_assert_msg(cfg->workers == 0, "config_default: workers %u",
	    cfg->workers);
	ck_assert_msg(cfg->tcp_idle_timeout_ms == 10000,
	    "config_default: tcp_idle_timeout %u", cfg->tcp_idle_timeout_ms);
	ck_assert_msg(cfg->tcp_max_connections == 1000,
	    "config_default: tcp_max_connections %u",
	    cfg->tcp_max_connections);
	ck_assert_msg(cfg->tcp_max_inflight == 100,
	    "config_default: tcp_max_inflight %u", cfg->tcp_max_inflight);
	ck_assert_msg(cfg->cache_size == 32u * 1024 * 1024 &&
	    cfg->cache_min_ttl == 0 && cfg->cache_max_ttl == 86400 &&
	    cfg->prefetch && !cfg->serve_stale && !cfg->cache_persist &&
	    cfg->aggressive_nsec && cfg->bogus_ttl == 60,
	    "config_default: cache defaults");
	ck_assert_msg(cfg->anchor_add_holddown == 2592000 &&
	    cfg->anchor_del_holddown == 2592000 &&
	    cfg->anchor_keep_missing == 31622400 &&
	    cfg->anchor_probe_interval == 0 && cfg->state_dir != NULL,
	    "config_default: RFC 5011 timers 30 d, 30 d, 366 d, no probe "
	    "interval, a state_dir");
	ck_assert_msg(cfg->user != NULL && strcmp(cfg->user, "dotsec") == 0,
	    "config_default: user dotsec");
	ck_assert_msg(cfg->fwd_zones == NULL && cfg->nfwd_zones == 0 &&
	    cfg->domain_insecure == NULL && cfg->ndomain_insecure == 0 &&
	    cfg->local_zones_disable == NULL &&
	    cfg->nlocal_zones_disable == 0 && cfg->include_dir == NULL &&
	    cfg->files == NULL, "config_default: no routing keys set");
	config_free(cfg);
}
END_TEST

/* Texts with no keys at all mean "all defaults". */
static const char *const empty_texts[] = {
	"",
	"# only a comment\n\n",
	"---\n",
	"---\n...\n",
	"~\n",
};

START_TEST(test_empty)
{
	struct ds_config *cfg;
	char what[80];

	snprintf(what, sizeof(what), "config_parse: empty text %d", _i);
	cfg = parse_ok(empty_texts[_i], what);
	check_same_as_defaults(cfg, what);
	check_str_eq(cfg->path, "t.yml", what, "path");
	config_free(cfg);
}
END_TEST

START_TEST(test_null_text)
{
	struct ds_config *cfg;
	struct errs e;

	memset(&e, 0, sizeof(e));
	cfg = config_parse(NULL, 0, "t.yml", collect, &e);
	ck_assert_msg(cfg != NULL && e.n == 0,
	    "config_parse: NULL text of length 0 -> defaults");
	check_same_as_defaults(cfg, "config_parse: NULL text");
	config_free(cfg);
}
END_TEST

/* The buffer need not be NUL-terminated: only len bytes count. */
START_TEST(test_not_terminated)
{
	static const char text[] = "timeout: 250garbage";
	struct ds_config *cfg;
	struct errs e;

	memset(&e, 0, sizeof(e));
	cfg = config_parse(text, strlen("timeout: 250"), "t.yml", collect,
	    &e);
	ck_assert_msg(cfg != NULL, "config_parse: buffer cut at len -> "
	    "accepted, got:\n%s", e.text);
	ck_assert_msg(cfg->timeout_ms == 250, "config_parse: buffer cut at "
	    "len -> timeout 250, got %u", cfg->timeout_ms);
	config_free(cfg);
}
END_TEST

/*
 * A complete Stubby-style file.
 */

static const char stubby_file[] =
    "resolution_type: GETDNS_RESOLUTION_STUB\n"
    "dns_transport_list:\n"
    "  - GETDNS_TRANSPORT_TLS\n"
    "tls_authentication: GETDNS_AUTHENTICATION_REQUIRED\n"
    "tls_query_padding_blocksize: 256\n"
    "edns_client_subnet_private : 1\n"
    "round_robin_upstreams: 0\n"
    "idle_timeout: 20000\n"
    "timeout: 3000\n"
    "tls_backoff_time: 300\n"
    "tls_connection_retries: 5\n"
    "limit_outstanding_queries: 100\n"
    "tls_ca_file: \"/etc/ssl/certs/ca-certificates.crt\"\n"
    "tls_ca_path: /etc/ssl/certs\n"
    "tls_min_version: GETDNS_TLS1_3\n"
    "trust_anchor_file: /var/lib/dotsec/root.key\n"
    "log_level: GETDNS_LOG_DEBUG\n"
    "edns_udp_size: 1400\n"
    "workers: 4\n"
    "tcp_idle_timeout: 30000\n"
    "tcp_max_connections: 200\n"
    "tcp_max_inflight: 16\n"
    "listen_addresses:\n"
    "  - 127.0.0.1\n"
    "  - 0::1@5353\n"
    "  - 192.0.2.1#8053\n"
    "upstream_recursive_servers:\n"
    "  - address_data: 145.100.185.15\n"
    "    tls_auth_name: \"dnsovertls.sinodun.com\"\n"
    "    tls_pubkey_pinset:\n"
    "      - digest: \"sha256\"\n"
    "        value: " PIN "\n"
    "      - digest: sha256\n"
    "        value: \"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\"\n"
    "  - address_data: 2001:610:1:40ba:145:100:185:16\n"
    "    tls_port: 443\n"
    "    tls_pubkey_pinset: [{digest: sha256, value: " PIN "}]\n";

START_TEST(test_full_stubby)
{
	struct ds_config *cfg;
	struct capture cap;
	char out[4096];
	const struct ds_upstream *u;

	capture_start(&cap);
	cfg = parse_ok(stubby_file, "config_parse: full stubby file");
	capture_end(&cap, out, sizeof(out));

	ck_assert_msg(strstr(out, "t.yml:6: ignoring "
	    "'edns_client_subnet_private'") != NULL,
	    "config_parse: full stubby file -> warning for line 6, got:\n%s",
	    out);
	check_str_eq(cfg->path, "t.yml", "config_parse: full stubby file",
	    "path");
	ck_assert_msg(cfg->padding_blocksize == 256 && !cfg->round_robin &&
	    cfg->idle_timeout_ms == 20000 && cfg->timeout_ms == 3000 &&
	    cfg->tls_backoff_time == 300 && cfg->tls_connection_retries == 5 &&
	    cfg->limit_outstanding_queries == 100 &&
	    cfg->log_level == DS_LOG_DEBUG && cfg->edns_udp_size == 1400 &&
	    cfg->workers == 4 && cfg->tcp_idle_timeout_ms == 30000 &&
	    cfg->tcp_max_connections == 200 && cfg->tcp_max_inflight == 16,
	    "config_parse: full stubby file -> a number differs");
	check_str_eq(cfg->tls_ca_file, "/etc/ssl/certs/ca-certificates.crt",
	    "config_parse: full stubby file", "tls_ca_file");
	check_str_eq(cfg->tls_ca_path, "/etc/ssl/certs",
	    "config_parse: full stubby file", "tls_ca_path");
	check_str_eq(cfg->tls_min_version, "GETDNS_TLS1_3",
	    "config_parse: full stubby file", "tls_min_version");
	check_str_eq(cfg->trust_anchor_file, "/var/lib/dotsec/root.key",
	    "config_parse: full stubby file", "trust_anchor_file");

	ck_assert_msg(cfg->nlisten == 3, "config_parse: full stubby file -> "
	    "3 listen addresses, got %zu", cfg->nlisten);
	check_sockaddr(&cfg->listen[0].addr, cfg->listen[0].addrlen, AF_INET,
	    "127.0.0.1", 53, "config_parse: full stubby file listen 0");
	check_sockaddr(&cfg->listen[1].addr, cfg->listen[1].addrlen,
	    AF_INET6, "::1", 5353, "config_parse: full stubby file listen 1");
	check_sockaddr(&cfg->listen[2].addr, cfg->listen[2].addrlen, AF_INET,
	    "192.0.2.1", 8053, "config_parse: full stubby file listen 2");
	check_str_eq(cfg->listen[1].spec, "0::1@5353",
	    "config_parse: full stubby file", "listen 1 spec");

	ck_assert_msg(cfg->nupstreams == 2, "config_parse: full stubby file "
	    "-> 2 upstreams, got %zu", cfg->nupstreams);
	u = &cfg->upstreams[0];
	check_str_eq(u->address, "145.100.185.15",
	    "config_parse: full stubby file", "upstream 0 address");
	check_str_eq(u->auth_name, "dnsovertls.sinodun.com",
	    "config_parse: full stubby file", "upstream 0 tls_auth_name");
	check_sockaddr(&u->addr, u->addrlen, AF_INET, "145.100.185.15", 853,
	    "config_parse: full stubby file upstream 0");
	ck_assert_msg(u->npins == 2, "config_parse: full stubby file -> "
	    "upstream 0 has 2 pins, got %zu", u->npins);
	check_str_eq(u->pins[0].digest, "sha256",
	    "config_parse: full stubby file", "pin 0 digest");
	check_str_eq(u->pins[0].value, PIN, "config_parse: full stubby file",
	    "pin 0 value");
	check_str_eq(u->pins[1].value,
	    "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
	    "config_parse: full stubby file", "pin 1 value");
	u = &cfg->upstreams[1];
	ck_assert_msg(u->auth_name == NULL, "config_parse: full stubby file "
	    "-> upstream 1 has no tls_auth_name");
	ck_assert_msg(u->port == 443, "config_parse: full stubby file -> "
	    "upstream 1 tls_port 443, got %u", u->port);
	check_sockaddr(&u->addr, u->addrlen, AF_INET6,
	    "2001:610:1:40ba:145:100:185:16", 443,
	    "config_parse: full stubby file upstream 1");
	ck_assert_msg(u->npins == 1, "config_parse: full stubby file -> "
	    "upstream 1 has 1 pin, got %zu", u->npins);
	config_free(cfg);
}
END_TEST

/*
 * Numeric keys: bounds, just outside them, and values that are no number.
 */

static const struct {
	const char *key;
	size_t offset;
	unsigned long min, max;
} num_keys[] = {
	{ "tls_query_padding_blocksize",
	    offsetof(struct ds_config, padding_blocksize), 0, 512 },
	{ "idle_timeout", offsetof(struct ds_config, idle_timeout_ms),
	    0, 3600000 },
	{ "timeout", offsetof(struct ds_config, timeout_ms), 1, 60000 },
	{ "tls_backoff_time", offsetof(struct ds_config, tls_backoff_time),
	    0, 86400 },
	{ "tls_connection_retries",
	    offsetof(struct ds_config, tls_connection_retries), 0, 100 },
	{ "limit_outstanding_queries",
	    offsetof(struct ds_config, limit_outstanding_queries),
	    1, 1000000 },
	{ "edns_udp_size", offsetof(struct ds_config, edns_udp_size),
	    512, 4096 },
	{ "workers", offsetof(struct ds_config, workers), 0, 64 },
	{ "cache_size", offsetof(struct ds_config, cache_size), 1048576,
	    2147483647 },
	{ "cache_min_ttl", offsetof(struct ds_config, cache_min_ttl), 0,
	    86400 },
	{ "cache_max_ttl", offsetof(struct ds_config, cache_max_ttl), 1,
	    604800 },
	{ "bogus_ttl", offsetof(struct ds_config, bogus_ttl), 0, 3600 },
	{ "anchor_add_holddown",
	    offsetof(struct ds_config, anchor_add_holddown), 1, 31622400 },
	{ "anchor_del_holddown",
	    offsetof(struct ds_config, anchor_del_holddown), 1, 31622400 },
	{ "anchor_keep_missing",
	    offsetof(struct ds_config, anchor_keep_missing), 1, 63244800 },
	{ "anchor_probe_interval",
	    offsetof(struct ds_config, anchor_probe_interval), 0, 2592000 },
	{ "tcp_idle_timeout", offsetof(struct ds_config, tcp_idle_timeout_ms),
	    1, 3600000 },
	{ "tcp_max_connections",
	    offsetof(struct ds_config, tcp_max_connections), 1, 65535 },
	{ "tcp_max_inflight", offsetof(struct ds_config, tcp_max_inflight),
	    1, 65535 },
	{ "tcp_read_timeout", offsetof(struct ds_config, tcp_read_timeout_ms),
	    1, 60000 },
	{ "so_rcvbuf", offsetof(struct ds_config, so_rcvbuf), 0, 268435456 },
	{ "max_inflight", offsetof(struct ds_config, max_inflight), 1,
	    1000000 },
};

static void
num_accepted(const char *key, size_t offset, unsigned long v)
{
	struct ds_config *cfg;
	char text[128], what[128];
	unsigned got;

	snprintf(text, sizeof(text), "# comment\n%s: %lu\n", key, v);
	snprintf(what, sizeof(what), "config_parse: %s %lu -> accepted", key,
	    v);
	cfg = parse_ok(text, what);
	memcpy(&got, (char *)cfg + offset, sizeof(got));
	ck_assert_msg(got == v, "%s: stored %u", what, got);
	config_free(cfg);
}

static void
num_refused(const char *key, const char *value)
{
	char text[128], expect[128], what[128];

	snprintf(text, sizeof(text), "# comment\n%s: %s\n", key, value);
	snprintf(expect, sizeof(expect), "t.yml:2: '%s' ", key);
	snprintf(what, sizeof(what), "config_parse: %s '%s' -> error at "
	    "line 2", key, value);
	parse_err(text, expect, what);
}

START_TEST(test_numbers)
{
	const char *key = num_keys[_i].key;
	unsigned long min = num_keys[_i].min, max = num_keys[_i].max;
	char v[32];

	num_accepted(key, num_keys[_i].offset, min);
	num_accepted(key, num_keys[_i].offset, max);
	num_accepted(key, num_keys[_i].offset, (min + max) / 2);
	if (min > 0) {
		snprintf(v, sizeof(v), "%lu", min - 1);
		num_refused(key, v);
	}
	snprintf(v, sizeof(v), "%lu", max + 1);
	num_refused(key, v);
	num_refused(key, "-1");
	num_refused(key, "abc");
	num_refused(key, "1.5");
	num_refused(key, "0x10");
	num_refused(key, "99999999999999999999999999");
	num_refused(key, "\"\"");
	num_refused(key, "[1]");
	num_refused(key, "{a: 1}");
}
END_TEST

START_TEST(test_number_errors)
{
	/* An absent value is reported at its key's line, not at the next
	 * token's. */
	parse_err("timeout:\nworkers: 2\n", "t.yml:1: 'timeout' needs a value",
	    "config_parse: timeout without value -> error at line 1");
	parse_err("workers:\n  - 1\n", "t.yml:2: 'workers' must be a number, "
	    "not a list", "config_parse: workers list -> error at line 2");
	parse_err("timeout: 70000\n",
	    "t.yml:1: 'timeout' must be a whole number in 1..60000, not "
	    "'70000'", "config_parse: timeout 70000 -> message with range");
}
END_TEST

START_TEST(test_bool)
{
	static const struct {
		const char *value;
		bool want;
	} ok[] = {
		{ "0", false }, { "1", true }, { "true", true },
		{ "false", false }, { "True", true }, { "FALSE", false },
	};
	static const char *const bad[] = { "2", "yes", "on", "-1", "[1]" };
	struct ds_config *cfg;
	char text[64], what[96];
	size_t i;

	for (i = 0; i < NELEMS(ok); i++) {
		snprintf(text, sizeof(text), "round_robin_upstreams: %s\n",
		    ok[i].value);
		snprintf(what, sizeof(what), "config_parse: "
		    "round_robin_upstreams %s", ok[i].value);
		cfg = parse_ok(text, what);
		ck_assert_msg(cfg->round_robin == ok[i].want, "%s -> %d", what,
		    ok[i].want);
		config_free(cfg);
	}
	for (i = 0; i < NELEMS(bad); i++) {
		snprintf(text, sizeof(text), "\nround_robin_upstreams: %s\n",
		    bad[i]);
		snprintf(what, sizeof(what), "config_parse: "
		    "round_robin_upstreams %s -> error at line 2", bad[i]);
		parse_err(text, "t.yml:2: 'round_robin_upstreams' must be",
		    what);
	}
}
END_TEST

START_TEST(test_strings)
{
	static const char *const keys[] = {
		"tls_ca_file", "tls_ca_path", "trust_anchor_file"
	};
	struct ds_config *cfg;
	char text[128], expect[128], what[128];
	size_t i;

	for (i = 0; i < NELEMS(keys); i++) {
		snprintf(text, sizeof(text), "%s: /x/y\n%s: /z\n", keys[i],
		    keys[i]);
		snprintf(what, sizeof(what), "config_parse: %s twice -> "
		    "duplicate at line 2", keys[i]);
		snprintf(expect, sizeof(expect), "t.yml:2: duplicate key "
		    "'%s'", keys[i]);
		parse_err(text, expect, what);

		snprintf(text, sizeof(text), "%s: {a: b}\n", keys[i]);
		snprintf(what, sizeof(what), "config_parse: %s map -> error",
		    keys[i]);
		snprintf(expect, sizeof(expect), "t.yml:1: '%s' must be a "
		    "string, not a map", keys[i]);
		parse_err(text, expect, what);

		snprintf(text, sizeof(text), "%s: [a]\n", keys[i]);
		snprintf(what, sizeof(what), "config_parse: %s list -> error",
		    keys[i]);
		snprintf(expect, sizeof(expect), "t.yml:1: '%s' must be a "
		    "string, not a list", keys[i]);
		parse_err(text, expect, what);

		snprintf(text, sizeof(text), "%s: \"\"\n", keys[i]);
		snprintf(what, sizeof(what), "config_parse: %s empty -> "
		    "error", keys[i]);
		snprintf(expect, sizeof(expect), "t.yml:1: '%s' must not be "
		    "empty", keys[i]);
		parse_err(text, expect, what);

		snprintf(text, sizeof(text), "%s: ~\n", keys[i]);
		snprintf(what, sizeof(what), "config_parse: %s null -> error",
		    keys[i]);
		snprintf(expect, sizeof(expect), "t.yml:1: '%s' needs a value",
		    keys[i]);
		parse_err(text, expect, what);

		snprintf(text, sizeof(text), "%s: \"a\\0b\"\n", keys[i]);
		snprintf(what, sizeof(what), "config_parse: %s with NUL -> "
		    "error", keys[i]);
		snprintf(expect, sizeof(expect), "t.yml:1: '%s' contains a "
		    "NUL", keys[i]);
		parse_err(text, expect, what);
	}

	/* A quoted "null" is a file name like any other. */
	cfg = parse_ok("tls_ca_file: \"null\"\n",
	    "config_parse: tls_ca_file \"null\"");
	check_str_eq(cfg->tls_ca_file, "null", "config_parse: tls_ca_file "
	    "\"null\"", "tls_ca_file");
	config_free(cfg);
}
END_TEST

START_TEST(test_tls_min_version)
{
	struct ds_config *cfg;

	cfg = parse_ok("tls_min_version: GETDNS_TLS1_2\n",
	    "config_parse: tls_min_version GETDNS_TLS1_2");
	check_str_eq(cfg->tls_min_version, "GETDNS_TLS1_2",
	    "config_parse: tls_min_version", "GETDNS_TLS1_2");
	config_free(cfg);
	cfg = parse_ok("tls_min_version: GETDNS_TLS1_3\n",
	    "config_parse: tls_min_version GETDNS_TLS1_3");
	check_str_eq(cfg->tls_min_version, "GETDNS_TLS1_3",
	    "config_parse: tls_min_version", "GETDNS_TLS1_3");
	config_free(cfg);
	parse_err("tls_min_version: GETDNS_TLS1_1\n",
	    "t.yml:1: 'tls_min_version' must be GETDNS_TLS1_2 or "
	    "GETDNS_TLS1_3, not 'GETDNS_TLS1_1'",
	    "config_parse: tls_min_version GETDNS_TLS1_1 -> error");
	parse_err("tls_min_version: 1.3\n", "t.yml:1: 'tls_min_version'",
	    "config_parse: tls_min_version 1.3 -> error");
	cfg = parse_ok("tls_max_version: GETDNS_TLS1_2\n",
	    "config_parse: tls_max_version GETDNS_TLS1_2");
	check_str_eq(cfg->tls_max_version, "GETDNS_TLS1_2",
	    "config_parse: tls_max_version", "GETDNS_TLS1_2");
	ck_assert_msg(cfg->tls_min_version == NULL, "config_parse: "
	    "tls_max_version set tls_min_version");
	config_free(cfg);
	cfg = parse_ok("tls_min_version: GETDNS_TLS1_2\n"
	    "tls_max_version: GETDNS_TLS1_3\n",
	    "config_parse: tls 1.2 .. 1.3");
	config_free(cfg);
	parse_err("tls_max_version: TLS1_2\n", "t.yml:1: 'tls_max_version' "
	    "must be GETDNS_TLS1_2 or GETDNS_TLS1_3, not 'TLS1_2'",
	    "config_parse: tls_max_version TLS1_2 -> error");
	parse_err("tls_min_version: GETDNS_TLS1_3\n"
	    "tls_max_version: GETDNS_TLS1_2\n", "'tls_min_version' "
	    "GETDNS_TLS1_3 is newer than 'tls_max_version' GETDNS_TLS1_2",
	    "config_parse: tls_min_version above tls_max_version -> error");
}
END_TEST

START_TEST(test_log_level)
{
	static const struct {
		const char *name;
		enum ds_log_level want;
	} ok[] = {
		{ "error", DS_LOG_ERR }, { "warning", DS_LOG_WARN },
		{ "notice", DS_LOG_NOTICE }, { "info", DS_LOG_INFO },
		{ "debug", DS_LOG_DEBUG }, { "GETDNS_LOG_ERR", DS_LOG_ERR },
		{ "GETDNS_LOG_DEBUG", DS_LOG_DEBUG },
	};
	struct ds_config *cfg;
	char text[64], what[96];
	size_t i;

	for (i = 0; i < NELEMS(ok); i++) {
		snprintf(text, sizeof(text), "log_level: %s\n", ok[i].name);
		snprintf(what, sizeof(what), "config_parse: log_level %s",
		    ok[i].name);
		cfg = parse_ok(text, what);
		ck_assert_msg(cfg->log_level == ok[i].want, "%s -> level %d, "
		    "got %d", what, (int)ok[i].want, (int)cfg->log_level);
		config_free(cfg);
	}
	parse_err("\n\nlog_level: loud\n", "t.yml:3: 'log_level' must be",
	    "config_parse: log_level loud -> error at line 3");
	parse_err("log_level: 3\n", "t.yml:1: 'log_level' must be",
	    "config_parse: log_level 3 -> error");
}
END_TEST

/*
 * Stubby keys with one allowed value, ignored keys, refused keys.
 */

START_TEST(test_fixed_keys)
{
	struct ds_config *cfg;

	cfg = parse_ok("resolution_type: GETDNS_RESOLUTION_STUB\n"
	    "dns_transport_list: [GETDNS_TRANSPORT_TLS]\n"
	    "tls_authentication: GETDNS_AUTHENTICATION_REQUIRED\n",
	    "config_parse: fixed Stubby keys with dotsec's values");
	check_same_as_defaults(cfg, "config_parse: fixed Stubby keys");
	config_free(cfg);

	parse_err("resolution_type: GETDNS_RESOLUTION_RECURSING\n",
	    "t.yml:1: 'resolution_type' must be GETDNS_RESOLUTION_STUB",
	    "config_parse: resolution_type recursing -> error");
	parse_err("\ndns_transport_list:\n  - GETDNS_TRANSPORT_UDP\n"
	    "  - GETDNS_TRANSPORT_TLS\n", "clear text",
	    "config_parse: dns_transport_list UDP, TLS -> error");
	parse_err("\ndns_transport_list:\n  - GETDNS_TRANSPORT_UDP\n"
	    "  - GETDNS_TRANSPORT_TLS\n", "t.yml:3: 'dns_transport_list' "
	    "must be [GETDNS_TRANSPORT_TLS]",
	    "config_parse: dns_transport_list UDP, TLS -> error at line 3");
	parse_err("dns_transport_list: [GETDNS_TRANSPORT_TCP]\n",
	    "never sends queries in clear text",
	    "config_parse: dns_transport_list TCP -> error");
	parse_err("dns_transport_list: GETDNS_TRANSPORT_TLS\n",
	    "t.yml:1: 'dns_transport_list' must be",
	    "config_parse: dns_transport_list not a list -> error");
	parse_err("dns_transport_list: []\n",
	    "t.yml:1: 'dns_transport_list' must be",
	    "config_parse: dns_transport_list empty -> error");
	parse_err("tls_authentication: GETDNS_AUTHENTICATION_NONE\n",
	    "t.yml:1: 'tls_authentication' must be "
	    "GETDNS_AUTHENTICATION_REQUIRED",
	    "config_parse: tls_authentication none -> error");
}
END_TEST

START_TEST(test_ignored_keys)
{
	static const char *const keys[] = {
		"edns_client_subnet_private", "appdata_dir", "dnssec",
		"dnssec_return_status", "trust_anchors_backoff_time"
	};
	struct ds_config *cfg;
	struct capture cap;
	char text[128], out[1024], expect[128], what[128];
	size_t i;

	for (i = 0; i < NELEMS(keys); i++) {
		snprintf(text, sizeof(text), "timeout: 100\n%s: 1\n", keys[i]);
		snprintf(what, sizeof(what), "config_parse: ignored %s -> "
		    "warning at line 2", keys[i]);
		capture_start(&cap);
		cfg = parse_ok(text, what);
		capture_end(&cap, out, sizeof(out));
		snprintf(expect, sizeof(expect), "t.yml:2: ignoring '%s'",
		    keys[i]);
		ck_assert_msg(strstr(out, expect) != NULL, "%s: got '%s'",
		    what, out);
		ck_assert_msg(cfg->timeout_ms == 100, "%s: timeout lost",
		    what);
		config_free(cfg);
	}
	parse_err("dnssec_trust_anchors:\n  - /etc/root.key\n",
	    "t.yml:1: 'dnssec_trust_anchors' is not supported",
	    "config_parse: dnssec_trust_anchors -> error at line 1");
	parse_err("dnssec_trust_anchors: /etc/root.key\n", "trust_anchor_file",
	    "config_parse: dnssec_trust_anchors -> points to "
	    "trust_anchor_file");
}
END_TEST

/*
 * Error reporting: lines, several errors at once, YAML syntax.
 */

START_TEST(test_unknown_key)
{
	parse_err("timeout: 100\n# a comment\nfoo: bar\n",
	    "t.yml:3: unknown key 'foo'",
	    "config_parse: unknown key -> error at line 3");
	parse_err("? [a]\n: 1\n", "t.yml:1: a key must be a name",
	    "config_parse: list as key -> error");
	parse_err("Timeout: 100\n", "t.yml:1: unknown key 'Timeout'",
	    "config_parse: keys are case-sensitive");
}
END_TEST

START_TEST(test_multiple_errors)
{
	static const char text[] =
	    "timeout: 0\n"				/* 1 */
	    "bogus: 1\n"				/* 2 */
	    "workers: 65\n"				/* 3 */
	    "listen_addresses:\n"			/* 4 */
	    "  - 127.0.0.1@0\n"				/* 5 */
	    "  - ::1\n"					/* 6 */
	    "upstream_recursive_servers:\n"		/* 7 */
	    "  - address_data: dns.example\n"		/* 8 */
	    "    tls_auth_name: dns.example\n"		/* 9 */
	    "  - address_data: 192.0.2.1\n"		/* 10 */
	    "timeout: 100\n";				/* 11 */
	static const char *const want[] = {
		"t.yml:1: 'timeout' must be",
		"t.yml:2: unknown key 'bogus'",
		"t.yml:3: 'workers' must be",
		"t.yml:5: '127.0.0.1@0' in 'listen_addresses'",
		"t.yml:8: 'address_data' must be a numeric",
		"t.yml:10: an upstream needs 'tls_auth_name' or",
		"t.yml:11: duplicate key 'timeout'",
	};
	struct ds_config *cfg;
	struct errs e;
	const char *p;
	size_t i;

	cfg = parse(text, &e);
	ck_assert_msg(cfg == NULL, "config_parse: several errors -> NULL");
	ck_assert_msg(e.n == NELEMS(want), "config_parse: several errors -> "
	    "%zu errors, got %u:\n%s", NELEMS(want), e.n, e.text);
	/* In file order, one per line. */
	p = e.text;
	for (i = 0; i < NELEMS(want); i++) {
		ck_assert_msg(strncmp(p, want[i], strlen(want[i])) == 0,
		    "config_parse: several errors -> error %zu is '%s', "
		    "got:\n%s", i, want[i], e.text);
		p = strchr(p, '\n');
		ck_assert_msg(p != NULL, "config_parse: several errors -> "
		    "line %zu not terminated", i);
		p++;
	}
}
END_TEST

START_TEST(test_yaml_syntax)
{
	struct ds_config *cfg;
	struct errs e;

	cfg = parse("timeout: 100\nlisten_addresses: [127.0.0.1\n"
	    "workers: 2\n", &e);
	ck_assert_msg(cfg == NULL && e.n == 1, "config_parse: unclosed flow "
	    "list -> one error, got %u:\n%s", e.n, e.text);
	ck_assert_msg(strncmp(e.text, "t.yml:", 6) == 0 &&
	    strstr(e.text, "did not find expected") != NULL,
	    "config_parse: unclosed flow list -> libyaml's problem, got:\n%s",
	    e.text);

	cfg = parse("timeout: 100\n  workers: 2\n", &e);
	ck_assert_msg(cfg == NULL && e.n == 1, "config_parse: bad indent -> "
	    "one error, got %u:\n%s", e.n, e.text);
	ck_assert_msg(strncmp(e.text, "t.yml:2: ", 9) == 0,
	    "config_parse: bad indent -> error at line 2, got:\n%s", e.text);

	parse_err("timeout: 100\nworkers: *nothing\n",
	    "t.yml:2: found undefined alias",
	    "config_parse: undefined alias -> error at line 2");
	/* A reader error only has a byte offset; the line is counted. */
	parse_err("timeout: 100\n\nworkers: \x01\n",
	    "t.yml:3: control characters are not allowed",
	    "config_parse: control character -> error at line 3");
}
END_TEST

START_TEST(test_top_level)
{
	parse_err("- a\n- b\n", "t.yml:1: the top level must be a map",
	    "config_parse: list at top level -> error");
	parse_err("\njust text\n", "t.yml:2: the top level must be a map",
	    "config_parse: scalar at top level -> error at line 2");
	parse_err("timeout: 100\n---\nworkers: 2\n",
	    "t.yml:3: only one YAML document",
	    "config_parse: two documents -> error at line 3");
}
END_TEST

/* Without a callback the errors still reach the log. */
START_TEST(test_no_callback)
{
	struct ds_config *cfg;
	struct capture cap;
	char out[1024];

	capture_start(&cap);
	cfg = config_parse("bogus: 1\n", 9, "t.yml", NULL, NULL);
	capture_end(&cap, out, sizeof(out));
	ck_assert_msg(cfg == NULL, "config_parse: no callback -> NULL");
	ck_assert_msg(strstr(out, "t.yml:1: unknown key 'bogus'") != NULL,
	    "config_parse: no callback -> error logged, got '%s'", out);
}
END_TEST

/*
 * Addresses.
 */

static const struct {
	const char *text;
	int ok;
	int family;
	const char *ip;
	unsigned port;
} addr_cases[] = {
	{ "127.0.0.1", 1, AF_INET, "127.0.0.1", 53 },
	{ "127.0.0.1@5353", 1, AF_INET, "127.0.0.1", 5353 },
	{ "192.0.2.1#853", 1, AF_INET, "192.0.2.1", 853 },
	{ "0.0.0.0@1", 1, AF_INET, "0.0.0.0", 1 },
	{ "::1", 1, AF_INET6, "::1", 53 },
	{ "0::1@65535", 1, AF_INET6, "::1", 65535 },
	{ "2001:db8::53#8053", 1, AF_INET6, "2001:db8::53", 8053 },
	{ "::ffff:192.0.2.1", 1, AF_INET6, "::ffff:192.0.2.1", 53 },
	{ "fe80::1%1@53", 1, AF_INET6, "fe80::1", 53 },
	{ "127.0.0.1@0", 0, 0, NULL, 0 },
	{ "127.0.0.1@65536", 0, 0, NULL, 0 },
	{ "127.0.0.1@", 0, 0, NULL, 0 },
	{ "127.0.0.1@-1", 0, 0, NULL, 0 },
	{ "127.0.0.1@53x", 0, 0, NULL, 0 },
	{ "127.0.0.1@ 53", 0, 0, NULL, 0 },
	{ "127.0.0.1@53#54", 0, 0, NULL, 0 },
	{ "127.0.0.1:53", 0, 0, NULL, 0 },
	{ "[::1]:53", 0, 0, NULL, 0 },
	{ "@53", 0, 0, NULL, 0 },
	{ "", 0, 0, NULL, 0 },
	{ "localhost", 0, 0, NULL, 0 },
	{ "dns.quad9.net@853", 0, 0, NULL, 0 },
	{ "127.1", 0, 0, NULL, 0 },
	{ "256.0.0.1", 0, 0, NULL, 0 },
	{ " 127.0.0.1", 0, 0, NULL, 0 },
	{ "::1::2", 0, 0, NULL, 0 },
	{ "fe80::1%", 0, 0, NULL, 0 },
	{ "fe80::1%no-such-interface-x", 0, 0, NULL, 0 },
};

START_TEST(test_parse_addr)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	char what[128];
	int r;

	snprintf(what, sizeof(what), "config_parse_addr: '%s'",
	    addr_cases[_i].text);
	memset(&ss, 0, sizeof(ss));
	r = config_parse_addr(addr_cases[_i].text, 53, &ss, &len);
	if (!addr_cases[_i].ok) {
		ck_assert_msg(r == -1, "%s -> -1, got %d", what, r);
		return;
	}
	ck_assert_msg(r == 0, "%s -> 0, got %d", what, r);
	check_sockaddr(&ss, len, addr_cases[_i].family, addr_cases[_i].ip,
	    addr_cases[_i].port, what);
}
END_TEST

START_TEST(test_parse_addr_misc)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;

	ck_assert_msg(config_parse_addr("192.0.2.1", 8053, &ss, &len) == 0 &&
	    port_of(&ss) == 8053,
	    "config_parse_addr: default port 8053 is used");
	ck_assert_msg(config_parse_addr("192.0.2.1", 0, &ss, &len) == -1,
	    "config_parse_addr: default port 0 -> -1");
	ck_assert_msg(config_parse_addr("192.0.2.1@54", 0, &ss, &len) == 0 &&
	    port_of(&ss) == 54,
	    "config_parse_addr: explicit port beats default 0");
	ck_assert_msg(config_parse_addr(NULL, 53, &ss, &len) == -1,
	    "config_parse_addr: NULL -> -1");
}
END_TEST

START_TEST(test_listen_addresses)
{
	struct ds_config *cfg;

	cfg = parse_ok("listen_addresses:\n  - 192.0.2.1@5300\n",
	    "config_parse: one listen address");
	ck_assert_msg(cfg->nlisten == 1, "config_parse: one listen address "
	    "replaces the defaults, got %zu", cfg->nlisten);
	check_sockaddr(&cfg->listen[0].addr, cfg->listen[0].addrlen, AF_INET,
	    "192.0.2.1", 5300, "config_parse: one listen address");
	check_str_eq(cfg->listen[0].spec, "192.0.2.1@5300",
	    "config_parse: one listen address", "spec");
	config_free(cfg);

	parse_err("\nlisten_addresses:\n  - 127.0.0.1\n  - localhost\n",
	    "t.yml:4: 'localhost' in 'listen_addresses' is not a numeric",
	    "config_parse: listen host name -> error at line 4");
	parse_err("listen_addresses:\n  - 127.0.0.1@99999\n",
	    "t.yml:2: '127.0.0.1@99999'",
	    "config_parse: listen bad port -> error at line 2");
	parse_err("listen_addresses:\n  - 127.0.0.1\n  - 127.0.0.1@53\n",
	    "t.yml:3: '127.0.0.1@53' in 'listen_addresses' is the same "
	    "address as '127.0.0.1'",
	    "config_parse: duplicate listen address -> error at line 3");
	parse_err("listen_addresses: []\n",
	    "t.yml:1: 'listen_addresses' needs at least one entry",
	    "config_parse: empty listen list -> error");
	parse_err("listen_addresses:\n", "t.yml:1: 'listen_addresses' needs "
	    "a list", "config_parse: listen without value -> error");
	parse_err("listen_addresses: 127.0.0.1\n",
	    "t.yml:1: 'listen_addresses' must be a list of addresses, not a "
	    "scalar", "config_parse: listen scalar -> error");
	parse_err("listen_addresses:\n  - {address_data: 127.0.0.1}\n",
	    "t.yml:2: 'listen_addresses' must be an address",
	    "config_parse: listen map entry -> error at line 2");
}
END_TEST

/* The DoT listener: port 853 by default, its files required, no address
 * shared with listen_addresses. */
START_TEST(test_listen_tls)
{
	struct ds_config *cfg;

	cfg = parse_ok("listen_tls_addresses:\n  - 192.0.2.1\n  - ::1@8853\n"
	    "tls_service_pem: /a.pem\ntls_service_key: /a.key\n"
	    "tls_client_ca: /ca.pem\ntls_handshake_timeout: 500\n",
	    "config_parse: listen_tls_addresses");
	ck_assert_uint_eq(cfg->nlisten_tls, 2);
	check_sockaddr(&cfg->listen_tls[0].addr, cfg->listen_tls[0].addrlen,
	    AF_INET, "192.0.2.1", 853, "config_parse: DoT default port");
	check_sockaddr(&cfg->listen_tls[1].addr, cfg->listen_tls[1].addrlen,
	    AF_INET6, "::1", 8853, "config_parse: DoT port given");
	check_str_eq(cfg->tls_client_ca, "/ca.pem", "config_parse: DoT",
	    "tls_client_ca");
	ck_assert_uint_eq(cfg->tls_handshake_timeout_ms, 500);
	ck_assert_uint_eq(cfg->nlisten, 2);	/* the defaults stay */
	config_free(cfg);

	cfg = parse_ok("tls_service_pem: /a.pem\n", "config_parse: files "
	    "without a DoT listener");
	ck_assert_uint_eq(cfg->nlisten_tls, 0);
	ck_assert_uint_eq(cfg->tls_handshake_timeout_ms, 3000);
	config_free(cfg);

	parse_err("listen_tls_addresses:\n  - 127.0.0.1\n"
	    "tls_service_pem: /a.pem\n", "t.yml: 'listen_tls_addresses' "
	    "needs 'tls_service_pem' and 'tls_service_key'",
	    "config_parse: DoT without a key -> error");
	parse_err("listen_addresses:\n  - 127.0.0.1@853\n"
	    "listen_tls_addresses:\n  - 127.0.0.1\n"
	    "tls_service_pem: /a.pem\ntls_service_key: /a.key\n",
	    "t.yml: '127.0.0.1' is in both 'listen_addresses' and "
	    "'listen_tls_addresses'", "config_parse: DoT on a plain "
	    "listener's address -> error");
	parse_err("listen_tls_addresses:\n  - 127.0.0.1\n  - 127.0.0.1@853\n"
	    "tls_service_pem: /a.pem\ntls_service_key: /a.key\n",
	    "t.yml:3: '127.0.0.1@853' in 'listen_tls_addresses' is the same "
	    "address as '127.0.0.1'", "config_parse: DoT address twice");
}
END_TEST

/*
 * Upstreams, pins and mandatory authentication.
 */

START_TEST(test_upstreams)
{
	struct ds_config *cfg;

	/* tls_port before address_data still reaches the sockaddr. */
	cfg = parse_ok("upstream_recursive_servers:\n"
	    "  - tls_port: 8853\n"
	    "    tls_auth_name: dot.example\n"
	    "    address_data: 192.0.2.53\n",
	    "config_parse: tls_port before address_data");
	ck_assert_msg(cfg->nupstreams == 1, "config_parse: one upstream "
	    "replaces the defaults, got %zu", cfg->nupstreams);
	ck_assert_msg(cfg->upstreams[0].port == 8853, "config_parse: "
	    "tls_port 8853, got %u", cfg->upstreams[0].port);
	check_sockaddr(&cfg->upstreams[0].addr, cfg->upstreams[0].addrlen,
	    AF_INET, "192.0.2.53", 8853,
	    "config_parse: tls_port before address_data");
	config_free(cfg);

	parse_err("upstream_recursive_servers:\n"
	    "  - address_data: dns.quad9.net\n"
	    "    tls_auth_name: dns.quad9.net\n",
	    "t.yml:2: 'address_data' must be a numeric IPv4 or IPv6 address, "
	    "not 'dns.quad9.net'",
	    "config_parse: upstream host name -> error at line 2");
	parse_err("upstream_recursive_servers:\n"
	    "  - address_data: 192.0.2.1@853\n"
	    "    tls_auth_name: dot.example\n",
	    "t.yml:2: 'address_data' must be a numeric",
	    "config_parse: upstream address with port -> error");
	parse_err("upstream_recursive_servers:\n"
	    "  - tls_auth_name: dot.example\n",
	    "t.yml:2: an upstream needs 'address_data'",
	    "config_parse: upstream without address -> error at line 2");
	parse_err("upstream_recursive_servers:\n"
	    "  - address_data: 192.0.2.1\n"
	    "    tls_auth_name: dot.example\n"
	    "    tls_port: 0\n",
	    "t.yml:4: 'tls_port' must be a whole number in 1..65535",
	    "config_parse: tls_port 0 -> error at line 4");
	parse_err("upstream_recursive_servers:\n"
	    "  - address_data: 192.0.2.1\n"
	    "    tls_auth_name: dot.example\n"
	    "    tls_port: 65536\n",
	    "t.yml:4: 'tls_port' must be",
	    "config_parse: tls_port 65536 -> error at line 4");
	parse_err("upstream_recursive_servers:\n"
	    "  - address_data: 192.0.2.1\n"
	    "    tls_auth_name: dot.example\n"
	    "    port: 53\n",
	    "t.yml:4: unknown key 'port'",
	    "config_parse: unknown upstream key -> error at line 4");
	parse_err("upstream_recursive_servers:\n"
	    "  - address_data: 192.0.2.1\n"
	    "    tls_auth_name: [a]\n",
	    "t.yml:3: 'tls_auth_name' must be a string, not a list",
	    "config_parse: tls_auth_name list -> error at line 3");
	parse_err("upstream_recursive_servers:\n  - 192.0.2.1\n",
	    "t.yml:2: an entry of 'upstream_recursive_servers' must be a map",
	    "config_parse: upstream scalar -> error at line 2");
	parse_err("upstream_recursive_servers: []\n",
	    "t.yml:1: 'upstream_recursive_servers' needs at least one",
	    "config_parse: empty upstream list -> error");
	parse_err("upstream_recursive_servers:\n"
	    "  - address_data: 192.0.2.1\n"
	    "    tls_auth_name: a.example\n"
	    "    tls_auth_name: b.example\n",
	    "t.yml:4: duplicate key 'tls_auth_name'",
	    "config_parse: duplicate upstream key -> error at line 4");
}
END_TEST

static const struct {
	const char *value;
	const char *expect;
} bad_pins[] = {
	{ "not base64!", "is not base64" },
	{ "yioEpqeR4WtDwE9YxNVnCEkTxIjx6EEIwFSQW+lJsbc", "is not base64" },
	{ "yioE=peR4WtDwE9YxNVnCEkTxIjx6EEIwFSQW+lJsbc=", "is not base64" },
	{ "yioEpqeR4WtDwE9YxNVnCEkTxIjx6EEIwFSQW+lJs===", "is not base64" },
	{ "AAECAwQFBgcICQoLDA0ODw==", "decodes to 16 bytes" },
	{ "yioEpqeR4WtDwE9YxNVnCEkTxIjx6EEIwFSQW+lJsbcA",
	    "decodes to 33 bytes" },
};

START_TEST(test_pins)
{
	char text[512], expect[128], what[128];

	snprintf(text, sizeof(text), "upstream_recursive_servers:\n"
	    "  - address_data: 192.0.2.1\n"
	    "    tls_pubkey_pinset:\n"
	    "      - digest: sha256\n"
	    "        value: \"%s\"\n", bad_pins[_i].value);
	snprintf(expect, sizeof(expect), "t.yml:5: pin value '%s' %s",
	    bad_pins[_i].value, bad_pins[_i].expect);
	snprintf(what, sizeof(what), "config_parse: pin '%s' -> error at "
	    "line 5", bad_pins[_i].value);
	parse_err(text, expect, what);
}
END_TEST

START_TEST(test_pin_fields)
{
	parse_err("upstream_recursive_servers:\n"
	    "  - address_data: 192.0.2.1\n"
	    "    tls_auth_name: dot.example\n"
	    "    tls_pubkey_pinset:\n"
	    "      - digest: sha1\n"
	    "        value: " PIN "\n",
	    "t.yml:5: unsupported pin digest 'sha1': only sha256",
	    "config_parse: pin digest sha1 -> error at line 5");
	parse_err("upstream_recursive_servers:\n"
	    "  - address_data: 192.0.2.1\n"
	    "    tls_auth_name: dot.example\n"
	    "    tls_pubkey_pinset:\n"
	    "      - value: " PIN "\n",
	    "t.yml:5: a pin needs 'digest: sha256'",
	    "config_parse: pin without digest -> error at line 5");
	parse_err("upstream_recursive_servers:\n"
	    "  - address_data: 192.0.2.1\n"
	    "    tls_auth_name: dot.example\n"
	    "    tls_pubkey_pinset:\n"
	    "      - digest: sha256\n",
	    "t.yml:5: a pin needs a 'value'",
	    "config_parse: pin without value -> error at line 5");
	parse_err("upstream_recursive_servers:\n"
	    "  - address_data: 192.0.2.1\n"
	    "    tls_auth_name: dot.example\n"
	    "    tls_pubkey_pinset:\n"
	    "      - digest: sha256\n"
	    "        value: " PIN "\n"
	    "        comment: old key\n",
	    "t.yml:7: unknown key 'comment'",
	    "config_parse: unknown pin key -> error at line 7");
	parse_err("upstream_recursive_servers:\n"
	    "  - address_data: 192.0.2.1\n"
	    "    tls_auth_name: dot.example\n"
	    "    tls_pubkey_pinset: " PIN "\n",
	    "t.yml:4: 'tls_pubkey_pinset' must be a list of pins, not a "
	    "scalar", "config_parse: pinset scalar -> error at line 4");
	parse_err("upstream_recursive_servers:\n"
	    "  - address_data: 192.0.2.1\n"
	    "    tls_auth_name: dot.example\n"
	    "    tls_pubkey_pinset:\n"
	    "      - " PIN "\n",
	    "t.yml:5: a pin in 'tls_pubkey_pinset' must be a map",
	    "config_parse: pin scalar -> error at line 5");
}
END_TEST

START_TEST(test_mandatory_auth)
{
	struct ds_config *cfg;

	parse_err("upstream_recursive_servers:\n"
	    "  - address_data: 192.0.2.1\n"
	    "    tls_auth_name: dot.example\n"
	    "  - address_data: 192.0.2.2\n"
	    "    tls_port: 853\n",
	    "t.yml:4: an upstream needs 'tls_auth_name' or "
	    "'tls_pubkey_pinset'",
	    "config_parse: upstream without authentication -> error at "
	    "line 4");
	parse_err("upstream_recursive_servers:\n"
	    "  - address_data: 192.0.2.1\n"
	    "    tls_pubkey_pinset: []\n",
	    "t.yml:2: an upstream without 'tls_auth_name' needs at least one "
	    "pin", "config_parse: upstream with an empty pinset -> error");

	cfg = parse_ok("upstream_recursive_servers:\n"
	    "  - address_data: 192.0.2.1\n"
	    "    tls_pubkey_pinset:\n"
	    "      - digest: sha256\n"
	    "        value: " PIN "\n",
	    "config_parse: pin without tls_auth_name is enough");
	ck_assert_msg(cfg->upstreams[0].auth_name == NULL &&
	    cfg->upstreams[0].npins == 1,
	    "config_parse: pin without tls_auth_name -> one pin, no name");
	config_free(cfg);

	cfg = parse_ok("upstream_recursive_servers:\n"
	    "  - address_data: 192.0.2.1\n"
	    "    tls_auth_name: dot.example\n"
	    "    tls_pubkey_pinset: []\n",
	    "config_parse: empty pinset with tls_auth_name is enough");
	ck_assert_msg(cfg->upstreams[0].npins == 0,
	    "config_parse: empty pinset -> no pins");
	config_free(cfg);
}
END_TEST

/*
 * Files.
 */

START_TEST(test_load_missing)
{
	static const char path[] = "/nonexistent/dir/dotsecd.yml";
	struct ds_config *cfg;
	struct errs e;

	memset(&e, 0, sizeof(e));
	cfg = config_load(path, collect, &e);
	ck_assert_msg(cfg == NULL, "config_load: missing file -> NULL");
	ck_assert_msg(e.n == 1, "config_load: missing file -> one error, got "
	    "%u", e.n);
	ck_assert_msg(strstr(e.text, "cannot open /nonexistent/dir/"
	    "dotsecd.yml: ") != NULL && strstr(e.text, "No such file") !=
	    NULL, "config_load: missing file -> error names the path and "
	    "reason, got:\n%s", e.text);
}
END_TEST

START_TEST(test_load_file)
{
	char path[] = "/tmp/check_config.XXXXXX";
	static const char text[] = "timeout: 1234\nbogus: 1\n";
	struct ds_config *cfg;
	struct errs e;
	char expect[64];
	int fd;

	fd = mkstemp(path);
	ck_assert_msg(fd >= 0, "config_load: mkstemp failed");
	ck_assert_msg(write(fd, text, 14) == 14, "config_load: write failed");
	close(fd);
	memset(&e, 0, sizeof(e));
	cfg = config_load(path, collect, &e);
	ck_assert_msg(cfg != NULL && e.n == 0, "config_load: good file -> "
	    "config, got:\n%s", e.text);
	ck_assert_msg(cfg->timeout_ms == 1234, "config_load: good file -> "
	    "timeout 1234, got %u", cfg->timeout_ms);
	check_str_eq(cfg->path, path, "config_load: good file", "path");
	config_free(cfg);

	/* Errors name the file. */
	fd = open(path, O_WRONLY | O_APPEND);
	ck_assert_msg(fd >= 0, "config_load: reopen failed");
	ck_assert_msg(write(fd, text + 14, strlen(text + 14)) ==
	    (ssize_t)strlen(text + 14), "config_load: write failed");
	close(fd);
	memset(&e, 0, sizeof(e));
	cfg = config_load(path, collect, &e);
	unlink(path);
	snprintf(expect, sizeof(expect), "%s:2: unknown key 'bogus'", path);
	ck_assert_msg(cfg == NULL && strstr(e.text, expect) != NULL,
	    "config_load: bad file -> '%s', got:\n%s", expect, e.text);
}
END_TEST

START_TEST(test_load_directory)
{
	struct ds_config *cfg;
	struct errs e;

	memset(&e, 0, sizeof(e));
	cfg = config_load("/", collect, &e);
	ck_assert_msg(cfg == NULL && e.n == 1 && strstr(e.text, "/") != NULL,
	    "config_load: directory -> one error, got:\n%s", e.text);
}
END_TEST

#ifdef DS_SRCDIR
/* The shipped file must say exactly what the code does by default. */
START_TEST(test_shipped_file)
{
	static const char path[] = DS_SRCDIR "/conf/dotsecd.yml";
	struct ds_config *cfg;
	struct capture cap;
	struct errs e;
	char out[1024];

	memset(&e, 0, sizeof(e));
	capture_start(&cap);
	cfg = config_load(path, collect, &e);
	capture_end(&cap, out, sizeof(out));
	ck_assert_msg(cfg != NULL && e.n == 0, "config_load: %s -> no error, "
	    "got:\n%s", path, e.text);
	ck_assert_msg(out[0] == '\0', "config_load: %s -> no warning, got:\n"
	    "%s", path, out);
	check_same_as_defaults(cfg, "config_load: conf/dotsecd.yml");
	check_str_eq(cfg->listen[0].spec, "127.0.0.1@53",
	    "config_load: conf/dotsecd.yml", "listen 0 spec");
	config_free(cfg);
}
END_TEST
#endif

/*
 * Freeing.
 */

START_TEST(test_free_partial)
{
	struct ds_config *cfg;

	config_free(NULL);

	/* As a parse that failed half-way leaves it: zeroed slots. */
	cfg = calloc(1, sizeof(*cfg));
	ck_assert_msg(cfg != NULL, "config_free: calloc failed");
	cfg->listen = calloc(2, sizeof(*cfg->listen));
	cfg->nlisten = 2;
	ck_assert_msg(cfg->listen != NULL, "config_free: calloc failed");
	cfg->listen[0].spec = strdup("127.0.0.1");
	cfg->upstreams = calloc(3, sizeof(*cfg->upstreams));
	ck_assert_msg(cfg->upstreams != NULL, "config_free: calloc failed");
	cfg->nupstreams = 3;
	cfg->upstreams[0].address = strdup("192.0.2.1");
	cfg->upstreams[1].pins = calloc(2, sizeof(*cfg->upstreams[1].pins));
	cfg->upstreams[1].npins = 2;
	ck_assert_msg(cfg->upstreams[1].pins != NULL,
	    "config_free: calloc failed");
	cfg->upstreams[1].pins[0].digest = strdup("sha256");
	/* A count without its array, should a parse stop in between. */
	cfg->upstreams[2].npins = 5;
	cfg->tls_ca_file = strdup("/x");
	/* Forward zones as a failed parse leaves them. */
	cfg->fwd_zones = calloc(2, sizeof(*cfg->fwd_zones));
	ck_assert_msg(cfg->fwd_zones != NULL, "config_free: calloc failed");
	cfg->nfwd_zones = 2;
	cfg->fwd_zones[0].name = strdup("corp.example.");
	cfg->fwd_zones[0].upstreams = calloc(1,
	    sizeof(*cfg->fwd_zones[0].upstreams));
	cfg->fwd_zones[0].nupstreams = 1;
	cfg->fwd_zones[0].trust_anchors = calloc(3, sizeof(char *));
	ck_assert_msg(cfg->fwd_zones[0].trust_anchors != NULL,
	    "config_free: calloc failed");
	cfg->fwd_zones[0].trust_anchors[0] = strdup("corp.example. DS 1");
	cfg->domain_insecure = calloc(3, sizeof(char *));
	ck_assert_msg(cfg->domain_insecure != NULL,
	    "config_free: calloc failed");
	cfg->domain_insecure[0] = strdup("a.example.");
	cfg->ndomain_insecure = 1;
	cfg->include_dir = strdup("/x");
	config_free(cfg);

	/* Counts of zero with nothing behind them. */
	cfg = calloc(1, sizeof(*cfg));
	ck_assert_msg(cfg != NULL, "config_free: calloc failed");
	cfg->nlisten = 4;
	cfg->nupstreams = 4;
	config_free(cfg);
}
END_TEST

/* Parses that fail in every way free what they built; ASan's leak check
 * is the assertion here, the return values are checked too. */
START_TEST(test_free_after_errors)
{
	struct errs e;

	ck_assert_msg(parse("listen_addresses:\n  - 127.0.0.1\n  - bad\n"
	    "upstream_recursive_servers:\n"
	    "  - address_data: 192.0.2.1\n"
	    "    tls_auth_name: x\n"
	    "    tls_pubkey_pinset:\n"
	    "      - {digest: sha256, value: " PIN "}\n"
	    "      - {digest: md5, value: x}\n"
	    "  - address_data: bad\n"
	    "tls_ca_file: /x\n"
	    "tls_min_version: GETDNS_TLS1_2\n"
	    "nope: 1\n", &e) == NULL && e.n == 6,
	    "config_parse: errors after allocations -> NULL and 6 errors, "
	    "got %u:\n%s", e.n, e.text);
}
END_TEST

START_TEST(test_access_control)
{
	struct ds_config *cfg;
	static const char good[] = "access_control:\n  - 10.0.0.0/8\n"
	    "  - 2001:db8::/32\naccess_control_drop: 1\n"
	    "ratelimit_qps: 50\n";
	static const char bad[] = "access_control:\n  - 10.0.0.1/8\n";
	struct errs e;

	cfg = config_default();
	ck_assert_msg(cfg != NULL && cfg->nacl == 2 && !cfg->acl_drop &&
	    cfg->ratelimit_qps == 0, "config_default: loopback only, no "
	    "rate limit");
	config_free(cfg);
	cfg = config_parse(good, strlen(good), "t", NULL, NULL);
	ck_assert_msg(cfg != NULL && cfg->nacl == 2 && cfg->acl[0].bits == 8 &&
	    cfg->acl[1].family == AF_INET6 && cfg->acl_drop &&
	    cfg->ratelimit_qps == 50, "config_parse: access_control list");
	config_free(cfg);
	memset(&e, 0, sizeof(e));
	cfg = config_parse(bad, strlen(bad), "t", collect, &e);
	ck_assert_msg(cfg == NULL && strstr(e.text, "t:2:") != NULL,
	    "config_parse: a prefix with host bits -> error at line 2 (%s)",
	    e.text);
}
END_TEST

START_TEST(test_trust_anchors_url)
{
	static const char y[] = "trust_anchors_url: https://192.0.2.1/ra.xml\n";
	struct ds_config *cfg = config_parse(y, strlen(y), "t", NULL, NULL);

	ck_assert_msg(cfg != NULL && strcmp(cfg->anchor_bootstrap_url,
	    "https://192.0.2.1/ra.xml") == 0,
	    "config_parse: trust_anchors_url sets the bootstrap URL");
	config_free(cfg);
}
END_TEST

START_TEST(test_user_key)
{
	struct ds_config *cfg;
	static const char quoted[] = "user: \"\"\n";
	static const char named[] = "user: nobody\n";
	static const char bare[] = "user:\n";

	cfg = config_parse(quoted, strlen(quoted), "t", NULL, NULL);
	ck_assert_msg(cfg != NULL && cfg->user != NULL && cfg->user[0] == 0,
	    "config_parse: user \"\" -> stay root");
	config_free(cfg);
	cfg = config_parse(named, strlen(named), "t", NULL, NULL);
	ck_assert_msg(cfg != NULL && strcmp(cfg->user, "nobody") == 0,
	    "config_parse: user nobody");
	config_free(cfg);
	cfg = config_parse(bare, strlen(bare), "t", NULL, NULL);
	ck_assert_msg(cfg == NULL,
	    "config_parse: 'user:' without a value -> error");
}
END_TEST

/*
 * Routing by domain: forward_zones, domain_insecure, local_zones_disable,
 * include_dir.
 */

static const char routing_file[] =
    "forward_zones:\n"						/* 1 */
    "  - name: Corp.Example\n"					/* 2 */
    "    upstream_recursive_servers:\n"			/* 3 */
    "      - address_data: 10.0.0.53\n"			/* 4 */
    "        tls_auth_name: dns.corp.example\n"		/* 5 */
    "        tls_port: 8853\n"				/* 6 */
    "        tls_pubkey_pinset:\n"				/* 7 */
    "          - digest: sha256\n"				/* 8 */
    "            value: " PIN "\n"				/* 9 */
    "    tls_ca_file: /etc/ssl/corp.pem\n"			/* 10 */
    "    transport: tls\n"					/* 11 */
    "    dnssec: validate\n"					/* 12 */
    "    trust_anchors:\n"					/* 13 */
    "      - \"corp.example. 3600 IN DS 12345 13 2 ABCDEF\"\n"	/* 14 */
    "      - \"Sub.Corp.Example IN DNSKEY 257 3 13 AAAA\"\n"	/* 15 */
    "  - upstream_recursive_servers:\n"			/* 16 */
    "      - address_data: 192.168.1.1\n"			/* 17 */
    "        port: 5353\n"					/* 18 */
    "      - address_data: fd00::53\n"			/* 19 */
    "    transport: plain\n"				/* 20 */
    "    dnssec: insecure\n"				/* 21 */
    "    name: home.lan.\n"					/* 22 */
    "domain_insecure:\n"					/* 23 */
    "  - broken.example\n"					/* 24 */
    "  - Other.Example.\n"					/* 25 */
    "local_zones_disable:\n"					/* 26 */
    "  - home.arpa\n"						/* 27 */
    "  - 168.192.in-addr.arpa.\n";				/* 28 */

START_TEST(test_routing_full)
{
	static const char what[] = "config_parse: routing keys";
	const struct ds_fwd_zone *z;
	const struct ds_upstream *u;
	struct ds_config *cfg;

	cfg = parse_ok(routing_file, what);
	/* The top level's upstreams are untouched. */
	check_same_as_defaults(cfg, what);
	ck_assert_msg(cfg->nfwd_zones == 2, "%s: %zu forward zones, want 2",
	    what, cfg->nfwd_zones);

	z = &cfg->fwd_zones[0];
	check_str_eq(z->name, "corp.example.", what, "zone 0 name");
	ck_assert_msg(z->line == 2, "%s: zone 0 line %zu, want 2", what,
	    z->line);
	ck_assert_msg(z->file == cfg->path, "%s: zone 0 file is not the "
	    "config's path", what);
	ck_assert_msg(z->nupstreams == 1, "%s: zone 0 has %zu upstreams",
	    what, z->nupstreams);
	u = &z->upstreams[0];
	check_str_eq(u->address, "10.0.0.53", what, "zone 0 address");
	check_str_eq(u->auth_name, "dns.corp.example", what,
	    "zone 0 tls_auth_name");
	ck_assert_msg(u->port == 8853, "%s: zone 0 port %u, want 8853", what,
	    u->port);
	check_sockaddr(&u->addr, u->addrlen, AF_INET, "10.0.0.53", 8853,
	    "config_parse: routing keys zone 0 upstream");
	ck_assert_msg(u->npins == 1, "%s: zone 0 has %zu pins", what,
	    u->npins);
	check_str_eq(u->pins[0].digest, "sha256", what, "zone 0 pin digest");
	check_str_eq(u->pins[0].value, PIN, what, "zone 0 pin value");
	check_str_eq(z->tls_ca_file, "/etc/ssl/corp.pem", what,
	    "zone 0 tls_ca_file");
	ck_assert_msg(z->transport == DS_FWD_TLS && !z->insecure,
	    "%s: zone 0 is tls and validated", what);
	ck_assert_msg(z->trust_anchors != NULL, "%s: zone 0 has no anchors",
	    what);
	check_str_eq(z->trust_anchors[0],
	    "corp.example. 3600 IN DS 12345 13 2 ABCDEF", what,
	    "zone 0 anchor 0 (verbatim)");
	check_str_eq(z->trust_anchors[1],
	    "Sub.Corp.Example IN DNSKEY 257 3 13 AAAA", what,
	    "zone 0 anchor 1 (verbatim)");
	ck_assert_msg(z->trust_anchors[2] == NULL, "%s: zone 0 anchors are "
	    "not NULL-terminated after 2", what);

	/* The transport came after the upstreams: plain rules all the
	 * same. */
	z = &cfg->fwd_zones[1];
	check_str_eq(z->name, "home.lan.", what, "zone 1 name");
	ck_assert_msg(z->line == 16, "%s: zone 1 line %zu, want 16", what,
	    z->line);
	ck_assert_msg(z->file == cfg->path, "%s: zone 1 file is not the "
	    "config's path", what);
	ck_assert_msg(z->transport == DS_FWD_PLAIN && z->insecure,
	    "%s: zone 1 is plain and insecure", what);
	ck_assert_msg(z->tls_ca_file == NULL && z->trust_anchors == NULL,
	    "%s: zone 1 has a CA file or anchors", what);
	ck_assert_msg(z->nupstreams == 2, "%s: zone 1 has %zu upstreams",
	    what, z->nupstreams);
	u = &z->upstreams[0];
	check_str_eq(u->address, "192.168.1.1", what, "zone 1 address 0");
	ck_assert_msg(u->port == 5353 && u->auth_name == NULL &&
	    u->npins == 0, "%s: zone 1 upstream 0: port %u, no name, no pin",
	    what, u->port);
	check_sockaddr(&u->addr, u->addrlen, AF_INET, "192.168.1.1", 5353,
	    "config_parse: routing keys zone 1 upstream 0");
	u = &z->upstreams[1];
	ck_assert_msg(u->port == 53, "%s: zone 1 upstream 1: default port "
	    "53, got %u", what, u->port);
	check_sockaddr(&u->addr, u->addrlen, AF_INET6, "fd00::53", 53,
	    "config_parse: routing keys zone 1 upstream 1");

	ck_assert_msg(cfg->ndomain_insecure == 2, "%s: %zu domain_insecure",
	    what, cfg->ndomain_insecure);
	check_str_eq(cfg->domain_insecure[0], "broken.example.", what,
	    "domain_insecure 0");
	check_str_eq(cfg->domain_insecure[1], "other.example.", what,
	    "domain_insecure 1");
	ck_assert_msg(cfg->domain_insecure[2] == NULL, "%s: domain_insecure "
	    "not NULL-terminated", what);
	ck_assert_msg(cfg->nlocal_zones_disable == 2,
	    "%s: %zu local_zones_disable", what, cfg->nlocal_zones_disable);
	check_str_eq(cfg->local_zones_disable[0], "home.arpa.", what,
	    "local_zones_disable 0");
	check_str_eq(cfg->local_zones_disable[1], "168.192.in-addr.arpa.",
	    what, "local_zones_disable 1");
	ck_assert_msg(cfg->local_zones_disable[2] == NULL,
	    "%s: local_zones_disable not NULL-terminated", what);
	ck_assert_msg(cfg->include_dir == NULL && cfg->files == NULL,
	    "%s: no include_dir, no files", what);
	config_free(cfg);
}
END_TEST

/* The root with tls replaces the default upstreams; a name's case and
 * final dot do not matter. */
START_TEST(test_routing_names)
{
	static const char *const ok_names[] = {
		".", "a", "A.b.", "xn--bcher-kva.example", "_dmarc.example",
		"0.10.in-addr.arpa",
		/* 63-octet label */
		("abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij"
		"abc.example"),
	};
	struct ds_config *cfg;
	char text[512];
	size_t i;

	for (i = 0; i < NELEMS(ok_names); i++) {
		snprintf(text, sizeof(text), "domain_insecure: [\"%s\"]\n",
		    ok_names[i]);
		cfg = parse_ok(text, ok_names[i]);
		ck_assert_msg(cfg->ndomain_insecure == 1 &&
		    cfg->domain_insecure[0][strlen(cfg->domain_insecure[0]) -
		    1] == '.', "config_parse: name '%s' -> one name with its "
		    "final dot", ok_names[i]);
		config_free(cfg);
	}
	cfg = parse_ok("forward_zones:\n"
	    "  - name: .\n"
	    "    upstream_recursive_servers:\n"
	    "      - {address_data: 192.0.2.1, tls_auth_name: dot.example}\n",
	    "config_parse: root forward zone over tls");
	ck_assert_msg(cfg->nfwd_zones == 1 &&
	    strcmp(cfg->fwd_zones[0].name, ".") == 0 &&
	    cfg->fwd_zones[0].transport == DS_FWD_TLS &&
	    cfg->fwd_zones[0].upstreams[0].port == 853,
	    "config_parse: root forward zone over tls, port 853");
	config_free(cfg);
}
END_TEST

START_TEST(test_routing_missing_name)
{
	parse_err("forward_zones:\n"
	    "  - transport: plain\n"
	    "    upstream_recursive_servers:\n"
	    "      - address_data: 192.0.2.1\n",
	    "t.yml:2: a forward zone needs 'name'",
	    "config_parse: forward zone without name -> error at line 2");
	parse_err("forward_zones:\n"
	    "  - name: corp.example\n",
	    "t.yml:2: a forward zone needs 'upstream_recursive_servers'",
	    "config_parse: forward zone without upstreams -> error");
}
END_TEST

START_TEST(test_routing_duplicate_zone)
{
	parse_err("forward_zones:\n"
	    "  - name: corp.example\n"
	    "    transport: plain\n"
	    "    upstream_recursive_servers: [{address_data: 192.0.2.1}]\n"
	    "  - name: CORP.example.\n"
	    "    transport: plain\n"
	    "    upstream_recursive_servers: [{address_data: 192.0.2.2}]\n",
	    "t.yml:5: forward zone 'corp.example.' already defined at "
	    "t.yml:2",
	    "config_parse: zone named twice -> error at line 5 naming 2");
}
END_TEST

START_TEST(test_routing_root_plain)
{
	parse_err("forward_zones:\n"
	    "  - name: .\n"
	    "    upstream_recursive_servers: [{address_data: 192.0.2.1}]\n"
	    "    transport: plain\n",
	    "t.yml:4: the root cannot be a 'transport: plain' zone",
	    "config_parse: root with transport plain -> error at line 4");
}
END_TEST

START_TEST(test_routing_unknown_transport)
{
	/* The upstream is not checked against either rule set. */
	parse_err("forward_zones:\n"
	    "  - name: corp.example\n"
	    "    upstream_recursive_servers: [{address_data: 192.0.2.1}]\n"
	    "    transport: udp\n",
	    "t.yml:4: unknown transport 'udp' in a forward zone (tls or "
	    "plain)",
	    "config_parse: transport udp -> error at line 4");
}
END_TEST

START_TEST(test_routing_unknown_dnssec)
{
	parse_err("forward_zones:\n"
	    "  - name: corp.example\n"
	    "    transport: plain\n"
	    "    dnssec: off\n"
	    "    upstream_recursive_servers: [{address_data: 192.0.2.1}]\n",
	    "t.yml:4: unknown 'dnssec' value 'off'",
	    "config_parse: dnssec off -> error at line 4");
}
END_TEST

START_TEST(test_routing_plain_keys)
{
	parse_err("forward_zones:\n"
	    "  - name: corp.example\n"
	    "    upstream_recursive_servers:\n"
	    "      - address_data: 192.0.2.1\n"
	    "        tls_port: 853\n"
	    "    transport: plain\n",
	    "t.yml:5: 'tls_port' has no meaning for a zone with "
	    "'transport: plain'",
	    "config_parse: tls_port in a plain zone -> error at line 5");
	parse_err("forward_zones:\n"
	    "  - name: corp.example\n"
	    "    transport: plain\n"
	    "    upstream_recursive_servers:\n"
	    "      - address_data: 192.0.2.1\n"
	    "        tls_auth_name: dns.corp.example\n",
	    "t.yml:6: 'tls_auth_name' has no meaning",
	    "config_parse: tls_auth_name in a plain zone -> error at line 6");
	parse_err("forward_zones:\n"
	    "  - name: corp.example\n"
	    "    transport: plain\n"
	    "    upstream_recursive_servers:\n"
	    "      - address_data: 192.0.2.1\n"
	    "        tls_pubkey_pinset: [{digest: sha256, value: " PIN "}]\n",
	    "t.yml:6: 'tls_pubkey_pinset' has no meaning",
	    "config_parse: pinset in a plain zone -> error at line 6");
	parse_err("forward_zones:\n"
	    "  - name: corp.example\n"
	    "    tls_ca_file: /etc/ssl/corp.pem\n"
	    "    transport: plain\n"
	    "    upstream_recursive_servers: [{address_data: 192.0.2.1}]\n",
	    "t.yml:3: 'tls_ca_file' has no meaning for a zone with "
	    "'transport: plain'",
	    "config_parse: tls_ca_file in a plain zone -> error at line 3");
	/* The other way round: a tls zone follows the top level's rules. */
	parse_err("forward_zones:\n"
	    "  - name: corp.example\n"
	    "    upstream_recursive_servers:\n"
	    "      - address_data: 192.0.2.1\n"
	    "        tls_auth_name: dns.corp.example\n"
	    "        port: 53\n",
	    "t.yml:6: unknown key 'port'",
	    "config_parse: port in a tls zone -> error at line 6");
	parse_err("forward_zones:\n"
	    "  - name: corp.example\n"
	    "    upstream_recursive_servers:\n"
	    "      - address_data: 192.0.2.1\n",
	    "t.yml:4: an upstream needs 'tls_auth_name' or",
	    "config_parse: unauthenticated tls zone upstream -> error");
	parse_err("forward_zones:\n"
	    "  - name: corp.example\n"
	    "    transport: plain\n"
	    "    upstream_recursive_servers:\n"
	    "      - address_data: 192.0.2.1\n"
	    "        port: 0\n",
	    "t.yml:6: 'port' must be a whole number in 1..65535",
	    "config_parse: plain port 0 -> error at line 6");
}
END_TEST

START_TEST(test_routing_insecure_anchors)
{
	parse_err("forward_zones:\n"
	    "  - name: corp.example\n"
	    "    dnssec: insecure\n"
	    "    transport: plain\n"
	    "    upstream_recursive_servers: [{address_data: 192.0.2.1}]\n"
	    "    trust_anchors:\n"
	    "      - \"corp.example. IN DS 1 13 2 AB\"\n",
	    "t.yml:6: 'trust_anchors' contradicts 'dnssec: insecure'",
	    "config_parse: insecure zone with anchors -> error at line 6");
}
END_TEST

static const struct {
	const char *anchor;
	const char *expect;
} bad_anchors[] = {
	{ "example.net. IN DS 1 13 2 AB", "is not at or below" },
	{ "xcorp.example. IN DS 1 13 2 AB", "is not at or below" },
	{ "corp.example. IN A 192.0.2.1", "not a DS or DNSKEY record" },
	{ "corp.example. 3600 IN", "not a DS or DNSKEY record" },
	{ "corp.example. DS", "record data is missing" },
	{ "DS 1 13 2 AB", "is not at or below" },
	{ "corp..example. DS 1 13 2 AB", "owner name" },
	{ "  ", "owner name" },
};

START_TEST(test_routing_bad_anchor)
{
	char text[512], what[160];

	snprintf(text, sizeof(text), "forward_zones:\n"
	    "  - name: corp.example\n"
	    "    transport: plain\n"
	    "    upstream_recursive_servers: [{address_data: 192.0.2.1}]\n"
	    "    trust_anchors:\n"
	    "      - \"sub.corp.example. 60 IN DNSKEY 257 3 13 AA\"\n"
	    "      - \"%s\"\n", bad_anchors[_i].anchor);
	snprintf(what, sizeof(what), "config_parse: anchor '%s' -> error at "
	    "line 7", bad_anchors[_i].anchor);
	parse_err(text, "t.yml:7: trust anchor '", what);
	parse_err(text, bad_anchors[_i].expect, what);
}
END_TEST

static const char *const bad_names[] = {
	"..", "a..b", ".a", "a b", "a\\\\.b", "a\\\"b", "a/b", "*.example",
	/* a 64-octet label */
	("abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij"
	"abcd.example"),
};

START_TEST(test_routing_bad_name)
{
	char text[512], what[160];

	snprintf(text, sizeof(text), "forward_zones:\n"
	    "  - transport: plain\n"
	    "    upstream_recursive_servers: [{address_data: 192.0.2.1}]\n"
	    "    name: \"%s\"\n", bad_names[_i]);
	snprintf(what, sizeof(what), "config_parse: zone name '%s' -> error "
	    "at line 4", bad_names[_i]);
	parse_err(text, "t.yml:4: 'name' must be a domain name", what);

	snprintf(text, sizeof(text), "domain_insecure:\n"
	    "  - ok.example\n"
	    "  - \"%s\"\n", bad_names[_i]);
	snprintf(what, sizeof(what), "config_parse: domain_insecure '%s' -> "
	    "error at line 3", bad_names[_i]);
	parse_err(text, "t.yml:3: 'domain_insecure' must be a domain name",
	    what);
}
END_TEST

START_TEST(test_routing_long_name)
{
	char text[600], name[300];
	size_t i;

	/* 4 x 63 + 3 dots = 255 characters: too long. */
	for (i = 0; i < 4 * 64 - 1; i++)
		name[i] = i % 64 == 63 ? '.' : 'a';
	name[i] = '\0';
	snprintf(text, sizeof(text), "domain_insecure: [%s]\n", name);
	parse_err(text, "t.yml:1: 'domain_insecure' must be a domain name",
	    "config_parse: a 255-character name -> error");
	/* 253 characters without the final dot: fine. */
	name[253] = '\0';
	snprintf(text, sizeof(text), "domain_insecure: [%s.]\n", name);
	config_free(parse_ok(text, "config_parse: a 253-character name"));
}
END_TEST

START_TEST(test_routing_lists)
{
	parse_err("local_zones_disable:\n"
	    "  - home.arpa\n"
	    "  - corp.example\n",
	    "t.yml:3: 'corp.example.' in 'local_zones_disable' is not a zone "
	    "dotsecd serves locally",
	    "config_parse: local_zones_disable corp.example -> error");
	parse_err("local_zones_disable:\n"
	    "  - home.arpa\n"
	    "  - HOME.ARPA.\n",
	    "t.yml:3: 'home.arpa.' is listed twice in 'local_zones_disable'",
	    "config_parse: local zone twice -> error at line 3");
	parse_err("domain_insecure:\n"
	    "  - a.example\n"
	    "  - b.example\n"
	    "  - a.example.\n",
	    "t.yml:4: 'a.example.' is listed twice in 'domain_insecure'",
	    "config_parse: insecure name twice -> error at line 4");
	parse_err("domain_insecure: broken.example\n",
	    "t.yml:1: 'domain_insecure' must be a list",
	    "config_parse: domain_insecure scalar -> error");
	parse_err("forward_zones:\n  - corp.example\n",
	    "t.yml:2: an entry of 'forward_zones' must be a map",
	    "config_parse: forward zone scalar -> error");
	parse_err("forward_zones:\n"
	    "  - name: corp.example\n"
	    "    transport: plain\n"
	    "    upstream_recursive_servers: [{address_data: 192.0.2.1}]\n"
	    "    forward_first: yes\n",
	    "t.yml:5: unknown key 'forward_first' in a forward zone",
	    "config_parse: unknown zone key -> error at line 5");
}
END_TEST

/* Every special-use zone is accepted, and the table is the documented
 * one: 6 names, then 1 + 16 + 8 + 2 + 6 of RFC 6303. */
START_TEST(test_routing_special_zones)
{
	struct ds_config *cfg;
	char text[4096];
	size_t i, n = 0;

	n = (size_t)snprintf(text, sizeof(text), "local_zones_disable:\n");
	for (i = 0; ds_special_zones[i] != NULL; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "  - %s\n",
		    ds_special_zones[i]);
	ck_assert_msg(n < sizeof(text), "test text too long");
	ck_assert_msg(i == 39, "ds_special_zones has %zu zones, want 39", i);
	check_str_eq(ds_special_zones[0], "localhost.", "ds_special_zones",
	    "first");
	check_str_eq(ds_special_zones[5], "home.arpa.", "ds_special_zones",
	    "sixth");
	check_str_eq(ds_special_zones[38], "8.b.d.0.1.0.0.2.ip6.arpa.",
	    "ds_special_zones", "last");
	cfg = parse_ok(text, "config_parse: every special-use zone");
	ck_assert_msg(cfg->nlocal_zones_disable == i,
	    "config_parse: every special-use zone -> %zu, got %zu", i,
	    cfg->nlocal_zones_disable);
	config_free(cfg);
}
END_TEST

/* A file name in dir, written with text. */
static void
write_in(const char *dir, const char *name, const char *text, char *path,
    size_t size)
{
	FILE *f;

	snprintf(path, size, "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_msg(f != NULL, "cannot create %s", path);
	ck_assert_msg(fputs(text, f) >= 0 && fclose(f) == 0,
	    "cannot write %s", path);
}

struct incdir {
	char dir[64];
	char a[128], b[128], txt[128];
};

/* A directory with 20-b.yml, 10-a.yml (written in that order) and a
 * notes.txt that is not YAML at all. */
static void
incdir_make(struct incdir *d, const char *a_text)
{
	snprintf(d->dir, sizeof(d->dir), "/tmp/check_config.XXXXXX");
	ck_assert_msg(mkdtemp(d->dir) != NULL, "mkdtemp failed");
	write_in(d->dir, "20-b.yml",
	    "domain_insecure:\n"
	    "  - b.example\n"
	    "forward_zones:\n"
	    "  - name: b.example\n"
	    "    transport: plain\n"
	    "    upstream_recursive_servers: [{address_data: 192.0.2.2}]\n",
	    d->b, sizeof(d->b));
	write_in(d->dir, "10-a.yml", a_text, d->a, sizeof(d->a));
	write_in(d->dir, "notes.txt", "timeout: [not: yaml\n", d->txt,
	    sizeof(d->txt));
}

static void
incdir_remove(struct incdir *d)
{
	unlink(d->a);
	unlink(d->b);
	unlink(d->txt);
	rmdir(d->dir);
}

START_TEST(test_include_dir)
{
	static const char what[] = "config_parse: include_dir";
	struct ds_config *cfg;
	struct incdir d;
	char text[512];

	incdir_make(&d, "forward_zones:\n"
	    "  - name: a.example\n"
	    "    transport: plain\n"
	    "    upstream_recursive_servers: [{address_data: 192.0.2.1}]\n");
	snprintf(text, sizeof(text), "domain_insecure: [main.example]\n"
	    "forward_zones:\n"
	    "  - name: main.example\n"
	    "    transport: plain\n"
	    "    upstream_recursive_servers: [{address_data: 192.0.2.9}]\n"
	    "include_dir: %s\n", d.dir);
	cfg = parse_ok(text, what);
	incdir_remove(&d);

	ck_assert_msg(cfg->files != NULL && cfg->files[0] != NULL &&
	    cfg->files[1] != NULL && cfg->files[2] == NULL,
	    "%s: two files read, notes.txt ignored", what);
	check_str_eq(cfg->files[0], d.a, what, "first file (sorted)");
	check_str_eq(cfg->files[1], d.b, what, "second file (sorted)");
	check_str_eq(cfg->include_dir, d.dir, what, "include_dir");
	ck_assert_msg(cfg->nfwd_zones == 3, "%s: %zu zones, want 3", what,
	    cfg->nfwd_zones);
	check_str_eq(cfg->fwd_zones[0].name, "main.example.", what, "zone 0");
	check_str_eq(cfg->fwd_zones[1].name, "a.example.", what, "zone 1");
	check_str_eq(cfg->fwd_zones[2].name, "b.example.", what, "zone 2");
	ck_assert_msg(cfg->fwd_zones[0].file == cfg->path &&
	    cfg->fwd_zones[1].file == cfg->files[0] &&
	    cfg->fwd_zones[2].file == cfg->files[1],
	    "%s: each zone points to the file it came from", what);
	ck_assert_msg(cfg->fwd_zones[1].line == 2 &&
	    cfg->fwd_zones[2].line == 4, "%s: zone lines are their files'",
	    what);
	ck_assert_msg(cfg->ndomain_insecure == 2 &&
	    strcmp(cfg->domain_insecure[0], "main.example.") == 0 &&
	    strcmp(cfg->domain_insecure[1], "b.example.") == 0 &&
	    cfg->domain_insecure[2] == NULL,
	    "%s: domain_insecure of the include appended", what);
	config_free(cfg);
}
END_TEST

START_TEST(test_include_dir_duplicate)
{
	struct ds_config *cfg;
	struct incdir d;
	struct errs e;
	char text[512], expect[256];

	incdir_make(&d, "\n"
	    "forward_zones:\n"
	    "  - name: Main.Example\n"
	    "    transport: plain\n"
	    "    upstream_recursive_servers: [{address_data: 192.0.2.1}]\n");
	snprintf(text, sizeof(text), "include_dir: %s/\n"
	    "forward_zones:\n"
	    "  - name: main.example\n"
	    "    transport: plain\n"
	    "    upstream_recursive_servers: [{address_data: 192.0.2.9}]\n",
	    d.dir);
	cfg = parse(text, &e);
	incdir_remove(&d);
	/* "DIR/" + "10-a.yml": the path names the file once. */
	snprintf(expect, sizeof(expect), "%s:3: forward zone "
	    "'main.example.' already defined at t.yml:3", d.a);
	ck_assert_msg(cfg == NULL && e.n == 1 && strstr(e.text, expect) !=
	    NULL, "config_parse: zone in main file and include -> '%s', "
	    "got %u:\n%s", expect, e.n, e.text);
}
END_TEST

START_TEST(test_include_bad_key)
{
	struct ds_config *cfg;
	struct incdir d;
	struct errs e;
	char text[512], expect[256];

	incdir_make(&d, "domain_insecure: [a.example]\n"
	    "timeout: 100\n"
	    "include_dir: /etc\n");
	snprintf(text, sizeof(text), "include_dir: %s\n", d.dir);
	cfg = parse(text, &e);
	incdir_remove(&d);
	snprintf(expect, sizeof(expect), "%s:2: key 'timeout' is not "
	    "allowed in an include file", d.a);
	ck_assert_msg(cfg == NULL && e.n == 2 && strstr(e.text, expect) !=
	    NULL, "config_parse: timeout in an include file -> '%s', got "
	    "%u:\n%s", expect, e.n, e.text);
	snprintf(expect, sizeof(expect), "%s:3: key 'include_dir' is not "
	    "allowed", d.a);
	ck_assert_msg(strstr(e.text, expect) != NULL, "config_parse: "
	    "include_dir in an include file -> '%s', got:\n%s", expect,
	    e.text);
}
END_TEST

START_TEST(test_include_dir_missing)
{
	struct ds_config *cfg;
	struct errs e;

	parse_err("timeout: 100\n"
	    "include_dir: /nonexistent/dotsec.d\n",
	    "t.yml:2: include_dir /nonexistent/dotsec.d: No such file or "
	    "directory",
	    "config_parse: missing include_dir -> error at line 2");

	/* An empty directory is fine and reads no file. */
	{
		char dir[] = "/tmp/check_config.XXXXXX", text[128];

		ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp failed");
		snprintf(text, sizeof(text), "include_dir: %s\n", dir);
		cfg = parse(text, &e);
		rmdir(dir);
		ck_assert_msg(cfg != NULL && e.n == 0 && cfg->files == NULL &&
		    cfg->nfwd_zones == 0, "config_parse: empty include_dir -> "
		    "no file, no error, got:\n%s", e.text);
		config_free(cfg);
	}
}
END_TEST

Suite *
config_suite(void)
{
	Suite *s;
	TCase *tc;

	s = suite_create("config");

	tc = tcase_create("defaults");
	tcase_add_test(tc, test_default);
	tcase_add_loop_test(tc, test_empty, 0, (int)NELEMS(empty_texts));
	tcase_add_test(tc, test_null_text);
	tcase_add_test(tc, test_not_terminated);
#ifdef DS_SRCDIR
	tcase_add_test(tc, test_shipped_file);
#endif
	suite_add_tcase(s, tc);

	tc = tcase_create("keys");
	tcase_add_test(tc, test_full_stubby);
	tcase_add_loop_test(tc, test_numbers, 0, (int)NELEMS(num_keys));
	tcase_add_test(tc, test_number_errors);
	tcase_add_test(tc, test_bool);
	tcase_add_test(tc, test_strings);
	tcase_add_test(tc, test_tls_min_version);
	tcase_add_test(tc, test_log_level);
	tcase_add_test(tc, test_fixed_keys);
	tcase_add_test(tc, test_ignored_keys);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_unknown_key);
	tcase_add_test(tc, test_multiple_errors);
	tcase_add_test(tc, test_yaml_syntax);
	tcase_add_test(tc, test_top_level);
	tcase_add_test(tc, test_no_callback);
	suite_add_tcase(s, tc);

	tc = tcase_create("addresses");
	tcase_add_loop_test(tc, test_parse_addr, 0, (int)NELEMS(addr_cases));
	tcase_add_test(tc, test_parse_addr_misc);
	tcase_add_test(tc, test_listen_addresses);
	tcase_add_test(tc, test_listen_tls);
	suite_add_tcase(s, tc);

	tc = tcase_create("upstreams");
	tcase_add_test(tc, test_upstreams);
	tcase_add_loop_test(tc, test_pins, 0, (int)NELEMS(bad_pins));
	tcase_add_test(tc, test_pin_fields);
	tcase_add_test(tc, test_mandatory_auth);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_test(tc, test_load_missing);
	tcase_add_test(tc, test_load_file);
	tcase_add_test(tc, test_load_directory);
	tcase_add_test(tc, test_free_partial);
	tcase_add_test(tc, test_free_after_errors);
	tcase_add_test(tc, test_user_key);
	tcase_add_test(tc, test_trust_anchors_url);
	tcase_add_test(tc, test_access_control);
	suite_add_tcase(s, tc);

	tc = tcase_create("routing");
	tcase_add_test(tc, test_routing_full);
	tcase_add_test(tc, test_routing_names);
	tcase_add_test(tc, test_routing_missing_name);
	tcase_add_test(tc, test_routing_duplicate_zone);
	tcase_add_test(tc, test_routing_root_plain);
	tcase_add_test(tc, test_routing_unknown_transport);
	tcase_add_test(tc, test_routing_unknown_dnssec);
	tcase_add_test(tc, test_routing_plain_keys);
	tcase_add_test(tc, test_routing_insecure_anchors);
	tcase_add_loop_test(tc, test_routing_bad_anchor, 0,
	    (int)NELEMS(bad_anchors));
	tcase_add_loop_test(tc, test_routing_bad_name, 0,
	    (int)NELEMS(bad_names));
	tcase_add_test(tc, test_routing_long_name);
	tcase_add_test(tc, test_routing_lists);
	tcase_add_test(tc, test_routing_special_zones);
	tcase_add_test(tc, test_include_dir);
	tcase_add_test(tc, test_include_dir_duplicate);
	tcase_add_test(tc, test_include_bad_key);
	tcase_add_test(tc, test_include_dir_missing);
	suite_add_tcase(s, tc);

	return s;
}
