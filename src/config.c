/*
 * config.c -- read and check dotsecd's YAML configuration (see dsconfig.h).
 *
 * The file is loaded whole with libyaml's document API and then walked once.
 * Every check reports through the caller's callback and carries on, so that
 * one run shows every mistake of a file; the config is thrown away at the
 * end if anything was wrong.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include <openssl/evp.h>

#include "dsconfig.h"
#include "log.h"

#ifndef DS_STATEDIR
#define DS_STATEDIR "/var/lib/dotsec"
#endif
/* Run-time files (the control socket): /run, whatever the prefix. */
#ifndef DS_RUNDIR
#define DS_RUNDIR "/run/dotsec"
#endif
#ifndef DS_DATADIR
#define DS_DATADIR "/usr/share/dotsec"
#endif

/* A configuration file is a page of text; anything much larger is the
 * wrong file, and reading it whole must not exhaust memory. */
#define CONFIG_MAX_SIZE		(1024 * 1024)

/* Longest value quoted back in an error message: enough to recognise it,
 * short enough that the line stays readable. */
#define QUOTE_MAX		64

#define DEFAULT_PORT		53
#define DEFAULT_TLS_PORT	853
#define PIN_SHA256_LEN		32

static const char *const default_listen[] = {
	"127.0.0.1@53",
	"::1@53"
};

/* Two operators, each over IPv4 and IPv6, so that one outage or one broken
 * address family does not stop resolution. */
static const struct {
	const char *address;
	const char *auth_name;
} default_upstreams[] = {
	{ "9.9.9.9", "dns.quad9.net" },
	{ "2620:fe::fe", "dns.quad9.net" },
	{ "1.1.1.1", "cloudflare-dns.com" },
	{ "2606:4700:4700::1111", "cloudflare-dns.com" }
};

#define NELEMS(a)	(sizeof(a) / sizeof((a)[0]))

/* State of one parse: where errors go and how many there were. */
struct ctx {
	const char *name;	/* the file in error lines */
	ds_config_err_fn err;
	void *arg;
	unsigned nerr;
	yaml_document_t *doc;
	bool include;		/* a file of include_dir: only the keys
				   include_keys[] */
	char *file;		/* the file's name that its forward zones
				   point to (cfg->path or in cfg->files) */
	size_t include_dir_line;	/* of the include_dir key */
};

static void report(struct ctx *c, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void report_raw(struct ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Error reporting.
 */

static void
deliver(struct ctx *c, const char *text)
{
	c->nerr++;
	/* A caller without a callback still deserves to see why. */
	if (c->err != NULL)
		c->err(c->arg, text);
	else
		ds_err("%s", text);
}

static void
report_raw(struct ctx *c, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	deliver(c, text);
}

/* line is 1-based. */
static void
report(struct ctx *c, size_t line, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	int n;

	n = snprintf(text, sizeof(text), "%s:%zu: ", c->name, line);
	if (n < 0 || (size_t)n >= sizeof(text)) {
		deliver(c, text);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(text + n, sizeof(text) - (size_t)n, fmt, ap);
	va_end(ap);
	deliver(c, text);
}

static size_t
line_of(const yaml_node_t *node)
{
	return node->start_mark.line + 1;
}

/*
 * Addresses.
 */

/* Parse a decimal port, 1..65535, with nothing around it. */
static int
parse_port(const char *text, unsigned *port)
{
	unsigned long v = 0;
	const char *p;

	if (*text == '\0' || strlen(text) > 5)
		return -1;
	for (p = text; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = (unsigned)v;
	return 0;
}

/* An IPv6 scope is an interface name or index; 0 means "no such one". */
static unsigned
parse_scope(const char *text)
{
	unsigned long v;
	char *end;

	if (*text >= '0' && *text <= '9') {
		errno = 0;
		v = strtoul(text, &end, 10);
		if (errno != 0 || *end != '\0' || v > UINT_MAX)
			return 0;
		return (unsigned)v;
	}
	return if_nametoindex(text);
}

/*
 * The numeric address text[0..len) with port into *ss.  inet_pton and not
 * getaddrinfo: the latter also takes "127.1" and "0x7f.1", which in a
 * configuration file are far more likely typos than intent.
 */
static int
parse_ip(const char *text, size_t len, unsigned port,
    struct sockaddr_storage *ss, socklen_t *sslen)
{
	char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 1];
	struct sockaddr_storage tmp;
	struct sockaddr_in *sin = (struct sockaddr_in *)&tmp;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&tmp;
	char *scope;

	if (len == 0 || len >= sizeof(buf) || port < 1 || port > 65535)
		return -1;
	memcpy(buf, text, len);
	buf[len] = '\0';

	/* Zeroed so that equal addresses compare equal with memcmp(). */
	memset(&tmp, 0, sizeof(tmp));
	if (inet_pton(AF_INET, buf, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*ss = tmp;
		*sslen = sizeof(*sin);
		return 0;
	}

	memset(&tmp, 0, sizeof(tmp));
	scope = strchr(buf, '%');
	if (scope != NULL)
		*scope++ = '\0';
	if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) != 1)
		return -1;
	if (scope != NULL) {
		sin6->sin6_scope_id = parse_scope(scope);
		if (sin6->sin6_scope_id == 0)
			return -1;
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)port);
	*ss = tmp;
	*sslen = sizeof(*sin6);
	return 0;
}

int
config_parse_addr(const char *text, unsigned default_port,
    struct sockaddr_storage *ss, socklen_t *len)
{
	unsigned port = default_port;
	size_t n;

	if (text == NULL)
		return -1;
	/* Neither '@' nor '#' can occur in a numeric address, so the first
	 * one is the separator, IPv6 included. */
	n = strcspn(text, "@#");
	if (text[n] != '\0' && parse_port(text + n + 1, &port) != 0)
		return -1;
	return parse_ip(text, n, port, ss, len);
}

/*
 * Base64 (RFC 4648, standard alphabet, padded): only the length of what a
 * pin decodes to matters here; the daemon decodes it when it needs it.
 */

static int
b64_value(int ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* The number of bytes text decodes to, or -1 when it is not base64. */
static long
b64_decoded_len(const char *text)
{
	size_t len = strlen(text), i;
	unsigned pad = 0;

	if (len == 0 || len % 4 != 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (text[i] == '=') {
			/* Padding only in the last two places of the text. */
			if (i + 2 < len)
				return -1;
			pad++;
		} else if (pad > 0 || b64_value((unsigned char)text[i]) < 0) {
			return -1;
		}
	}
	return (long)(len / 4 * 3 - pad);
}

/*
 * Scalars.
 */

/* A plain scalar that YAML reads as null, as in "key:" with no value. */
static bool
is_null(const yaml_node_t *node)
{
	const char *v;

	if (node->type != YAML_SCALAR_NODE ||
	    node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)node->data.scalar.value;
	return strcmp(v, "") == 0 || strcmp(v, "~") == 0 ||
	    strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
	    strcmp(v, "NULL") == 0;
}

static const char *
type_name(const yaml_node_t *node)
{
	switch (node->type) {
	case YAML_MAPPING_NODE:
		return "a map";
	case YAML_SEQUENCE_NODE:
		return "a list";
	default:
		return "a scalar";
	}
}

/*
 * The text of a scalar value of key, or NULL after reporting why there is
 * none.  keyline is used for an absent value: libyaml places an empty
 * scalar wherever the next token starts.  what says what was expected,
 * e.g. "a string".
 */
static const char *
scalar(struct ctx *c, const char *key, size_t keyline, yaml_node_t *node,
    const char *what)
{
	const char *v;

	if (node->type != YAML_SCALAR_NODE) {
		report(c, line_of(node), "'%s' must be %s, not %s", key, what,
		    type_name(node));
		return NULL;
	}
	if (is_null(node)) {
		report(c, keyline, "'%s' needs a value (%s)", key, what);
		return NULL;
	}
	v = (const char *)node->data.scalar.value;
	/* A double-quoted "\0" would silently cut the value short. */
	if (strlen(v) != node->data.scalar.length) {
		report(c, line_of(node), "'%s' contains a NUL character", key);
		return NULL;
	}
	if (*v == '\0') {
		report(c, line_of(node), "'%s' must not be empty", key);
		return NULL;
	}
	return v;
}

/* Decimal digits only: YAML's octal, hex and sign forms are refused, as
 * they are far more likely typos than intent in a configuration. */
static int
get_uint(struct ctx *c, const char *key, size_t keyline, yaml_node_t *node,
    unsigned long min, unsigned long max, unsigned *out)
{
	const char *v, *p;
	unsigned long n = 0;

	if ((v = scalar(c, key, keyline, node, "a number")) == NULL)
		return -1;
	for (p = v; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			break;
		/* Saturate: anything that large is out of range anyway. */
		if (n > (ULONG_MAX - 9) / 10)
			n = ULONG_MAX;
		else
			n = n * 10 + (unsigned long)(*p - '0');
	}
	if (*p != '\0' || n < min || n > max) {
		report(c, line_of(node),
		    "'%s' must be a whole number in %lu..%lu, not '%.*s'",
		    key, min, max, QUOTE_MAX, v);
		return -1;
	}
	*out = (unsigned)n;
	return 0;
}

/* A copy of the scalar value of key into *out, replacing what was there. */
static int
get_string(struct ctx *c, const char *key, size_t keyline, yaml_node_t *node,
    char **out)
{
	const char *v;
	char *copy;

	if ((v = scalar(c, key, keyline, node, "a string")) == NULL)
		return -1;
	if ((copy = strdup(v)) == NULL) {
		report(c, line_of(node), "out of memory");
		return -1;
	}
	free(*out);
	*out = copy;
	return 0;
}

/*
 * Maps.  The walkers below see every pair; keys must be plain text.
 */

static const char *
key_text(struct ctx *c, yaml_node_t *key)
{
	const char *k;

	if (key->type != YAML_SCALAR_NODE) {
		report(c, line_of(key), "a key must be a name, not %s",
		    type_name(key));
		return NULL;
	}
	k = (const char *)key->data.scalar.value;
	if (strlen(k) != key->data.scalar.length || *k == '\0') {
		report(c, line_of(key), "a key must be a name");
		return NULL;
	}
	return k;
}

/* Index of key in names[], -1 when it is not there. */
static int
lookup(const char *key, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(key, names[i]) == 0)
			return (int)i;
	return -1;
}

/* True the first time; a later copy of the key is reported, because YAML
 * would silently let the last one win. */
static bool
first_time(struct ctx *c, bool *seen, const char *key, size_t line)
{
	if (*seen) {
		report(c, line, "duplicate key '%s'", key);
		return false;
	}
	*seen = true;
	return true;
}

/*
 * tls_pubkey_pinset: [{digest: sha256, value: BASE64}, ...]
 */

static const char *const pin_keys[] = { "digest", "value" };

static void
parse_pin(struct ctx *c, yaml_node_t *node, struct ds_pin *pin)
{
	bool seen[NELEMS(pin_keys)] = { false };
	yaml_node_pair_t *pair;
	yaml_node_t *k, *v;
	const char *key, *text;
	long n;
	int i;

	if (node->type != YAML_MAPPING_NODE) {
		report(c, line_of(node), "a pin in 'tls_pubkey_pinset' must "
		    "be a map of 'digest' and 'value', not %s",
		    type_name(node));
		return;
	}
	for (pair = node->data.mapping.pairs.start;
	    pair < node->data.mapping.pairs.top; pair++) {
		k = yaml_document_get_node(c->doc, pair->key);
		v = yaml_document_get_node(c->doc, pair->value);
		if ((key = key_text(c, k)) == NULL)
			continue;
		if ((i = lookup(key, pin_keys, NELEMS(pin_keys))) < 0) {
			report(c, line_of(k), "unknown key '%s' in a pin of "
			    "'tls_pubkey_pinset'", key);
			continue;
		}
		if (!first_time(c, &seen[i], key, line_of(k)))
			continue;
		if (i == 0) {
			if ((text = scalar(c, key, line_of(k), v,
			    "a digest name")) == NULL)
				continue;
			if (strcmp(text, "sha256") != 0) {
				report(c, line_of(v), "unsupported pin digest "
				    "'%.*s': only sha256 is supported",
				    QUOTE_MAX, text);
				continue;
			}
			get_string(c, key, line_of(k), v, &pin->digest);
		} else {
			if ((text = scalar(c, key, line_of(k), v,
			    "a base64 SHA-256 digest")) == NULL)
				continue;
			if ((n = b64_decoded_len(text)) < 0) {
				report(c, line_of(v), "pin value '%.*s' is "
				    "not base64", QUOTE_MAX, text);
				continue;
			}
			if (n != PIN_SHA256_LEN) {
				report(c, line_of(v), "pin value '%.*s' "
				    "decodes to %ld bytes, but a SHA-256 "
				    "digest has %d", QUOTE_MAX, text, n,
				    PIN_SHA256_LEN);
				continue;
			}
			get_string(c, key, line_of(k), v, &pin->value);
		}
	}
	if (!seen[0])
		report(c, line_of(node), "a pin needs 'digest: sha256'");
	if (!seen[1])
		report(c, line_of(node), "a pin needs a 'value'");
}

static void
parse_pinset(struct ctx *c, size_t keyline, yaml_node_t *node,
    struct ds_upstream *up)
{
	yaml_node_item_t *item;
	size_t n;

	if (node->type != YAML_SEQUENCE_NODE) {
		if (is_null(node))
			report(c, keyline, "'tls_pubkey_pinset' needs a list "
			    "of pins");
		else
			report(c, line_of(node), "'tls_pubkey_pinset' must "
			    "be a list of pins, not %s", type_name(node));
		return;
	}
	n = (size_t)(node->data.sequence.items.top -
	    node->data.sequence.items.start);
	if (n == 0)
		return;
	if ((up->pins = calloc(n, sizeof(*up->pins))) == NULL) {
		report(c, line_of(node), "out of memory");
		return;
	}
	/* Counted at once: calloc's zeroed pins are safe to free. */
	up->npins = n;
	for (item = node->data.sequence.items.start, n = 0;
	    item < node->data.sequence.items.top; item++, n++)
		parse_pin(c, yaml_document_get_node(c->doc, *item),
		    &up->pins[n]);
}

/*
 * upstream_recursive_servers: [{address_data, tls_port, tls_auth_name,
 * tls_pubkey_pinset}, ...], and in a 'transport: plain' forward zone
 * [{address_data, port}, ...].
 */

enum { UP_ADDRESS, UP_TLS_PORT, UP_AUTH_NAME, UP_PINSET, UP_PORT };
static const char *const upstream_keys[] = {
	"address_data", "tls_port", "tls_auth_name", "tls_pubkey_pinset",
	"port"
};

/* The rules an upstream follows: where it is, and how it is reached. */
enum up_rules {
	UPR_TLS,	/* the top level's and a 'transport: tls' zone's */
	UPR_PLAIN,	/* a 'transport: plain' zone's: address and port */
	UPR_EITHER	/* a zone whose transport is in error: only what the
			   two share is checked, so that one mistake is not
			   reported over and over */
};

static void
parse_upstream(struct ctx *c, yaml_node_t *node, struct ds_upstream *up,
    enum up_rules rules)
{
	bool seen[NELEMS(upstream_keys)] = { false };
	yaml_node_pair_t *pair;
	yaml_node_t *k, *v, *addr_node = NULL;
	const char *key;
	int i;

	up->port = rules == UPR_PLAIN ? DEFAULT_PORT : DEFAULT_TLS_PORT;
	if (node->type != YAML_MAPPING_NODE) {
		report(c, line_of(node), "an entry of "
		    "'upstream_recursive_servers' must be a map with "
		    "'address_data', not %s", type_name(node));
		return;
	}
	for (pair = node->data.mapping.pairs.start;
	    pair < node->data.mapping.pairs.top; pair++) {
		k = yaml_document_get_node(c->doc, pair->key);
		v = yaml_document_get_node(c->doc, pair->value);
		if ((key = key_text(c, k)) == NULL)
			continue;
		i = lookup(key, upstream_keys, NELEMS(upstream_keys));
		if (i == UP_PORT && rules == UPR_TLS) {
			report(c, line_of(k), "unknown key '%s' in "
			    "'upstream_recursive_servers' (the port of a "
			    "DNS-over-TLS upstream is 'tls_port')", key);
			continue;
		}
		if (i < 0) {
			report(c, line_of(k), "unknown key '%s' in "
			    "'upstream_recursive_servers'", key);
			continue;
		}
		if (rules == UPR_PLAIN && (i == UP_TLS_PORT ||
		    i == UP_AUTH_NAME || i == UP_PINSET)) {
			report(c, line_of(k), "'%s' has no meaning for a zone "
			    "with 'transport: plain'%s", key, i == UP_TLS_PORT ?
			    " (its port is 'port')" : "");
			continue;
		}
		if (!first_time(c, &seen[i], key, line_of(k)))
			continue;
		switch (i) {
		case UP_ADDRESS:
			if (get_string(c, key, line_of(k), v,
			    &up->address) == 0)
				addr_node = v;
			break;
		case UP_TLS_PORT:
		case UP_PORT:
			get_uint(c, key, line_of(k), v, 1, 65535, &up->port);
			break;
		case UP_AUTH_NAME:
			get_string(c, key, line_of(k), v, &up->auth_name);
			break;
		case UP_PINSET:
			parse_pinset(c, line_of(k), v, up);
			break;
		}
	}

	if (!seen[UP_ADDRESS]) {
		report(c, line_of(node), "an upstream needs 'address_data'");
	} else if (addr_node != NULL) {
		/* Only now: the port may come after address_data. */
		if (parse_ip(up->address, strlen(up->address), up->port,
		    &up->addr, &up->addrlen) != 0)
			report(c, line_of(addr_node), "'address_data' must be "
			    "a numeric IPv4 or IPv6 address, not '%.*s'",
			    QUOTE_MAX, up->address);
	}
	if (rules != UPR_TLS)
		return;
	if (!seen[UP_AUTH_NAME] && !seen[UP_PINSET])
		report(c, line_of(node), "an upstream needs 'tls_auth_name' "
		    "or 'tls_pubkey_pinset': dotsec only talks to upstreams "
		    "it can authenticate");
	else if (!seen[UP_AUTH_NAME] && up->npins == 0)
		report(c, line_of(node), "an upstream without "
		    "'tls_auth_name' needs at least one pin: dotsec only "
		    "talks to upstreams it can authenticate");
}

static void
free_upstreams(struct ds_upstream *ups, size_t n)
{
	size_t i, j;

	if (ups == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(ups[i].address);
		free(ups[i].auth_name);
		if (ups[i].pins != NULL) {
			for (j = 0; j < ups[i].npins; j++) {
				free(ups[i].pins[j].digest);
				free(ups[i].pins[j].value);
			}
			free(ups[i].pins);
		}
	}
	free(ups);
}

static void
free_listen(struct ds_listen *ls, size_t n)
{
	size_t i;

	if (ls == NULL)
		return;
	for (i = 0; i < n; i++)
		free(ls[i].spec);
	free(ls);
}

/* A list value of key with at least one item, or -1 after an error. */
static int
nonempty_list(struct ctx *c, const char *key, size_t keyline,
    yaml_node_t *node, const char *what, size_t *n)
{
	if (node->type != YAML_SEQUENCE_NODE) {
		if (is_null(node))
			report(c, keyline, "'%s' needs a list of %s", key,
			    what);
		else
			report(c, line_of(node), "'%s' must be a list of %s, "
			    "not %s", key, what, type_name(node));
		return -1;
	}
	*n = (size_t)(node->data.sequence.items.top -
	    node->data.sequence.items.start);
	if (*n == 0) {
		report(c, line_of(node), "'%s' needs at least one entry",
		    key);
		return -1;
	}
	return 0;
}

/* The list value of key into *ups, replacing what was there. */
static void
parse_upstream_list(struct ctx *c, const char *key, size_t keyline,
    yaml_node_t *node, enum up_rules rules, struct ds_upstream **ups,
    size_t *nups)
{
	yaml_node_item_t *item;
	size_t n;

	if (nonempty_list(c, key, keyline, node, "upstreams", &n) != 0)
		return;
	free_upstreams(*ups, *nups);
	*nups = 0;
	if ((*ups = calloc(n, sizeof(**ups))) == NULL) {
		report(c, line_of(node), "out of memory");
		return;
	}
	*nups = n;
	for (item = node->data.sequence.items.start, n = 0;
	    item < node->data.sequence.items.top; item++, n++)
		parse_upstream(c, yaml_document_get_node(c->doc, *item),
		    &(*ups)[n], rules);
}

static void
parse_upstreams(struct ctx *c, const char *key, size_t keyline,
    yaml_node_t *node, struct ds_config *cfg)
{
	/* The list replaces the defaults rather than adding to them. */
	parse_upstream_list(c, key, keyline, node, UPR_TLS, &cfg->upstreams,
	    &cfg->nupstreams);
}

static void
free_acl_ids(struct acl_identity *ids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(ids[i].id);
	free(ids);
}

static void
parse_acl(struct ctx *c, const char *key, size_t keyline, yaml_node_t *node,
    struct ds_config *cfg)
{
	yaml_node_item_t *item;
	yaml_node_t *v;
	const char *text;
	char err[200];
	size_t n;

	if (nonempty_list(c, key, keyline, node, "address prefixes", &n) != 0)
		return;
	free(cfg->acl);
	cfg->nacl = 0;
	free_acl_ids(cfg->acl_ids, cfg->nacl_ids);
	cfg->acl_ids = NULL;
	cfg->nacl_ids = 0;
	if ((cfg->acl = calloc(n, sizeof(*cfg->acl))) == NULL ||
	    (cfg->acl_ids = calloc(n, sizeof(*cfg->acl_ids))) == NULL) {
		report(c, line_of(node), "out of memory");
		return;
	}
	for (item = node->data.sequence.items.start;
	    item < node->data.sequence.items.top; item++) {
		v = yaml_document_get_node(c->doc, *item);
		if ((text = scalar(c, key, line_of(v), v,
		    "a prefix such as 192.0.2.0/24")) == NULL)
			continue;
		if (acl_is_identity(text)) {
			if (cfg->nacl_ids == ACL_MAX_IDENTITIES)
				report(c, line_of(v), "'%s': at most %d client "
				    "identities", key, ACL_MAX_IDENTITIES);
			else if (acl_identity_parse(text,
			    &cfg->acl_ids[cfg->nacl_ids], err,
			    sizeof(err)) != 0)
				report(c, line_of(v), "'%s': %s", key, err);
			else
				cfg->nacl_ids++;
			continue;
		}
		if (acl_parse(text, &cfg->acl[cfg->nacl], err,
		    sizeof(err)) != 0) {
			report(c, line_of(v), "'%s': %s", key, err);
			continue;
		}
		cfg->nacl++;
	}
	if (cfg->nacl == 0 && cfg->nacl_ids > 0)
		report(c, keyline, "'%s' names client identities but no "
		    "address prefix, which would refuse every client: add "
		    "the networks they come from (0.0.0.0/0 and ::/0 for "
		    "any)", key);
}

/* listen_addresses (UDP and TCP), or with tls listen_tls_addresses (TLS
 * over TCP, port 853 unless given). */
static void
parse_listen(struct ctx *c, const char *key, size_t keyline,
    yaml_node_t *node, struct ds_config *cfg, bool tls)
{
	yaml_node_item_t *item;
	yaml_node_t *v;
	struct ds_listen *l, **list = tls ? &cfg->listen_tls : &cfg->listen;
	size_t *count = tls ? &cfg->nlisten_tls : &cfg->nlisten;
	const char *text;
	size_t n, i;

	if (nonempty_list(c, key, keyline, node, "addresses", &n) != 0)
		return;
	free_listen(*list, *count);
	*count = 0;
	if ((*list = calloc(n, sizeof(**list))) == NULL) {
		report(c, line_of(node), "out of memory");
		return;
	}
	for (item = node->data.sequence.items.start;
	    item < node->data.sequence.items.top; item++) {
		v = yaml_document_get_node(c->doc, *item);
		/* Entries are counted only once complete, so that the
		 * duplicate check below compares real addresses. */
		l = &(*list)[*count];
		if ((text = scalar(c, key, line_of(v), v, tls ?
		    "an address such as 0.0.0.0@853" :
		    "an address such as 127.0.0.1@53")) == NULL)
			continue;
		if (config_parse_addr(text, tls ? DEFAULT_TLS_PORT :
		    DEFAULT_PORT, &l->addr, &l->addrlen) != 0) {
			report(c, line_of(v), "'%.*s' in '%s' is not a "
			    "numeric address with an optional @PORT or "
			    "#PORT in 1..65535", QUOTE_MAX, text, key);
			continue;
		}
		for (i = 0; i < *count; i++)
			if ((*list)[i].addrlen == l->addrlen &&
			    memcmp(&(*list)[i].addr, &l->addr,
			    l->addrlen) == 0)
				break;
		if (i < *count) {
			/* The second bind() would fail; say so now. */
			report(c, line_of(v), "'%.*s' in '%s' is the same "
			    "address as '%.*s'", QUOTE_MAX, text, key,
			    QUOTE_MAX, (*list)[i].spec);
			continue;
		}
		if ((l->spec = strdup(text)) == NULL) {
			report(c, line_of(v), "out of memory");
			continue;
		}
		(*count)++;
	}
}

/*
 * Routing by domain: forward_zones, domain_insecure, local_zones_disable.
 */

/* The special-use zones that dotsecd answers itself (src/route.h), in the
 * order of dotsecd.yml(5); local_zones_disable may name only these. */
const char *const ds_special_zones[] = {
	"localhost.",
	"invalid.",
	"test.",
	"onion.",
	"local.",
	"home.arpa.",
	/* RFC 6303: private and special addresses' reverse zones. */
	"10.in-addr.arpa.",
	"16.172.in-addr.arpa.",
	"17.172.in-addr.arpa.",
	"18.172.in-addr.arpa.",
	"19.172.in-addr.arpa.",
	"20.172.in-addr.arpa.",
	"21.172.in-addr.arpa.",
	"22.172.in-addr.arpa.",
	"23.172.in-addr.arpa.",
	"24.172.in-addr.arpa.",
	"25.172.in-addr.arpa.",
	"26.172.in-addr.arpa.",
	"27.172.in-addr.arpa.",
	"28.172.in-addr.arpa.",
	"29.172.in-addr.arpa.",
	"30.172.in-addr.arpa.",
	"31.172.in-addr.arpa.",
	"168.192.in-addr.arpa.",
	"0.in-addr.arpa.",
	"127.in-addr.arpa.",
	"254.169.in-addr.arpa.",
	"2.0.192.in-addr.arpa.",
	"100.51.198.in-addr.arpa.",
	"113.0.203.in-addr.arpa.",
	"255.255.255.255.in-addr.arpa.",
	"0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "ip6.arpa.",
	"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "ip6.arpa.",
	"d.f.ip6.arpa.",
	"8.e.f.ip6.arpa.",
	"9.e.f.ip6.arpa.",
	"a.e.f.ip6.arpa.",
	"b.e.f.ip6.arpa.",
	"8.b.d.0.1.0.0.2.ip6.arpa.",
	NULL
};

/* A name's presentation form without the final dot, at most; the buffer
 * of normalise_name() holds that, the dot and the NUL. */
#define NAME_TEXT_MAX		253
#define NAME_LABEL_MAX		63
#define NAME_BUFSIZE		(NAME_TEXT_MAX + 2)

/*
 * The domain name text into out, lower case and with the final dot ("."
 * is the root).  Returns NULL, or why text is not a name.  Only letters,
 * digits, '-' and '_' between the dots: escapes ('\') and quotes have no
 * place in a configuration's zone names.
 */
static const char *
normalise_name(const char *text, char out[NAME_BUFSIZE])
{
	size_t len = strlen(text), i, label = 0;
	int ch;

	if (strcmp(text, ".") == 0) {
		memcpy(out, ".", 2);
		return NULL;
	}
	if (len > 0 && text[len - 1] == '.')
		len--;
	if (len == 0)
		return "it is empty";
	if (len > NAME_TEXT_MAX)
		return "it is longer than 253 characters";
	for (i = 0; i < len; i++) {
		ch = (unsigned char)text[i];
		if (ch == '.') {
			if (label == 0)
				return "it has an empty label";
			label = 0;
		} else if ((ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_') {
			label++;
		} else if (ch >= 'A' && ch <= 'Z') {
			ch += 'a' - 'A';
			label++;
		} else {
			return "only letters, digits, '-' and '_' may stand "
			    "between its dots";
		}
		if (label > NAME_LABEL_MAX)
			return "a label is longer than 63 characters";
		out[i] = (char)ch;
	}
	/* "a..": one final dot was taken off, the other ends a label. */
	if (label == 0)
		return "it has an empty label";
	out[len] = '.';
	out[len + 1] = '\0';
	return NULL;
}

/* True when name is zone or below it; both normalised. */
static bool
name_at_or_below(const char *name, const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);

	if (strcmp(zone, ".") == 0 || strcmp(name, zone) == 0)
		return true;
	return n > z && name[n - z - 1] == '.' &&
	    strcmp(name + n - z, zone) == 0;
}

/* The normalised copy of a domain name value of key, or NULL after
 * reporting why there is none. */
static char *
get_name(struct ctx *c, const char *key, size_t keyline, yaml_node_t *node)
{
	char buf[NAME_BUFSIZE], *copy;
	const char *v, *why;

	if ((v = scalar(c, key, keyline, node, "a domain name")) == NULL)
		return NULL;
	if ((why = normalise_name(v, buf)) != NULL) {
		report(c, line_of(node), "'%s' must be a domain name, not "
		    "'%.*s': %s", key, QUOTE_MAX, v, why);
		return NULL;
	}
	if ((copy = strdup(buf)) == NULL)
		report(c, line_of(node), "out of memory");
	return copy;
}

/* A list value of key, possibly empty, or -1 after an error. */
static int
list_of(struct ctx *c, const char *key, size_t keyline, yaml_node_t *node,
    const char *what, size_t *n)
{
	if (node->type != YAML_SEQUENCE_NODE) {
		if (is_null(node))
			report(c, keyline, "'%s' needs a list of %s", key,
			    what);
		else
			report(c, line_of(node), "'%s' must be a list of %s, "
			    "not %s", key, what, type_name(node));
		return -1;
	}
	*n = (size_t)(node->data.sequence.items.top -
	    node->data.sequence.items.start);
	return 0;
}

/* The NULL-terminated vector v of n strings, and v itself. */
static void
free_strings(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The number of strings before v's NULL. */
static size_t
count_strings(char *const *v)
{
	size_t n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	return n;
}

static void
free_zones(struct ds_fwd_zone *zones, size_t n)
{
	size_t i;

	if (zones == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(zones[i].name);
		free_upstreams(zones[i].upstreams, zones[i].nupstreams);
		free(zones[i].tls_ca_file);
		free_strings(zones[i].trust_anchors,
		    count_strings(zones[i].trust_anchors));
	}
	free(zones);
}

/*
 * domain_insecure, local_zones_disable: lists of names, appended to
 * *list (kept NULL-terminated).  special: only ds_special_zones.
 */
static void
parse_names(struct ctx *c, const char *key, size_t keyline,
    yaml_node_t *node, char ***list, size_t *count, bool special)
{
	yaml_node_item_t *item;
	yaml_node_t *v;
	char **grown, *name;
	size_t n, i;

	if (list_of(c, key, keyline, node, "domain names", &n) != 0 ||
	    n == 0)
		return;
	if ((grown = realloc(*list, (*count + n + 1) * sizeof(*grown)))
	    == NULL) {
		report(c, line_of(node), "out of memory");
		return;
	}
	*list = grown;
	grown[*count] = NULL;
	for (item = node->data.sequence.items.start;
	    item < node->data.sequence.items.top; item++) {
		v = yaml_document_get_node(c->doc, *item);
		if ((name = get_name(c, key, line_of(v), v)) == NULL)
			continue;
		if (special) {
			for (i = 0; ds_special_zones[i] != NULL; i++)
				if (strcmp(name, ds_special_zones[i]) == 0)
					break;
			if (ds_special_zones[i] == NULL) {
				report(c, line_of(v), "'%s' in '%s' is not a "
				    "zone dotsecd serves locally (see "
				    "dotsecd.yml(5) for the list)", name,
				    key);
				free(name);
				continue;
			}
		}
		for (i = 0; i < *count; i++)
			if (strcmp(name, grown[i]) == 0)
				break;
		if (i < *count) {
			report(c, line_of(v), "'%s' is listed twice in '%s'",
			    name, key);
			free(name);
			continue;
		}
		grown[(*count)++] = name;
		grown[*count] = NULL;
	}
}

/* Advance over blanks; then the length of the field at *p. */
static size_t
next_field(const char **p)
{
	*p += strspn(*p, " \t");
	return strcspn(*p, " \t");
}

/* Whether the n bytes at field, ignoring case, are word. */
static bool
field_is(const char *field, size_t n, const char *word)
{
	size_t i;
	int a, b;

	if (strlen(word) != n)
		return false;
	for (i = 0; i < n; i++) {
		a = (unsigned char)field[i];
		b = (unsigned char)word[i];
		if (a >= 'a' && a <= 'z')
			a -= 'a' - 'A';
		if (a != b)
			return false;
	}
	return true;
}

/* A TTL or a class field of a record in zone file format. */
static bool
ttl_or_class(const char *field, size_t n)
{
	size_t i;

	if (field_is(field, n, "IN") || field_is(field, n, "CH") ||
	    field_is(field, n, "HS") || field_is(field, n, "CS"))
		return true;
	if (n > 5 && field_is(field, 5, "CLASS")) {
		for (i = 5; i < n; i++)
			if (field[i] < '0' || field[i] > '9')
				return false;
		return true;
	}
	/* A TTL: seconds, or BIND's units as in "1h30m". */
	if (n == 0 || field[0] < '0' || field[0] > '9')
		return false;
	for (i = 0; i < n; i++)
		if ((field[i] < '0' || field[i] > '9') &&
		    strchr("smhdwSMHDW", field[i]) == NULL)
			return false;
	return true;
}

/*
 * Check one trust anchor line, "OWNER [TTL] [CLASS] DS|DNSKEY RDATA":
 * NULL when it is one for zone (NULL: any zone), else why not.
 */
static const char *
check_anchor(const char *text, const char *zone)
{
	char owner[NAME_BUFSIZE];
	const char *p = text;
	size_t n, skipped = 0;

	n = next_field(&p);
	if (n == 0 || n >= sizeof(owner))
		return "it must start with the owner name";
	memcpy(owner, p, n);
	owner[n] = '\0';
	if (normalise_name(owner, owner) != NULL)
		return "it must start with the owner name";
	if (zone != NULL && !name_at_or_below(owner, zone))
		return "its owner name is not at or below the zone's name";
	p += n;
	for (;;) {
		n = next_field(&p);
		if (n == 0 || skipped == 2 || !ttl_or_class(p, n))
			break;
		p += n;
		skipped++;
	}
	if (!field_is(p, n, "DS") && !field_is(p, n, "DNSKEY"))
		return "it is not a DS or DNSKEY record";
	p += n;
	if (next_field(&p) == 0)
		return "its record data is missing";
	return NULL;
}

static void
parse_anchors(struct ctx *c, const char *key, size_t keyline,
    yaml_node_t *node, struct ds_fwd_zone *z)
{
	yaml_node_item_t *item;
	yaml_node_t *v;
	const char *text, *why;
	size_t n;

	if (list_of(c, key, keyline, node, "DS or DNSKEY records", &n) != 0 ||
	    n == 0)
		return;
	if ((z->trust_anchors = calloc(n + 1, sizeof(*z->trust_anchors)))
	    == NULL) {
		report(c, line_of(node), "out of memory");
		return;
	}
	n = 0;
	for (item = node->data.sequence.items.start;
	    item < node->data.sequence.items.top; item++) {
		v = yaml_document_get_node(c->doc, *item);
		if ((text = scalar(c, key, line_of(v), v,
		    "a DS or DNSKEY record")) == NULL)
			continue;
		if ((why = check_anchor(text, z->name)) != NULL) {
			report(c, line_of(v), "trust anchor '%.*s' of zone "
			    "'%s': %s", QUOTE_MAX, text,
			    z->name != NULL ? z->name : "?", why);
			continue;
		}
		/* Verbatim: libunbound reads it. */
		if ((z->trust_anchors[n] = strdup(text)) == NULL) {
			report(c, line_of(v), "out of memory");
			continue;
		}
		n++;
	}
}

/*
 * forward_zones: [{name, upstream_recursive_servers, tls_ca_file,
 * transport, dnssec, trust_anchors}, ...]
 */

enum { FZ_NAME, FZ_UPSTREAMS, FZ_CA_FILE, FZ_TRANSPORT, FZ_DNSSEC,
    FZ_ANCHORS };
static const char *const zone_keys[] = {
	"name", "upstream_recursive_servers", "tls_ca_file", "transport",
	"dnssec", "trust_anchors"
};

/* The zone at cfg->fwd_zones[idx], after every zone before it. */
static void
parse_zone(struct ctx *c, yaml_node_t *node, struct ds_config *cfg,
    size_t idx)
{
	struct ds_fwd_zone *z = &cfg->fwd_zones[idx];
	bool seen[NELEMS(zone_keys)] = { false };
	yaml_node_t *val[NELEMS(zone_keys)] = { NULL };
	size_t keyline[NELEMS(zone_keys)] = { 0 };
	bool transport_ok = true;
	enum up_rules rules;
	yaml_node_pair_t *pair;
	yaml_node_t *k, *v;
	const char *key, *text;
	size_t j;
	int i;

	z->line = line_of(node);
	z->file = c->file;
	if (node->type != YAML_MAPPING_NODE) {
		report(c, line_of(node), "an entry of 'forward_zones' must be "
		    "a map with 'name' and 'upstream_recursive_servers', "
		    "not %s", type_name(node));
		return;
	}
	for (pair = node->data.mapping.pairs.start;
	    pair < node->data.mapping.pairs.top; pair++) {
		k = yaml_document_get_node(c->doc, pair->key);
		v = yaml_document_get_node(c->doc, pair->value);
		if ((key = key_text(c, k)) == NULL)
			continue;
		if ((i = lookup(key, zone_keys, NELEMS(zone_keys))) < 0) {
			report(c, line_of(k), "unknown key '%.*s' in a "
			    "forward zone", QUOTE_MAX, key);
			continue;
		}
		if (!first_time(c, &seen[i], key, line_of(k)))
			continue;
		val[i] = v;
		keyline[i] = line_of(k);
		switch (i) {
		case FZ_NAME:
			if ((z->name = get_name(c, key, keyline[i], v)) ==
			    NULL)
				break;
			for (j = 0; j < idx; j++) {
				const struct ds_fwd_zone *o =
				    &cfg->fwd_zones[j];

				if (o->name != NULL &&
				    strcmp(o->name, z->name) == 0) {
					report(c, line_of(v), "forward zone "
					    "'%s' already defined at %s:%zu",
					    z->name, o->file, o->line);
					break;
				}
			}
			break;
		case FZ_CA_FILE:
			get_string(c, key, keyline[i], v, &z->tls_ca_file);
			break;
		case FZ_TRANSPORT:
			transport_ok = false;
			if ((text = scalar(c, key, keyline[i], v,
			    "tls or plain")) == NULL)
				break;
			if (strcmp(text, "tls") == 0) {
				z->transport = DS_FWD_TLS;
			} else if (strcmp(text, "plain") == 0) {
				z->transport = DS_FWD_PLAIN;
			} else {
				report(c, line_of(v), "unknown transport "
				    "'%.*s' in a forward zone (tls or plain)",
				    QUOTE_MAX, text);
				break;
			}
			transport_ok = true;
			break;
		case FZ_DNSSEC:
			if ((text = scalar(c, key, keyline[i], v,
			    "validate or insecure")) == NULL)
				break;
			if (strcmp(text, "validate") == 0)
				z->insecure = false;
			else if (strcmp(text, "insecure") == 0)
				z->insecure = true;
			else
				report(c, line_of(v), "unknown 'dnssec' value "
				    "'%.*s' in a forward zone (validate or "
				    "insecure)", QUOTE_MAX, text);
			break;
		default:
			/* Upstreams and anchors once the rest is known: the
			 * transport and name may come after them. */
			break;
		}
	}

	if (!seen[FZ_NAME])
		report(c, line_of(node), "a forward zone needs 'name'");
	if (!seen[FZ_UPSTREAMS]) {
		report(c, line_of(node), "a forward zone needs "
		    "'upstream_recursive_servers'");
	} else {
		rules = !transport_ok ? UPR_EITHER :
		    z->transport == DS_FWD_PLAIN ? UPR_PLAIN : UPR_TLS;
		parse_upstream_list(c, zone_keys[FZ_UPSTREAMS],
		    keyline[FZ_UPSTREAMS], val[FZ_UPSTREAMS], rules,
		    &z->upstreams, &z->nupstreams);
	}
	if (transport_ok && z->transport == DS_FWD_PLAIN) {
		if (seen[FZ_CA_FILE])
			report(c, keyline[FZ_CA_FILE], "'tls_ca_file' has no "
			    "meaning for a zone with 'transport: plain'");
		if (z->name != NULL && strcmp(z->name, ".") == 0)
			report(c, line_of(val[FZ_TRANSPORT]), "the root "
			    "cannot be a 'transport: plain' zone: every name "
			    "would leave the host in clear text");
	}
	if (seen[FZ_ANCHORS]) {
		if (z->insecure)
			report(c, keyline[FZ_ANCHORS], "'trust_anchors' "
			    "contradicts 'dnssec: insecure': a zone left "
			    "unvalidated has no use for trust anchors");
		else
			parse_anchors(c, zone_keys[FZ_ANCHORS],
			    keyline[FZ_ANCHORS], val[FZ_ANCHORS], z);
	}
}

/* Appended to cfg's zones: include files add theirs. */
static void
parse_fwd_zones(struct ctx *c, const char *key, size_t keyline,
    yaml_node_t *node, struct ds_config *cfg)
{
	struct ds_fwd_zone *grown;
	yaml_node_item_t *item;
	size_t n, idx;

	if (list_of(c, key, keyline, node, "forward zones", &n) != 0 ||
	    n == 0)
		return;
	if ((grown = realloc(cfg->fwd_zones, (cfg->nfwd_zones + n) *
	    sizeof(*grown))) == NULL) {
		report(c, line_of(node), "out of memory");
		return;
	}
	cfg->fwd_zones = grown;
	memset(grown + cfg->nfwd_zones, 0, n * sizeof(*grown));
	for (item = node->data.sequence.items.start;
	    item < node->data.sequence.items.top; item++) {
		/* Counted at once: zeroed zones are safe to free. */
		idx = cfg->nfwd_zones++;
		parse_zone(c, yaml_document_get_node(c->doc, *item), cfg,
		    idx);
	}
}

/*
 * The top level.
 */

enum key_kind {
	K_UINT,		/* unsigned in min..max */
	K_BOOL,		/* 0, 1, true, false */
	K_STRING,	/* non-empty string */
	K_USER,		/* a string, or "" (user: stay root;
			   control_socket: none) */
	K_ACL,		/* list of address prefixes */
	K_TLS_VERSION,
	K_LOG_LEVEL,
	K_LISTEN,
	K_LISTEN_TLS,	/* listen_tls_addresses */
	K_UPSTREAMS,
	K_FWD_ZONES,	/* forward_zones: appended, includes too */
	K_INSECURE,	/* domain_insecure: names, appended */
	K_LOCAL_ZONES,	/* local_zones_disable: some of ds_special_zones */
	K_INCLUDE_DIR,	/* a string, and its line for later errors */
	K_FIXED,	/* Stubby key with the one value dotsec allows */
	K_TRANSPORTS,	/* dns_transport_list: TLS and nothing else */
	K_IGNORED,	/* Stubby key without meaning here: warn */
	K_REFUSED	/* Stubby key replaced by another: error */
};

struct key_desc {
	const char *name;
	enum key_kind kind;
	size_t offset;		/* of the field in struct ds_config */
	unsigned long min, max;	/* K_UINT */
	const char *value;	/* K_FIXED: the value accepted */
	const char *why;	/* K_FIXED, K_TRANSPORTS, K_IGNORED,
				 * K_REFUSED: said in the message */
};

#define FIELD(f)	offsetof(struct ds_config, f)
#define UINT_KEY(n, f, lo, hi)	{ n, K_UINT, FIELD(f), lo, hi, NULL, NULL }
#define KEY(n, k, f)		{ n, k, FIELD(f), 0, 0, NULL, NULL }
#define FIXED_KEY(n, v, why)	{ n, K_FIXED, 0, 0, 0, v, why }
#define OTHER_KEY(n, k, why)	{ n, k, 0, 0, 0, NULL, why }

/* Timeouts are capped at an hour: a larger one is a mistake in units. */
static const struct key_desc top_keys[] = {
	KEY("listen_addresses", K_LISTEN, listen),
	KEY("listen_tls_addresses", K_LISTEN_TLS, listen_tls),
	KEY("tls_service_pem", K_STRING, tls_service_pem),
	KEY("tls_service_key", K_STRING, tls_service_key),
	KEY("tls_client_ca", K_STRING, tls_client_ca),
	UINT_KEY("tls_handshake_timeout", tls_handshake_timeout_ms, 1, 60000),
	KEY("upstream_recursive_servers", K_UPSTREAMS, upstreams),
	KEY("round_robin_upstreams", K_BOOL, round_robin),
	UINT_KEY("tls_query_padding_blocksize", padding_blocksize, 0, 512),
	UINT_KEY("idle_timeout", idle_timeout_ms, 0, 3600000),
	UINT_KEY("timeout", timeout_ms, 1, 60000),
	UINT_KEY("upstream_stall_timeout", upstream_stall_ms, 50, 60000),
	UINT_KEY("tls_backoff_time", tls_backoff_time, 0, 86400),
	UINT_KEY("tls_connection_retries", tls_connection_retries, 0, 100),
	/* At least 1: dotsec always bounds its queue, unlike Stubby's 0. */
	UINT_KEY("limit_outstanding_queries", limit_outstanding_queries,
	    1, 1000000),
	KEY("tls_ca_file", K_STRING, tls_ca_file),
	KEY("tls_ca_path", K_STRING, tls_ca_path),
	KEY("tls_min_version", K_TLS_VERSION, tls_min_version),
	KEY("tls_max_version", K_TLS_VERSION, tls_max_version),
	KEY("trust_anchor_file", K_STRING, trust_anchor_file),
	KEY("state_dir", K_STRING, state_dir),
	KEY("user", K_USER, user),
	KEY("control_socket", K_USER, control_socket),
	KEY("access_control", K_ACL, acl),
	KEY("query_log", K_STRING, query_log),
	KEY("metrics_address", K_STRING, metrics_address),
	UINT_KEY("health_max_age", health_max_age, 1, 86400),
	KEY("access_control_drop", K_BOOL, acl_drop),
	UINT_KEY("ratelimit_qps", ratelimit_qps, 0, 1000000),
	KEY("ratelimit_refuse", K_BOOL, ratelimit_refuse),
	UINT_KEY("anchor_add_holddown", anchor_add_holddown, 1, 31622400),
	UINT_KEY("anchor_del_holddown", anchor_del_holddown, 1, 31622400),
	UINT_KEY("anchor_keep_missing", anchor_keep_missing, 1, 63244800),
	UINT_KEY("anchor_probe_interval", anchor_probe_interval, 0, 2592000),
	KEY("anchor_bootstrap", K_BOOL, anchor_bootstrap),
	KEY("anchor_bootstrap_xml", K_STRING, anchor_bootstrap_xml),
	KEY("anchor_bootstrap_sig", K_STRING, anchor_bootstrap_sig),
	KEY("anchor_bootstrap_url", K_STRING, anchor_bootstrap_url),
	/* Stubby's and getdns's name for the same URL. */
	KEY("trust_anchors_url", K_STRING, anchor_bootstrap_url),
	KEY("anchor_bootstrap_ca", K_STRING, anchor_bootstrap_ca),
	KEY("anchor_bootstrap_email", K_STRING, anchor_bootstrap_email),
	KEY("anchor_bootstrap_url_ca", K_STRING, anchor_bootstrap_url_ca),
	KEY("log_level", K_LOG_LEVEL, log_level),
	UINT_KEY("edns_udp_size", edns_udp_size, 512, 4096),
	UINT_KEY("workers", workers, 0, 64),
	UINT_KEY("cache_size", cache_size, 1048576, 2147483647),
	UINT_KEY("cache_min_ttl", cache_min_ttl, 0, 86400),
	UINT_KEY("cache_max_ttl", cache_max_ttl, 1, 604800),
	KEY("prefetch", K_BOOL, prefetch),
	KEY("sandbox", K_BOOL, sandbox),
	KEY("sandbox_log", K_BOOL, sandbox_log),
	KEY("allow_core_dumps", K_BOOL, allow_core_dumps),
	KEY("serve_stale", K_BOOL, serve_stale),
	KEY("aggressive_nsec", K_BOOL, aggressive_nsec),
	KEY("cache_persist", K_BOOL, cache_persist),
	UINT_KEY("bogus_ttl", bogus_ttl, 0, 3600),
	UINT_KEY("tcp_idle_timeout", tcp_idle_timeout_ms, 1, 3600000),
	UINT_KEY("tcp_max_connections", tcp_max_connections, 1, 65535),
	UINT_KEY("tcp_max_inflight", tcp_max_inflight, 1, 65535),
	UINT_KEY("tcp_read_timeout", tcp_read_timeout_ms, 1, 60000),
	UINT_KEY("so_rcvbuf", so_rcvbuf, 0, 268435456),
	UINT_KEY("max_inflight", max_inflight, 1, 1000000),
	KEY("forward_zones", K_FWD_ZONES, fwd_zones),
	KEY("domain_insecure", K_INSECURE, domain_insecure),
	KEY("local_zones_disable", K_LOCAL_ZONES, local_zones_disable),
	KEY("include_dir", K_INCLUDE_DIR, include_dir),

	FIXED_KEY("resolution_type", "GETDNS_RESOLUTION_STUB",
	    "dotsec is a stub: its upstreams do the recursion"),
	FIXED_KEY("tls_authentication", "GETDNS_AUTHENTICATION_REQUIRED",
	    "dotsec always authenticates its upstreams"),
	OTHER_KEY("dns_transport_list", K_TRANSPORTS,
	    "dotsec never sends queries in clear text"),

	OTHER_KEY("edns_client_subnet_private", K_IGNORED,
	    "not used by dotsec"),
	OTHER_KEY("appdata_dir", K_IGNORED, "not used by dotsec"),
	OTHER_KEY("dnssec", K_IGNORED, "dotsec always validates DNSSEC"),
	OTHER_KEY("dnssec_return_status", K_IGNORED,
	    "dotsec always validates DNSSEC"),
	OTHER_KEY("trust_anchors_backoff_time", K_IGNORED,
	    "dotsec reads its trust anchors from 'trust_anchor_file'"),
	OTHER_KEY("dnssec_trust_anchors", K_REFUSED,
	    "use 'trust_anchor_file' to name the file of root trust anchors"),
};

static void
set_bool(struct ctx *c, const struct key_desc *kd, size_t keyline,
    yaml_node_t *v, struct ds_config *cfg)
{
	bool *field = (bool *)((char *)cfg + kd->offset);
	const char *text;

	if ((text = scalar(c, kd->name, keyline, v, "0, 1, true or false"))
	    == NULL)
		return;
	if (strcmp(text, "1") == 0 || strcmp(text, "true") == 0 ||
	    strcmp(text, "True") == 0 || strcmp(text, "TRUE") == 0)
		*field = true;
	else if (strcmp(text, "0") == 0 || strcmp(text, "false") == 0 ||
	    strcmp(text, "False") == 0 || strcmp(text, "FALSE") == 0)
		*field = false;
	else
		report(c, line_of(v), "'%s' must be 0, 1, true or false, "
		    "not '%.*s'", kd->name, QUOTE_MAX, text);
}

static void
set_tls_version(struct ctx *c, const struct key_desc *kd, size_t keyline,
    yaml_node_t *v, struct ds_config *cfg)
{
	const char *text;

	if ((text = scalar(c, kd->name, keyline, v, "a TLS version")) == NULL)
		return;
	if (strcmp(text, "GETDNS_TLS1_2") != 0 &&
	    strcmp(text, "GETDNS_TLS1_3") != 0) {
		report(c, line_of(v), "'%s' must be GETDNS_TLS1_2 or "
		    "GETDNS_TLS1_3, not '%.*s'", kd->name, QUOTE_MAX, text);
		return;
	}
	get_string(c, kd->name, keyline, v,
	    (char **)((char *)cfg + kd->offset));
}

static void
set_log_level(struct ctx *c, const struct key_desc *kd, size_t keyline,
    yaml_node_t *v, struct ds_config *cfg)
{
	enum ds_log_level level;
	const char *text;

	if ((text = scalar(c, kd->name, keyline, v, "a log level")) == NULL)
		return;
	if (ds_log_level_parse(text, &level) != 0) {
		report(c, line_of(v), "'%s' must be error, warning, notice, "
		    "info or debug, not '%.*s'", kd->name, QUOTE_MAX, text);
		return;
	}
	cfg->log_level = level;
}

static void
check_fixed(struct ctx *c, const struct key_desc *kd, size_t keyline,
    yaml_node_t *v)
{
	const char *text;

	if ((text = scalar(c, kd->name, keyline, v, kd->value)) == NULL)
		return;
	if (strcmp(text, kd->value) != 0)
		report(c, line_of(v), "'%s' must be %s, not '%.*s': %s",
		    kd->name, kd->value, QUOTE_MAX, text, kd->why);
}

static void
check_transports(struct ctx *c, const struct key_desc *kd, size_t keyline,
    yaml_node_t *v)
{
	yaml_node_t *item;
	const char *text;

	if (v->type == YAML_SEQUENCE_NODE &&
	    v->data.sequence.items.top - v->data.sequence.items.start == 1) {
		item = yaml_document_get_node(c->doc,
		    *v->data.sequence.items.start);
		if (item->type == YAML_SCALAR_NODE) {
			text = (const char *)item->data.scalar.value;
			if (strcmp(text, "GETDNS_TRANSPORT_TLS") == 0)
				return;
		}
	}
	report(c, is_null(v) ? keyline : line_of(v), "'%s' must be "
	    "[GETDNS_TRANSPORT_TLS]: %s", kd->name, kd->why);
}

/* What a file of include_dir may hold. */
static const char *const include_keys[] = {
	"forward_zones", "domain_insecure"
};

static void
parse_top(struct ctx *c, yaml_node_t *root, struct ds_config *cfg)
{
	bool seen[NELEMS(top_keys)] = { false };
	const struct key_desc *kd;
	yaml_node_pair_t *pair;
	yaml_node_t *k, *v;
	const char *key;
	size_t i, keyline;

	for (pair = root->data.mapping.pairs.start;
	    pair < root->data.mapping.pairs.top; pair++) {
		k = yaml_document_get_node(c->doc, pair->key);
		v = yaml_document_get_node(c->doc, pair->value);
		if ((key = key_text(c, k)) == NULL)
			continue;
		keyline = line_of(k);
		if (c->include &&
		    lookup(key, include_keys, NELEMS(include_keys)) < 0) {
			report(c, keyline, "key '%.*s' is not allowed in an "
			    "include file (only 'forward_zones' and "
			    "'domain_insecure')", QUOTE_MAX, key);
			continue;
		}
		for (i = 0; i < NELEMS(top_keys); i++)
			if (strcmp(key, top_keys[i].name) == 0)
				break;
		if (i == NELEMS(top_keys)) {
			report(c, keyline, "unknown key '%.*s'", QUOTE_MAX,
			    key);
			continue;
		}
		if (!first_time(c, &seen[i], key, keyline))
			continue;
		kd = &top_keys[i];
		switch (kd->kind) {
		case K_UINT:
			get_uint(c, key, keyline, v, kd->min, kd->max,
			    (unsigned *)((char *)cfg + kd->offset));
			break;
		case K_BOOL:
			set_bool(c, kd, keyline, v, cfg);
			break;
		case K_STRING:
			get_string(c, key, keyline, v,
			    (char **)((char *)cfg + kd->offset));
			break;
		case K_ACL:
			parse_acl(c, key, keyline, v, cfg);
			break;
		case K_USER: {
			char **sp = (char **)((char *)cfg + kd->offset);

			/* An explicit "" is allowed: it keeps root, or
			 * means no control socket. */
			if (v->type == YAML_SCALAR_NODE &&
			    v->data.scalar.length == 0 &&
			    v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
				char *e = strdup("");

				if (e == NULL) {
					report(c, keyline, "out of memory");
					break;
				}
				free(*sp);
				*sp = e;
			} else
				get_string(c, key, keyline, v, sp);
			break;
		}
		case K_TLS_VERSION:
			set_tls_version(c, kd, keyline, v, cfg);
			break;
		case K_LOG_LEVEL:
			set_log_level(c, kd, keyline, v, cfg);
			break;
		case K_LISTEN:
			parse_listen(c, key, keyline, v, cfg, false);
			break;
		case K_LISTEN_TLS:
			parse_listen(c, key, keyline, v, cfg, true);
			break;
		case K_UPSTREAMS:
			parse_upstreams(c, key, keyline, v, cfg);
			break;
		case K_FWD_ZONES:
			parse_fwd_zones(c, key, keyline, v, cfg);
			break;
		case K_INSECURE:
			parse_names(c, key, keyline, v, &cfg->domain_insecure,
			    &cfg->ndomain_insecure, false);
			break;
		case K_LOCAL_ZONES:
			parse_names(c, key, keyline, v,
			    &cfg->local_zones_disable,
			    &cfg->nlocal_zones_disable, true);
			break;
		case K_INCLUDE_DIR:
			if (get_string(c, key, keyline, v,
			    &cfg->include_dir) == 0)
				c->include_dir_line = keyline;
			break;
		case K_FIXED:
			check_fixed(c, kd, keyline, v);
			break;
		case K_TRANSPORTS:
			check_transports(c, kd, keyline, v);
			break;
		case K_IGNORED:
			/* Not an error: Stubby's files must load as they
			 * are. */
			ds_warn("%s:%zu: ignoring '%s': %s", c->name,
			    keyline, key, kd->why);
			break;
		case K_REFUSED:
			report(c, keyline, "'%s' is not supported: %s", key,
			    kd->why);
			break;
		}
	}
}

/*
 * Public functions.
 */

struct ds_config *
config_default(void)
{
	struct ds_config *cfg;
	struct ds_upstream *up;
	char err[200];
	size_t i;

	if ((cfg = calloc(1, sizeof(*cfg))) == NULL)
		return NULL;
	cfg->round_robin = true;
	cfg->padding_blocksize = 128;
	cfg->idle_timeout_ms = 60000;
	cfg->timeout_ms = 5000;
	cfg->upstream_stall_ms = 500;
	cfg->tls_backoff_time = 10;
	cfg->tls_connection_retries = 2;
	cfg->limit_outstanding_queries = 1000;
	cfg->log_level = DS_LOG_NOTICE;
	cfg->edns_udp_size = 1232;
	cfg->workers = 0;
	cfg->anchor_add_holddown = 30 * 86400;
	cfg->anchor_del_holddown = 30 * 86400;
	cfg->anchor_keep_missing = 366 * 86400;
	cfg->anchor_probe_interval = 0;
	cfg->cache_size = 32 * 1024 * 1024;
	cfg->cache_min_ttl = 0;
	cfg->cache_max_ttl = 86400;
	cfg->prefetch = true;
	cfg->sandbox = true;
	cfg->serve_stale = false;
	cfg->aggressive_nsec = true;
	cfg->cache_persist = false;
	cfg->bogus_ttl = 60;
	cfg->tcp_idle_timeout_ms = 10000;
	cfg->tcp_max_connections = 1000;
	if ((cfg->acl = calloc(2, sizeof(*cfg->acl))) == NULL ||
	    acl_parse("127.0.0.0/8", &cfg->acl[0], err, sizeof(err)) != 0 ||
	    acl_parse("::1", &cfg->acl[1], err, sizeof(err)) != 0)
		goto fail;
	cfg->nacl = 2;
	cfg->tcp_max_inflight = 100;
	cfg->tcp_read_timeout_ms = 3000;
	cfg->tls_handshake_timeout_ms = 3000;
	cfg->health_max_age = 60;
	cfg->max_inflight = 10000;
	if ((cfg->path = strdup("(defaults)")) == NULL ||
	    (cfg->trust_anchor_file = strdup(DS_DATADIR "/root.key")) == NULL ||
	    (cfg->state_dir = strdup(DS_STATEDIR)) == NULL ||
	    (cfg->user = strdup("dotsec")) == NULL ||
	    (cfg->control_socket = strdup(DS_RUNDIR "/control.sock")) ==
	    NULL ||
	    (cfg->anchor_bootstrap_url = strdup(
	    "https://data.iana.org/root-anchors/root-anchors.xml")) == NULL ||
	    (cfg->anchor_bootstrap_ca = strdup(DS_DATADIR
	    "/icannbundle.pem")) == NULL ||
	    (cfg->anchor_bootstrap_email = strdup("dnssec@iana.org")) == NULL)
		goto fail;

	cfg->listen = calloc(NELEMS(default_listen), sizeof(*cfg->listen));
	if (cfg->listen == NULL)
		goto fail;
	for (i = 0; i < NELEMS(default_listen); i++) {
		if ((cfg->listen[i].spec = strdup(default_listen[i])) == NULL)
			goto fail;
		cfg->nlisten++;
		if (config_parse_addr(default_listen[i], DEFAULT_PORT,
		    &cfg->listen[i].addr, &cfg->listen[i].addrlen) != 0)
			goto fail;
	}

	cfg->upstreams = calloc(NELEMS(default_upstreams),
	    sizeof(*cfg->upstreams));
	if (cfg->upstreams == NULL)
		goto fail;
	cfg->nupstreams = NELEMS(default_upstreams);
	for (i = 0; i < NELEMS(default_upstreams); i++) {
		up = &cfg->upstreams[i];
		up->port = DEFAULT_TLS_PORT;
		if ((up->address = strdup(default_upstreams[i].address))
		    == NULL || (up->auth_name =
		    strdup(default_upstreams[i].auth_name)) == NULL)
			goto fail;
		if (parse_ip(up->address, strlen(up->address), up->port,
		    &up->addr, &up->addrlen) != 0)
			goto fail;
	}
	return cfg;

fail:
	config_free(cfg);
	return NULL;
}

/* Report libyaml's complaint at the line where it found it. */
static void
yaml_problem(struct ctx *c, const yaml_parser_t *parser, const char *text,
    size_t len)
{
	size_t line, i;

	if (parser->error == YAML_MEMORY_ERROR) {
		report_raw(c, "%s: out of memory", c->name);
		return;
	}
	if (parser->error == YAML_READER_ERROR) {
		/* The reader has only a byte offset. */
		line = 1;
		for (i = 0; i < parser->problem_offset && i < len; i++)
			if (text[i] == '\n')
				line++;
	} else {
		line = parser->problem_mark.line + 1;
	}
	report(c, line, "%s", parser->problem != NULL ? parser->problem :
	    "invalid YAML");
}

/*
 * One YAML document of text[0..len) into cfg: the main file, or with
 * c->include a file of include_dir.  A second document is an error.
 */
static void
parse_text(struct ctx *c, const char *text, size_t len,
    struct ds_config *cfg)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;

	if (text == NULL)
		len = 0;
	if (!yaml_parser_initialize(&parser)) {
		report_raw(c, "%s: out of memory", c->name);
		return;
	}
	c->doc = &doc;
	yaml_parser_set_input_string(&parser,
	    (const unsigned char *)(len > 0 ? text : ""), len);

	if (!yaml_parser_load(&parser, &doc)) {
		yaml_problem(c, &parser, text, len);
		goto done;
	}
	root = yaml_document_get_root_node(&doc);
	/* No document, or an empty one: every default stands. */
	if (root != NULL && !is_null(root)) {
		if (root->type != YAML_MAPPING_NODE)
			report(c, line_of(root), "the top level must be a "
			    "map of keys, not %s", type_name(root));
		else
			parse_top(c, root, cfg);
	}
	yaml_document_delete(&doc);

	/* A second document would be ignored silently; refuse it. */
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_problem(c, &parser, text, len);
		goto done;
	}
	if ((root = yaml_document_get_root_node(&doc)) != NULL)
		report(c, line_of(root), "only one YAML document is allowed");
	yaml_document_delete(&doc);

done:
	yaml_parser_delete(&parser);
	c->doc = NULL;
}

/*
 * The whole file at path into *buf (malloc'd, not NUL-terminated) and
 * *len.  Returns 0, or -1 after reporting why not.
 */
static int
read_file(struct ctx *c, const char *path, char **buf, size_t *len)
{
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL) {
		report_raw(c, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	/* One byte more than allowed, to tell a full file from a cut one. */
	if ((*buf = malloc(CONFIG_MAX_SIZE + 1)) == NULL) {
		report_raw(c, "%s: out of memory", path);
		fclose(f);
		return -1;
	}
	*len = fread(*buf, 1, CONFIG_MAX_SIZE + 1, f);
	if (ferror(f)) {
		report_raw(c, "cannot read %s: %s", path, strerror(errno));
		fclose(f);
		free(*buf);
		return -1;
	}
	fclose(f);
	if (*len > CONFIG_MAX_SIZE) {
		report_raw(c, "%s: larger than %d bytes; is this the "
		    "configuration file?", path, CONFIG_MAX_SIZE);
		free(*buf);
		return -1;
	}
	return 0;
}

/* "*.yml", as the shell's glob has it: not a hidden file. */
static bool
is_include_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 4 && strcmp(name + n - 4, ".yml") == 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* path, taken over, to the end of cfg->files; NULL on failure. */
static char *
add_file(struct ds_config *cfg, char *path)
{
	size_t n = count_strings(cfg->files);
	char **grown;

	if ((grown = realloc(cfg->files, (n + 2) * sizeof(*grown))) == NULL) {
		free(path);
		return NULL;
	}
	cfg->files = grown;
	grown[n] = path;
	grown[n + 1] = NULL;
	return path;
}

/* One file of include_dir, with its own name in error lines. */
static void
parse_include(struct ctx *c, struct ds_config *cfg, char *path)
{
	const char *saved_name = c->name;
	char *saved_file = c->file;
	char *buf;
	size_t len;

	c->name = path;
	c->file = path;
	c->include = true;
	if (read_file(c, path, &buf, &len) == 0) {
		parse_text(c, buf, len, cfg);
		free(buf);
	}
	c->include = false;
	c->name = saved_name;
	c->file = saved_file;
}

/*
 * Every regular "*.yml" of cfg->include_dir, in strcmp() order.  The
 * operator named the directory, so a missing one is an error; an empty
 * one is not.
 */
static void
parse_include_dir(struct ctx *c, struct ds_config *cfg)
{
	const char *dir = cfg->include_dir;
	char **names = NULL, **grown, *path;
	size_t n = 0, i, size;
	struct dirent *de;
	struct stat st;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		report(c, c->include_dir_line, "include_dir %s: %s", dir,
		    strerror(errno));
		return;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0)
				report(c, c->include_dir_line, "include_dir "
				    "%s: %s", dir, strerror(errno));
			break;
		}
		if (!is_include_name(de->d_name))
			continue;
		if ((grown = realloc(names, (n + 1) * sizeof(*names))) ==
		    NULL || (grown[n] = strdup(de->d_name)) == NULL) {
			if (grown != NULL)
				names = grown;
			report(c, c->include_dir_line, "out of memory");
			break;
		}
		names = grown;
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);

	for (i = 0; i < n; i++) {
		size = strlen(dir) + 1 + strlen(names[i]) + 1;
		if ((path = malloc(size)) == NULL) {
			report(c, c->include_dir_line, "out of memory");
			break;
		}
		snprintf(path, size, "%s%s%s", dir,
		    dir[strlen(dir) - 1] == '/' ? "" : "/", names[i]);
		/* stat(), not lstat(): a link to a file is a file. */
		if (stat(path, &st) != 0) {
			report_raw(c, "cannot open %s: %s", path,
			    strerror(errno));
			free(path);
			continue;
		}
		if (!S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		if ((path = add_file(cfg, path)) == NULL) {
			report(c, c->include_dir_line, "out of memory");
			break;
		}
		parse_include(c, cfg, path);
	}
	free_strings(names, n);
}

/* Runtime additions (dotsec-control nta/forward), parsed after the file
 * and its include_dir as one more include: forward_zones and
 * domain_insecure only, appended, checked as any include is. */
static void
parse_overlay(struct ctx *c, struct ds_config *cfg, const char *text,
    size_t len)
{
	const char *saved_name = c->name;
	char *saved_file = c->file, *name;

	if ((name = add_file(cfg, strdup(CONFIG_OVERLAY_NAME))) == NULL) {
		report_raw(c, "out of memory");
		return;
	}
	c->name = name;
	c->file = name;
	c->include = true;
	parse_text(c, text, len, cfg);
	c->include = false;
	c->name = saved_name;
	c->file = saved_file;
}

static struct ds_config *
parse_all(const char *text, size_t len, const char *name,
    const char *overlay, size_t olen, ds_config_err_fn err, void *arg);

/* The DoT listener needs its certificate and key, and must not share an
 * address and port with a plain listener's TCP socket. */
static void
check_tls_listen(struct ctx *c, const struct ds_config *cfg)
{
	size_t i, j;

	if (cfg->nlisten_tls == 0)
		return;
	if (cfg->tls_service_pem == NULL || cfg->tls_service_key == NULL)
		report_raw(c, "%s: 'listen_tls_addresses' needs "
		    "'tls_service_pem' and 'tls_service_key'", c->name);
	for (i = 0; i < cfg->nlisten_tls; i++)
		for (j = 0; j < cfg->nlisten; j++)
			if (cfg->listen[j].addrlen == cfg->listen_tls[i].addrlen &&
			    memcmp(&cfg->listen[j].addr,
			    &cfg->listen_tls[i].addr,
			    cfg->listen[j].addrlen) == 0)
				report_raw(c, "%s: '%s' is in both "
				    "'listen_addresses' and "
				    "'listen_tls_addresses'", c->name,
				    cfg->listen_tls[i].spec);
}

/* GETDNS_TLS1_3 as the oldest version and GETDNS_TLS1_2 as the newest
 * leave no version at all. */
static void
check_tls_versions(struct ctx *c, const struct ds_config *cfg)
{
	if (cfg->tls_min_version != NULL && cfg->tls_max_version != NULL &&
	    strcmp(cfg->tls_min_version, cfg->tls_max_version) > 0)
		report_raw(c, "%s: 'tls_min_version' %s is newer than "
		    "'tls_max_version' %s: no TLS version is left", c->name,
		    cfg->tls_min_version, cfg->tls_max_version);
}

struct ds_config *
config_parse(const char *text, size_t len, const char *name,
    ds_config_err_fn err, void *arg)
{
	return parse_all(text, len, name, NULL, 0, err, arg);
}

static struct ds_config *
parse_all(const char *text, size_t len, const char *name,
    const char *overlay, size_t olen, ds_config_err_fn err, void *arg)
{
	struct ctx c;
	struct ds_config *cfg;

	memset(&c, 0, sizeof(c));
	c.name = name != NULL ? name : "(config)";
	c.err = err;
	c.arg = arg;

	if ((cfg = config_default()) == NULL) {
		report_raw(&c, "%s: out of memory", c.name);
		return NULL;
	}
	free(cfg->path);
	if ((cfg->path = strdup(c.name)) == NULL) {
		report_raw(&c, "%s: out of memory", c.name);
		config_free(cfg);
		return NULL;
	}
	c.file = cfg->path;
	parse_text(&c, text, len, cfg);
	/* Even after errors, so that one run reports them all. */
	if (cfg->include_dir != NULL)
		parse_include_dir(&c, cfg);
	if (overlay != NULL && olen > 0)
		parse_overlay(&c, cfg, overlay, olen);
	check_tls_listen(&c, cfg);
	check_tls_versions(&c, cfg);

	if (c.nerr > 0) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

struct ds_config *
config_load(const char *path, ds_config_err_fn err, void *arg)
{
	return config_load_overlay(path, NULL, 0, err, arg);
}

struct ds_config *
config_load_overlay(const char *path, const char *overlay, size_t olen,
    ds_config_err_fn err, void *arg)
{
	struct ctx c;
	struct ds_config *cfg;
	char *buf;
	size_t len;

	memset(&c, 0, sizeof(c));
	c.name = path;
	c.err = err;
	c.arg = arg;
	if (path == NULL) {
		report_raw(&c, "no configuration file given");
		return NULL;
	}
	if (read_file(&c, path, &buf, &len) != 0)
		return NULL;
	cfg = parse_all(buf, len, path, overlay, olen, err, arg);
	free(buf);
	return cfg;
}

bool
config_is_default_control_socket(const struct ds_config *cfg)
{
	return strcmp(cfg->control_socket, DS_RUNDIR "/control.sock") == 0;
}

void
config_free(struct ds_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->path);
	free_listen(cfg->listen, cfg->nlisten);
	free_listen(cfg->listen_tls, cfg->nlisten_tls);
	free_acl_ids(cfg->acl_ids, cfg->nacl_ids);
	free(cfg->tls_service_pem);
	free(cfg->tls_service_key);
	free(cfg->tls_client_ca);
	free_upstreams(cfg->upstreams, cfg->nupstreams);
	free(cfg->tls_ca_file);
	free(cfg->tls_ca_path);
	free(cfg->tls_min_version);
	free(cfg->tls_max_version);
	free(cfg->trust_anchor_file);
	free(cfg->state_dir);
	free(cfg->user);
	free(cfg->control_socket);
	free(cfg->acl);
	free(cfg->query_log);
	free(cfg->metrics_address);
	free(cfg->anchor_bootstrap_xml);
	free(cfg->anchor_bootstrap_sig);
	free(cfg->anchor_bootstrap_url);
	free(cfg->anchor_bootstrap_ca);
	free(cfg->anchor_bootstrap_email);
	free(cfg->anchor_bootstrap_url_ca);
	free_zones(cfg->fwd_zones, cfg->nfwd_zones);
	free_strings(cfg->domain_insecure, cfg->ndomain_insecure);
	free_strings(cfg->local_zones_disable, cfg->nlocal_zones_disable);
	free(cfg->include_dir);
	free_strings(cfg->files, count_strings(cfg->files));
	free(cfg);
}

static bool
opt_str_same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

bool
config_upstreams_same(const struct ds_upstream *a, size_t na,
    const struct ds_upstream *b, size_t nb)
{
	size_t i, j;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++) {
		if (!opt_str_same(a[i].address, b[i].address) ||
		    a[i].port != b[i].port ||
		    !opt_str_same(a[i].auth_name, b[i].auth_name) ||
		    a[i].npins != b[i].npins)
			return false;
		for (j = 0; j < a[i].npins; j++)
			if (!opt_str_same(a[i].pins[j].value,
			    b[i].pins[j].value))
				return false;
	}
	return true;
}

/* ------------------------------------------------------ answer fingerprint */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Each item goes in as its tag, its length and its bytes, so that no two
 * different configurations give the same stream. */
static void
fp_str(EVP_MD_CTX *md, const char *tag, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	unsigned char len[5];

	len[0] = s != NULL;
	len[1] = (unsigned char)(n >> 24);
	len[2] = (unsigned char)(n >> 16);
	len[3] = (unsigned char)(n >> 8);
	len[4] = (unsigned char)n;
	EVP_DigestUpdate(md, tag, strlen(tag) + 1);
	EVP_DigestUpdate(md, len, sizeof(len));
	if (n > 0)
		EVP_DigestUpdate(md, s, n);
}

static void
fp_uint(EVP_MD_CTX *md, const char *tag, unsigned long v)
{
	char text[32];

	snprintf(text, sizeof(text), "%lu", v);
	fp_str(md, tag, text);
}

/* A set: the order it was written in does not count. */
static int
fp_set(EVP_MD_CTX *md, const char *tag, char *const *list, size_t n)
{
	char **copy;
	size_t i;

	if (list != NULL && n == (size_t)-1)
		for (n = 0; list[n] != NULL; n++)
			;
	if (list == NULL)
		n = 0;
	fp_uint(md, tag, n);
	if (n == 0)
		return 0;
	if ((copy = malloc(n * sizeof(*copy))) == NULL)
		return -1;
	memcpy(copy, list, n * sizeof(*copy));
	qsort(copy, n, sizeof(*copy), cmp_str);
	for (i = 0; i < n; i++)
		fp_str(md, tag, copy[i]);
	free(copy);
	return 0;
}

/* Who answers: address, port and name, in order (pins only authenticate
 * the same server). */
static void
fp_upstreams(EVP_MD_CTX *md, const struct ds_upstream *u, size_t n)
{
	size_t i;

	fp_uint(md, "upstreams", n);
	for (i = 0; i < n; i++) {
		fp_str(md, "address", u[i].address);
		fp_uint(md, "port", u[i].port);
		fp_str(md, "auth_name", u[i].auth_name);
	}
}

static int
cmp_zone(const void *a, const void *b)
{
	return strcmp((*(const struct ds_fwd_zone *const *)a)->name,
	    (*(const struct ds_fwd_zone *const *)b)->name);
}

int
config_answer_fingerprint(const struct ds_config *cfg, char *const *anchors,
    unsigned char out[32])
{
	const struct ds_fwd_zone **zones = NULL;
	EVP_MD_CTX *md;
	unsigned len = 0;
	size_t i;
	int rc = -1;

	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		goto out;
	/* Bump when what a cached answer means changes. */
	fp_str(md, "dotsec answer fingerprint", "1");
	if (fp_set(md, "trust anchor", anchors, (size_t)-1) != 0)
		goto out;
	fp_uint(md, "cache_min_ttl", cfg->cache_min_ttl);
	fp_uint(md, "cache_max_ttl", cfg->cache_max_ttl);
	fp_uint(md, "edns_udp_size", cfg->edns_udp_size);
	fp_upstreams(md, cfg->upstreams, cfg->nupstreams);
	if (cfg->nfwd_zones > 0 && (zones = calloc(cfg->nfwd_zones,
	    sizeof(*zones))) == NULL)
		goto out;
	for (i = 0; i < cfg->nfwd_zones; i++)
		zones[i] = &cfg->fwd_zones[i];
	if (cfg->nfwd_zones > 0)
		qsort(zones, cfg->nfwd_zones, sizeof(*zones), cmp_zone);
	fp_uint(md, "forward zones", cfg->nfwd_zones);
	for (i = 0; i < cfg->nfwd_zones; i++) {
		const struct ds_fwd_zone *z = zones[i];

		fp_str(md, "zone", z->name);
		fp_uint(md, "transport", (unsigned long)z->transport);
		fp_uint(md, "insecure", z->insecure);
		if (fp_set(md, "zone trust anchor", z->trust_anchors,
		    (size_t)-1) != 0)
			goto out;
		fp_upstreams(md, z->upstreams, z->nupstreams);
	}
	if (fp_set(md, "domain_insecure", cfg->domain_insecure,
	    cfg->ndomain_insecure) != 0 ||
	    fp_set(md, "local_zones_disable", cfg->local_zones_disable,
	    cfg->nlocal_zones_disable) != 0)
		goto out;
	if (EVP_DigestFinal_ex(md, out, &len) == 1 && len == 32)
		rc = 0;
out:
	free(zones);
	EVP_MD_CTX_free(md);
	return rc;
}
