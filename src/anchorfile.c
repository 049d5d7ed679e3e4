/*
 * anchorfile.c -- read libunbound's autotrust state file and zone-format
 * seed files of DS/DNSKEY records; the trusted set; atomic replacement of
 * a file.
 *
 * The input is a file that libunbound, an operator or dotsec-anchor wrote,
 * and what it yields decides which keys the validators trust, so the
 * parser is strict: anything it does not understand is an error with the
 * line it starts on, never a silent guess.  The record layout follows
 * unbound's validator/autotrust.c (autr_write_contents, parse_var_line,
 * parse_comments, read_multiline).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <time.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "anchorfile.h"

#define READ_MAX	(1024 * 1024)	/* anchorfile_read() limit */
#define NAME_MAX_LEN	255		/* presentation, fully qualified */
#define TYPE_DS		43
#define TYPE_DNSKEY	48

/* The parse state of one file. */
struct parser {
	const char *name;
	char *err;
	size_t errlen;
	unsigned line;		/* where the current record starts */
	struct anchor_file *af;
	size_t cap;		/* allocated entries of af->keys */
	char *origin;		/* $ORIGIN, normalized; NULL if none */
	char *prev_owner;	/* for records with an empty owner */
	char *owner;		/* the owner of every key so far */
	char *id_owner;		/* from ";;id:" */
	bool header_seen;	/* ";;id:" seen: keys need ";;state=" */
	bool oom;
};

/* A record split into whitespace-separated tokens (parentheses count as
 * whitespace); the tokens point into a private copy. */
#define MAX_TOKENS	1024
struct tokens {
	char *buf;
	char *tok[MAX_TOKENS];
	size_t n;
};

static void perr(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void ferr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int tokenize(struct parser *p, const char *data, size_t len,
    struct tokens *t);
static int parse_number(const char *s, unsigned long max,
    unsigned long *out);
static char *name_normalize(struct parser *p, const char *s);
static int parse_algorithm(const char *s, unsigned *out);
static int is_ttl(const char *s);
static int skipped_type(const char *s);
static char *join(char *const *tok, size_t n);
static int b64_decode(const char *s, unsigned char **out, size_t *outlen);
static char *b64_encode(const unsigned char *d, size_t len);
static unsigned keytag_of(const unsigned char *rdata, size_t len);
static int parse_dnskey(struct parser *p, const char *owner,
    char *const *tok, size_t n, struct anchor_key *k);
static int parse_ds(struct parser *p, const char *owner, char *const *tok,
    size_t n, struct anchor_key *k);
static int parse_state(struct parser *p, const char *comment,
    struct anchor_key *k);
static int comment_number(const char *s, long max, long *out);
static int var_number(struct parser *p, const char *v, const char *what,
    long *out);
static int var_line(struct parser *p, const char *rec);
static int directive(struct parser *p, struct tokens *t);
static int add_key(struct parser *p, struct anchor_key *k);
static int record(struct parser *p, const char *rec, size_t len);
static int sbuf_add(struct parser *p, char **buf, size_t *len, size_t *cap,
    const char *s, size_t n);
static int parse_text(struct parser *p, const char *text, size_t len);
static int cmp_str(const void *a, const void *b);

static const char *const state_str[] = {
	"START", "ADDPEND", "VALID", "MISSING", "REVOKED", "REMOVED"
};

/* DNSSEC algorithm mnemonics (RFC 8624 and the IANA registry) that zone
 * files may use instead of numbers. */
static const struct {
	const char *name;
	unsigned num;
} algorithms[] = {
	{ "RSAMD5", 1 }, { "DH", 2 }, { "DSA", 3 }, { "RSASHA1", 5 },
	{ "DSA-NSEC3-SHA1", 6 }, { "RSASHA1-NSEC3-SHA1", 7 },
	{ "RSASHA256", 8 }, { "RSASHA512", 10 }, { "ECC-GOST", 12 },
	{ "ECDSAP256SHA256", 13 }, { "ECDSAP384SHA384", 14 },
	{ "ED25519", 15 }, { "ED448", 16 }, { "INDIRECT", 252 },
	{ "PRIVATEDNS", 253 }, { "PRIVATEOID", 254 }
};

/* Types a zone-format anchor file may hold besides DS and DNSKEY: they
 * are skipped, as libunbound skips them.  Any other word is an error. */
static const char *const other_types[] = {
	"A", "NS", "CNAME", "SOA", "PTR", "MX", "TXT", "AAAA", "SRV",
	"NAPTR", "RRSIG", "NSEC", "NSEC3", "NSEC3PARAM", "CDS", "CDNSKEY",
	"ZONEMD", "TLSA", "SVCB", "HTTPS", "CAA", "HINFO", "DNAME", "KEY",
	"SIG", "DLV"
};

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* ---------------------------------------------------------------- errors */

static void
ferr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* "name:LINE: why", the first error only. */
static void
perr(struct parser *p, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	ferr(p->err, p->errlen, "%s:%u: %s", p->name, p->line, why);
}

const char *
anchor_key_state_str(int state)
{
	if (state == AK_SEED)
		return "SEED";
	if (state >= AK_START && state <= AK_REMOVED)
		return state_str[state];
	return "UNKNOWN";
}

/* ---------------------------------------------------------------- words */

static int
tokenize(struct parser *p, const char *data, size_t len, struct tokens *t)
{
	char *s;

	t->n = 0;
	t->buf = malloc(len + 1);
	if (t->buf == NULL) {
		p->oom = true;
		return -1;
	}
	memcpy(t->buf, data, len);
	t->buf[len] = '\0';
	s = t->buf;
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '(' || *s == ')' ||
		    *s == '\r' || *s == '\n')
			s++;
		if (*s == '\0')
			return 0;
		if (t->n == MAX_TOKENS) {
			perr(p, "more than %d words in one record",
			    MAX_TOKENS);
			return -1;
		}
		t->tok[t->n++] = s;
		while (*s != '\0' && *s != ' ' && *s != '\t' && *s != '(' &&
		    *s != ')' && *s != '\r' && *s != '\n')
			s++;
		if (*s == '\0')
			return 0;
		*s++ = '\0';
	}
}

/* A decimal number of at most max, nothing else.  Returns 0 or -1. */
static int
parse_number(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		if (v > (max - (unsigned long)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	*out = v;
	return 0;
}

/* A TTL: decimal seconds, or BIND's units (1w2d3h4m5s). */
static int
is_ttl(const char *s)
{
	bool digit = false;

	if (!isdigit((unsigned char)*s))
		return 0;
	for (; *s != '\0'; s++) {
		if (isdigit((unsigned char)*s))
			digit = true;
		else if (digit && strchr("wdhmsWDHMS", *s) != NULL)
			digit = false;
		else
			return 0;
	}
	return 1;
}

static int
skipped_type(const char *s)
{
	size_t i;

	if (strncasecmp(s, "TYPE", 4) == 0 && s[4] != '\0' &&
	    strspn(s + 4, "0123456789") == strlen(s + 4))
		return 1;
	for (i = 0; i < sizeof(other_types) / sizeof(other_types[0]); i++)
		if (strcasecmp(s, other_types[i]) == 0)
			return 1;
	return 0;
}

static int
parse_algorithm(const char *s, unsigned *out)
{
	unsigned long v;
	size_t i;

	if (parse_number(s, 255, &v) == 0) {
		*out = (unsigned)v;
		return 0;
	}
	for (i = 0; i < sizeof(algorithms) / sizeof(algorithms[0]); i++)
		if (strcasecmp(s, algorithms[i].name) == 0) {
			*out = algorithms[i].num;
			return 0;
		}
	return -1;
}

/*
 * The name s in lower case and fully qualified ("@" is the origin, a
 * relative name gets the origin appended).  Returns a malloc'd string, or
 * NULL after perr() (or with p->oom set).
 */
static char *
name_normalize(struct parser *p, const char *s)
{
	size_t len = strlen(s), olen, i;
	char *r;

	if (strcmp(s, "@") == 0) {
		if (p->origin == NULL) {
			perr(p, "'@' without $ORIGIN");
			return NULL;
		}
		s = p->origin;
		len = strlen(s);
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!isalnum(c) && c != '-' && c != '_' && c != '.' &&
		    c != '*' && c != '\\') {
			perr(p, "bad character in owner name '%s'", s);
			return NULL;
		}
		if (c == '.' && ((i == 0 && len > 1) ||
		    (i > 0 && s[i - 1] == '.'))) {
			perr(p, "empty label in owner name '%s'", s);
			return NULL;
		}
	}
	if (len > 0 && s[len - 1] == '.') {
		r = strdup(s);
	} else {
		if (p->origin == NULL) {
			perr(p, "relative owner name '%s' without $ORIGIN",
			    s);
			return NULL;
		}
		olen = strlen(p->origin);
		r = malloc(len + olen + 2);
		if (r != NULL) {
			memcpy(r, s, len);
			if (strcmp(p->origin, ".") == 0) {
				r[len] = '.';
				r[len + 1] = '\0';
			} else {
				r[len] = '.';
				memcpy(r + len + 1, p->origin, olen + 1);
			}
		}
	}
	if (r == NULL) {
		p->oom = true;
		return NULL;
	}
	if (strlen(r) > NAME_MAX_LEN) {
		perr(p, "owner name longer than %d characters",
		    NAME_MAX_LEN);
		free(r);
		return NULL;
	}
	for (i = 0; r[i] != '\0'; i++)
		r[i] = (char)tolower((unsigned char)r[i]);
	return r;
}

/* The tokens concatenated, malloc'd; NULL on allocation failure. */
static char *
join(char *const *tok, size_t n)
{
	size_t i, len = 0;
	char *r, *q;

	for (i = 0; i < n; i++)
		len += strlen(tok[i]);
	r = malloc(len + 1);
	if (r == NULL)
		return NULL;
	q = r;
	for (i = 0; i < n; i++) {
		len = strlen(tok[i]);
		memcpy(q, tok[i], len);
		q += len;
	}
	*q = '\0';
	return r;
}

/* ---------------------------------------------------------------- base64 */

/* Decode s (padded, no whitespace).  Returns 0 with a malloc'd *out,
 * -1 when s is not base64, -2 on allocation failure. */
static int
b64_decode(const char *s, unsigned char **out, size_t *outlen)
{
	size_t len = strlen(s), i, o = 0, pad = 0;
	unsigned char *d;
	unsigned long acc = 0;

	if (len == 0 || len % 4 != 0)
		return -1;
	if (s[len - 1] == '=')
		pad++;
	if (s[len - 2] == '=')
		pad++;
	d = malloc(len / 4 * 3);
	if (d == NULL)
		return -2;
	for (i = 0; i < len; i++) {
		const char *c;
		unsigned v;

		if (i >= len - pad) {
			v = 0;
			if (s[i] != '=')
				goto bad;
		} else {
			c = s[i] == '\0' ? NULL : strchr(b64_alphabet, s[i]);
			if (c == NULL)
				goto bad;
			v = (unsigned)(c - b64_alphabet);
		}
		acc = (acc << 6) | v;
		if (i % 4 == 3) {
			d[o++] = (unsigned char)(acc >> 16);
			d[o++] = (unsigned char)(acc >> 8);
			d[o++] = (unsigned char)acc;
			acc = 0;
		}
	}
	*out = d;
	*outlen = o - pad;
	if (*outlen == 0)
		goto bad;
	return 0;
bad:
	free(d);
	return -1;
}

static char *
b64_encode(const unsigned char *d, size_t len)
{
	char *r, *q;
	size_t i;

	r = malloc((len + 2) / 3 * 4 + 1);
	if (r == NULL)
		return NULL;
	q = r;
	for (i = 0; i + 2 < len; i += 3) {
		*q++ = b64_alphabet[d[i] >> 2];
		*q++ = b64_alphabet[((d[i] & 3) << 4) | (d[i + 1] >> 4)];
		*q++ = b64_alphabet[((d[i + 1] & 15) << 2) | (d[i + 2] >> 6)];
		*q++ = b64_alphabet[d[i + 2] & 63];
	}
	if (len - i == 1) {
		*q++ = b64_alphabet[d[i] >> 2];
		*q++ = b64_alphabet[(d[i] & 3) << 4];
		*q++ = '=';
		*q++ = '=';
	} else if (len - i == 2) {
		*q++ = b64_alphabet[d[i] >> 2];
		*q++ = b64_alphabet[((d[i] & 3) << 4) | (d[i + 1] >> 4)];
		*q++ = b64_alphabet[(d[i + 1] & 15) << 2];
		*q++ = '=';
	}
	*q = '\0';
	return r;
}

/* RFC 4034 appendix B, over the DNSKEY RDATA (flags, protocol, algorithm,
 * key); algorithm 1 has its own rule (B.1). */
static unsigned
keytag_of(const unsigned char *rdata, size_t len)
{
	unsigned long ac = 0;
	size_t i;

	if (len >= 4 && rdata[3] == 1)
		return len >= 7 ?
		    ((unsigned)rdata[len - 3] << 8) | rdata[len - 2] : 0;
	for (i = 0; i < len; i++)
		ac += (i & 1) ? rdata[i] : (unsigned long)rdata[i] << 8;
	ac += (ac >> 16) & 0xffff;
	return (unsigned)(ac & 0xffff);
}

/* ---------------------------------------------------------------- records */

static int
parse_dnskey(struct parser *p, const char *owner, char *const *tok,
    size_t n, struct anchor_key *k)
{
	unsigned long flags, proto;
	unsigned alg;
	unsigned char *key = NULL, *rdata = NULL;
	size_t keylen;
	char *b64 = NULL, *canon = NULL;
	int r, rc = -1;
	size_t need;

	if (n < 4) {
		perr(p, "DNSKEY needs flags, protocol, algorithm and key");
		return -1;
	}
	if (parse_number(tok[0], 65535, &flags) != 0) {
		perr(p, "bad DNSKEY flags '%s'", tok[0]);
		return -1;
	}
	if (parse_number(tok[1], 255, &proto) != 0 || proto != 3) {
		perr(p, "bad DNSKEY protocol '%s' (must be 3)", tok[1]);
		return -1;
	}
	if (parse_algorithm(tok[2], &alg) != 0) {
		perr(p, "bad DNSKEY algorithm '%s'", tok[2]);
		return -1;
	}
	b64 = join(tok + 3, n - 3);
	if (b64 == NULL)
		goto oom;
	r = b64_decode(b64, &key, &keylen);
	if (r == -2)
		goto oom;
	if (r != 0) {
		perr(p, "DNSKEY key is not base64");
		goto out;
	}
	if (keylen > 65535 - 4) {
		perr(p, "DNSKEY key too long");
		goto out;
	}
	rdata = malloc(keylen + 4);
	canon = b64_encode(key, keylen);
	if (rdata == NULL || canon == NULL)
		goto oom;
	rdata[0] = (unsigned char)(flags >> 8);
	rdata[1] = (unsigned char)flags;
	rdata[2] = (unsigned char)proto;
	rdata[3] = (unsigned char)alg;
	memcpy(rdata + 4, key, keylen);
	need = strlen(owner) + strlen(canon) + 64;
	k->rr = malloc(need);
	if (k->rr == NULL)
		goto oom;
	(void)snprintf(k->rr, need, "%s IN DNSKEY %lu %lu %u %s", owner,
	    flags, proto, alg, canon);
	k->is_ds = false;
	k->flags = (unsigned)flags;
	k->algorithm = alg;
	k->keytag = keytag_of(rdata, keylen + 4);
	rc = 0;
	goto out;
oom:
	p->oom = true;
out:
	free(b64);
	free(key);
	free(rdata);
	free(canon);
	return rc;
}

static int
parse_ds(struct parser *p, const char *owner, char *const *tok, size_t n,
    struct anchor_key *k)
{
	unsigned long tag, dt;
	unsigned alg;
	char *hex;
	size_t len, i, need;
	size_t want = 0;

	if (n < 4) {
		perr(p, "DS needs key tag, algorithm, digest type and "
		    "digest");
		return -1;
	}
	if (parse_number(tok[0], 65535, &tag) != 0) {
		perr(p, "bad DS key tag '%s'", tok[0]);
		return -1;
	}
	if (parse_algorithm(tok[1], &alg) != 0) {
		perr(p, "bad DS algorithm '%s'", tok[1]);
		return -1;
	}
	if (parse_number(tok[2], 255, &dt) != 0) {
		perr(p, "bad DS digest type '%s'", tok[2]);
		return -1;
	}
	hex = join(tok + 3, n - 3);
	if (hex == NULL) {
		p->oom = true;
		return -1;
	}
	len = strlen(hex);
	for (i = 0; i < len; i++) {
		if (!isxdigit((unsigned char)hex[i])) {
			perr(p, "DS digest is not hex");
			free(hex);
			return -1;
		}
		hex[i] = (char)toupper((unsigned char)hex[i]);
	}
	if (dt == 1)
		want = 40;
	else if (dt == 2)
		want = 64;
	else if (dt == 4)
		want = 96;
	if (len % 2 != 0 || (want != 0 && len != want)) {
		perr(p, "DS digest of type %lu has %zu hex digits", dt, len);
		free(hex);
		return -1;
	}
	need = strlen(owner) + len + 64;
	k->rr = malloc(need);
	if (k->rr == NULL) {
		free(hex);
		p->oom = true;
		return -1;
	}
	(void)snprintf(k->rr, need, "%s IN DS %lu %u %lu %s", owner, tag,
	    alg, dt, hex);
	free(hex);
	k->is_ds = true;
	k->keytag = (unsigned)tag;
	k->algorithm = alg;
	k->flags = 0;
	return 0;
}

/* A decimal number after "key=" in a comment; end is where it stops. */
static int
comment_number(const char *s, long max, long *out)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || v > max)
		return -1;
	if (*end != '\0' && *end != ' ' && *end != '\t' && *end != ';' &&
	    *end != '\r' && *end != '\n')
		return -1;
	*out = v;
	return 0;
}

/* The ";;state=N ... ;;count=N ;;lastchange=N" comment of a key. */
static int
parse_state(struct parser *p, const char *comment, struct anchor_key *k)
{
	const char *s;
	long v;

	k->state = AK_SEED;
	k->count = 0;
	k->lastchange = 0;
	s = comment == NULL ? NULL : strstr(comment, ";;state=");
	if (s == NULL) {
		if (p->header_seen) {
			perr(p, "key without ;;state= in an autotrust file");
			return -1;
		}
		return 0;
	}
	if (comment_number(s + 8, AK_REMOVED, &v) != 0) {
		perr(p, "bad ;;state= (not 0 to 5)");
		return -1;
	}
	k->state = (int)v;
	s = strstr(comment, ";;count=");
	if (s != NULL) {
		if (comment_number(s + 8, 255, &v) != 0) {
			perr(p, "bad ;;count=");
			return -1;
		}
		k->count = (int)v;
	}
	s = strstr(comment, ";;lastchange=");
	if (s != NULL) {
		if (comment_number(s + 13, LONG_MAX, &v) != 0) {
			perr(p, "bad ;;lastchange=");
			return -1;
		}
		k->lastchange = v;
	}
	return 0;
}

static int
var_number(struct parser *p, const char *v, const char *what, long *out)
{
	if (!p->header_seen) {
		perr(p, ";;%.*s before ;;id:", (int)strlen(what) - 2, what);
		return -1;
	}
	if (comment_number(v, LONG_MAX, out) != 0) {
		perr(p, "bad number in ;;%.*s", (int)strlen(what) - 2, what);
		return -1;
	}
	return 0;
}

/*
 * The ";;" lines of the autotrust header.  Returns 1 when rec was one,
 * 0 when it is an ordinary comment, -1 on error.
 */
static int
var_line(struct parser *p, const char *rec)
{
	long ignored;
	const struct {
		const char *key;
		long *dst;
	} vars[] = {
		{ "last_queried: ", &p->af->last_queried },
		{ "last_success: ", &p->af->last_success },
		{ "next_probe_time: ", &p->af->next_probe_time },
		{ "query_failed: ", &p->af->query_failed },
		/* libunbound recomputes these from the DNSKEY TTL and
		 * signature expiry; they are checked, not kept. */
		{ "query_interval: ", &ignored },
		{ "retry_time: ", &ignored },
	};
	struct tokens t;
	size_t i;
	unsigned long cls;

	if (strncmp(rec, ";;REVOKED", 9) == 0) {
		if (p->header_seen || p->af->nkeys > 0) {
			perr(p, ";;REVOKED must be at the start of the file");
			return -1;
		}
		p->af->revoked = true;
		return 1;
	}
	if (strncmp(rec, ";;id: ", 6) == 0) {
		if (p->header_seen) {
			perr(p, "a second ;;id: line");
			return -1;
		}
		if (tokenize(p, rec + 6, strlen(rec + 6), &t) != 0) {
			free(t.buf);
			return -1;
		}
		if (t.n != 2 || parse_number(t.tok[1], 65535, &cls) != 0 ||
		    t.tok[0][strlen(t.tok[0]) - 1] != '.') {
			perr(p, "bad ;;id: line (want 'NAME. CLASS')");
			free(t.buf);
			return -1;
		}
		if (cls != 1) {
			perr(p, "class %lu in ;;id: (only 1, IN)", cls);
			free(t.buf);
			return -1;
		}
		p->id_owner = name_normalize(p, t.tok[0]);
		free(t.buf);
		if (p->id_owner == NULL)
			return -1;
		p->header_seen = true;
		return 1;
	}
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		size_t klen = strlen(vars[i].key);

		if (strncmp(rec + 2, vars[i].key, klen) != 0)
			continue;
		if (var_number(p, rec + 2 + klen, vars[i].key,
		    vars[i].dst) != 0)
			return -1;
		return 1;
	}
	return 0;
}

/* $ORIGIN and $TTL. */
static int
directive(struct parser *p, struct tokens *t)
{
	char *o;

	if (strcasecmp(t->tok[0], "$ORIGIN") == 0) {
		if (t->n != 2 ||
		    t->tok[1][strlen(t->tok[1]) - 1] != '.') {
			perr(p, "$ORIGIN needs one fully qualified name");
			return -1;
		}
		o = name_normalize(p, t->tok[1]);
		if (o == NULL)
			return -1;
		free(p->origin);
		p->origin = o;
		return 0;
	}
	if (strcasecmp(t->tok[0], "$TTL") == 0) {
		if (t->n != 2 || !is_ttl(t->tok[1])) {
			perr(p, "$TTL needs one TTL");
			return -1;
		}
		return 0;
	}
	perr(p, "unsupported directive '%s'", t->tok[0]);
	return -1;
}

static int
add_key(struct parser *p, struct anchor_key *k)
{
	struct anchor_key *n;
	size_t cap;

	if (p->af->nkeys == p->cap) {
		cap = p->cap == 0 ? 4 : p->cap * 2;
		n = realloc(p->af->keys, cap * sizeof(*n));
		if (n == NULL) {
			p->oom = true;
			return -1;
		}
		p->af->keys = n;
		p->cap = cap;
	}
	p->af->keys[p->af->nkeys++] = *k;
	return 0;
}

/* One logical record (parentheses joined), comment included. */
static int
record(struct parser *p, const char *rec, size_t len)
{
	struct tokens t = { NULL, { NULL }, 0 };
	struct anchor_key k;
	const char *comment;
	size_t dlen, i = 0;
	char *owner = NULL;
	bool is_dnskey;
	int rc = -1, r;

	if (rec[0] == ';' && rec[1] == ';') {
		r = var_line(p, rec);
		if (r != 0)
			return r < 0 ? -1 : 0;
	}
	comment = memchr(rec, ';', len);
	dlen = comment == NULL ? len : (size_t)(comment - rec);
	if (tokenize(p, rec, dlen, &t) != 0)
		goto out;
	if (t.n == 0) {
		rc = 0;
		goto out;
	}
	if (t.tok[0][0] == '$' && rec[0] == '$') {
		rc = directive(p, &t);
		goto out;
	}
	if (rec[0] == ' ' || rec[0] == '\t' || rec[0] == '(') {
		/* No owner: the previous record's. */
		if (p->prev_owner == NULL) {
			perr(p, "record without owner name");
			goto out;
		}
		owner = strdup(p->prev_owner);
		if (owner == NULL) {
			p->oom = true;
			goto out;
		}
	} else {
		owner = name_normalize(p, t.tok[i++]);
		if (owner == NULL)
			goto out;
		free(p->prev_owner);
		p->prev_owner = strdup(owner);
		if (p->prev_owner == NULL) {
			p->oom = true;
			goto out;
		}
	}
	/* [ttl] [class] or [class] [ttl], in either order. */
	for (r = 0; r < 2 && i < t.n; r++) {
		if (is_ttl(t.tok[i])) {
			i++;
		} else if (strcasecmp(t.tok[i], "IN") == 0 ||
		    strcasecmp(t.tok[i], "CLASS1") == 0) {
			i++;
		} else if (strcasecmp(t.tok[i], "CH") == 0 ||
		    strcasecmp(t.tok[i], "HS") == 0 ||
		    strcasecmp(t.tok[i], "CS") == 0 ||
		    strncasecmp(t.tok[i], "CLASS", 5) == 0) {
			perr(p, "class %s (only IN)", t.tok[i]);
			goto out;
		}
	}
	if (i >= t.n) {
		perr(p, "no record type");
		goto out;
	}
	if (strcasecmp(t.tok[i], "DNSKEY") == 0 ||
	    strcasecmp(t.tok[i], "TYPE48") == 0)
		is_dnskey = true;
	else if (strcasecmp(t.tok[i], "DS") == 0 ||
	    strcasecmp(t.tok[i], "TYPE43") == 0)
		is_dnskey = false;
	else if (skipped_type(t.tok[i])) {
		rc = 0;
		goto out;
	} else {
		perr(p, "unknown record type '%s'", t.tok[i]);
		goto out;
	}
	i++;
	memset(&k, 0, sizeof(k));
	if (is_dnskey)
		r = parse_dnskey(p, owner, t.tok + i, t.n - i, &k);
	else
		r = parse_ds(p, owner, t.tok + i, t.n - i, &k);
	if (r != 0)
		goto out;
	if (p->owner != NULL && strcmp(p->owner, owner) != 0) {
		perr(p, "keys for two names ('%s' and '%s'): one name per "
		    "file", p->owner, owner);
		free(k.rr);
		goto out;
	}
	if (parse_state(p, comment, &k) != 0 || add_key(p, &k) != 0) {
		free(k.rr);
		goto out;
	}
	if (p->owner == NULL) {
		p->owner = owner;
		owner = NULL;
	}
	rc = 0;
out:
	free(owner);
	free(t.buf);
	return rc;
}

/* ---------------------------------------------------------------- files */

static int
sbuf_add(struct parser *p, char **buf, size_t *len, size_t *cap,
    const char *s, size_t n)
{
	char *nb;
	size_t ncap;

	if (*len + n + 1 > *cap) {
		ncap = (*len + n + 1) * 2;
		nb = realloc(*buf, ncap);
		if (nb == NULL) {
			p->oom = true;
			return -1;
		}
		*buf = nb;
		*cap = ncap;
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

/*
 * Split the text into logical records as read_multiline() in autotrust.c
 * does: a record whose parentheses are open goes on over the next lines,
 * their comments dropped; the line that closes it keeps its comment (the
 * ";;state=" of a key).
 */
static int
parse_text(struct parser *p, const char *text, size_t len)
{
	const char *line = text, *end = text + len, *nl;
	char *buf = NULL;
	size_t blen = 0, bcap = 0, llen, i, data;
	unsigned lineno = 0;
	int depth = 0, rc = -1;

	if (memchr(text, '\0', len) != NULL) {
		p->line = 1;
		for (i = 0; text[i] != '\0'; i++)
			if (text[i] == '\n')
				p->line++;
		perr(p, "NUL byte in the file");
		return -1;
	}
	while (line < end) {
		nl = memchr(line, '\n', (size_t)(end - line));
		llen = nl == NULL ? (size_t)(end - line) :
		    (size_t)(nl - line);
		lineno++;
		if (depth == 0) {
			p->line = lineno;
			blen = 0;
		}
		data = llen;
		for (i = 0; i < llen; i++) {
			if (line[i] == ';') {
				data = i;
				break;
			}
			if (line[i] == '(') {
				depth++;
			} else if (line[i] == ')') {
				if (depth == 0) {
					p->line = lineno;
					perr(p, "')' without '('");
					goto out;
				}
				depth--;
			}
		}
		if (depth > 0) {
			if (sbuf_add(p, &buf, &blen, &bcap, line, data) !=
			    0 || sbuf_add(p, &buf, &blen, &bcap, " ", 1) != 0)
				goto out;
		} else {
			if (sbuf_add(p, &buf, &blen, &bcap, line, llen) != 0)
				goto out;
			if (record(p, buf, blen) != 0)
				goto out;
		}
		line = nl == NULL ? end : nl + 1;
	}
	if (depth > 0) {
		perr(p, "'(' without ')'");
		goto out;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

int
anchorfile_parse(const char *text, size_t len, const char *name,
    struct anchor_file *af, char *err, size_t errlen)
{
	struct parser p;
	int rc = -1;

	memset(af, 0, sizeof(*af));
	memset(&p, 0, sizeof(p));
	p.name = name == NULL ? "(anchor file)" : name;
	p.err = err;
	p.errlen = errlen;
	p.af = af;
	if (errlen > 0 && err != NULL)
		err[0] = '\0';
	if (parse_text(&p, text == NULL ? "" : text, text == NULL ? 0 : len)
	    != 0)
		goto out;
	if (af->nkeys == 0) {
		ferr(err, errlen, "%s: no DS or DNSKEY record", p.name);
		goto out;
	}
	if (p.id_owner != NULL && strcmp(p.id_owner, p.owner) != 0) {
		ferr(err, errlen, "%s: ;;id: names '%s' but the keys are "
		    "for '%s'", p.name, p.id_owner, p.owner);
		goto out;
	}
	rc = 0;
out:
	if (p.oom)
		ferr(err, errlen, "%s: out of memory", p.name);
	if (rc != 0)
		anchorfile_free(af);
	free(p.origin);
	free(p.prev_owner);
	free(p.owner);
	free(p.id_owner);
	return rc;
}

int
anchorfile_read(const char *path, struct anchor_file *af, char *err,
    size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t r;
	int fd, rc;

	memset(af, 0, sizeof(*af));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ferr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		ferr(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		ferr(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	if (st.st_size > READ_MAX) {
		ferr(err, errlen, "%s: larger than %d bytes", path,
		    READ_MAX);
		goto fail;
	}
	/* One byte more than the limit tells a file that grew. */
	buf = malloc(READ_MAX + 1);
	if (buf == NULL) {
		ferr(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	for (;;) {
		r = read(fd, buf + len, READ_MAX + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ferr(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > READ_MAX) {
			ferr(err, errlen, "%s: larger than %d bytes", path,
			    READ_MAX);
			goto fail;
		}
	}
	(void)close(fd);
	rc = anchorfile_parse(buf, len, path, af, err, errlen);
	free(buf);
	return rc;
fail:
	free(buf);
	(void)close(fd);
	return -1;
}

void
anchorfile_free(struct anchor_file *af)
{
	size_t i;

	if (af == NULL)
		return;
	for (i = 0; i < af->nkeys; i++)
		free(af->keys[i].rr);
	free(af->keys);
	memset(af, 0, sizeof(*af));
}

/* ---------------------------------------------------------------- sets */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **
anchorfile_trusted(const struct anchor_file *af, size_t *n)
{
	char **set;
	size_t i, m = 0, o;

	set = calloc(af->nkeys + 1, sizeof(*set));
	if (set == NULL)
		return NULL;
	for (i = 0; i < af->nkeys && !af->revoked; i++) {
		const struct anchor_key *k = &af->keys[i];

		if (k->state == AK_REVOKED)
			continue;
		if (!k->is_ds) {
			if (k->flags & ANCHOR_FLAG_REVOKE)
				continue;
			if (k->state != AK_SEED && k->state != AK_VALID &&
			    k->state != AK_MISSING)
				continue;
		}
		set[m] = strdup(k->rr);
		if (set[m] == NULL) {
			anchorfile_free_set(set);
			return NULL;
		}
		m++;
	}
	qsort(set, m, sizeof(*set), cmp_str);
	/* The same record twice is trusted once. */
	for (i = 0, o = 0; i < m; i++) {
		if (o > 0 && strcmp(set[o - 1], set[i]) == 0) {
			free(set[i]);
			continue;
		}
		set[o++] = set[i];
	}
	set[o] = NULL;
	if (n != NULL)
		*n = o;
	return set;
}

void
anchorfile_free_set(char **set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; set[i] != NULL; i++)
		free(set[i]);
	free(set);
}

char **
anchorfile_copy_set(char *const *set)
{
	char **c;
	size_t n = 0, i;

	while (set[n] != NULL)
		n++;
	if ((c = calloc(n + 1, sizeof(*c))) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((c[i] = strdup(set[i])) == NULL) {
			anchorfile_free_set(c);
			return NULL;
		}
	}
	return c;
}

bool
anchorfile_set_equal(char *const *a, char *const *b)
{
	size_t i;

	if (a == NULL || b == NULL)
		return a == b;
	for (i = 0; a[i] != NULL && b[i] != NULL; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return a[i] == NULL && b[i] == NULL;
}

/* ---------------------------------------------------------------- writing */

int
anchorfile_write_atomic(const char *path, const void *data, size_t len,
    char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	const char *p = data;
	char *tmp = NULL, *dir = NULL;
	size_t plen = strlen(path), dlen, off = 0;
	ssize_t w;
	int fd = -1, dfd, e;

	tmp = malloc(plen + sizeof(".tmp.XXXXXX"));
	if (slash == NULL)
		dir = strdup(".");
	else {
		dlen = slash == path ? 1 : (size_t)(slash - path);
		dir = strndup(path, dlen);
	}
	if (tmp == NULL || dir == NULL) {
		ferr(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmp.XXXXXX", sizeof(".tmp.XXXXXX"));
	fd = mkstemp(tmp);
	if (fd < 0) {
		ferr(err, errlen, "%s: cannot create a temporary file in "
		    "%s: %s", path, dir, strerror(errno));
		free(tmp);
		tmp = NULL;	/* nothing to unlink */
		goto fail;
	}
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 || fchmod(fd, 0644) != 0) {
		ferr(err, errlen, "%s: %s: %s", path, tmp, strerror(errno));
		goto fail;
	}
	while (off < len) {
		w = write(fd, p + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			ferr(err, errlen, "%s: write to %s: %s", path, tmp,
			    w < 0 ? strerror(errno) : "no progress");
			goto fail;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0) {
		ferr(err, errlen, "%s: fsync %s: %s", path, tmp,
		    strerror(errno));
		goto fail;
	}
	e = close(fd);
	fd = -1;
	if (e != 0) {
		ferr(err, errlen, "%s: close %s: %s", path, tmp,
		    strerror(errno));
		goto fail;
	}
	if (rename(tmp, path) != 0) {
		ferr(err, errlen, "%s: rename from %s: %s", path, tmp,
		    strerror(errno));
		goto fail;
	}
	free(tmp);
	tmp = NULL;
	/* Make the rename itself durable.  Some file systems cannot fsync
	 * a directory (EINVAL); the rename is then as durable as they
	 * make it. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		ferr(err, errlen, "%s: replaced, but cannot open %s to fsync "
		    "it: %s", path, dir, strerror(errno));
		goto fail;
	}
	if (fsync(dfd) != 0 && errno != EINVAL && errno != ENOTSUP) {
		ferr(err, errlen, "%s: replaced, but fsync %s: %s", path, dir,
		    strerror(errno));
		(void)close(dfd);
		goto fail;
	}
	(void)close(dfd);
	free(dir);
	return 0;
fail:
	if (fd >= 0)
		(void)close(fd);
	if (tmp != NULL)
		(void)unlink(tmp);
	free(tmp);
	free(dir);
	return -1;
}

/* ---------------------------------------------------------------- show */

static void
show_time(long t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0) {
		(void)snprintf(buf, len, "-");
		return;
	}
	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		(void)snprintf(buf, len, "%ld", t);
}

int
anchorfile_show(const char *text, size_t len, const char *path, FILE *out,
    char *err, size_t errlen)
{
	struct anchor_file af;
	char when[64];
	char **trusted;
	size_t i, j;

	if (anchorfile_parse(text, len, path, &af, err, errlen) != 0)
		return -1;
	trusted = anchorfile_trusted(&af, NULL);
	if (trusted == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		anchorfile_free(&af);
		return -1;
	}
	fprintf(out, "%s\n", path);
	if (af.revoked)
		fprintf(out, "REVOKED: libunbound saw every key revoked and "
		    "trusts none of this file\n");
	fprintf(out, "%-5s %-3s %-6s %-6s %-7s %-7s %s\n", "TAG", "ALG", "TYPE",
	    "REVOKE", "STATE", "TRUSTED", "LASTCHANGE");
	for (i = 0; i < af.nkeys; i++) {
		const struct anchor_key *k = &af.keys[i];
		int is_trusted = 0;

		for (j = 0; trusted[j] != NULL; j++)
			if (strcmp(trusted[j], k->rr) == 0)
				is_trusted = 1;
		show_time(k->lastchange, when, sizeof(when));
		fprintf(out, "%-5u %-3u %-6s %-6s %-7s %-7s %s\n", k->keytag,
		    k->algorithm, k->is_ds ? "DS" : "DNSKEY",
		    (k->flags & ANCHOR_FLAG_REVOKE) ? "REVOKE" : "-",
		    anchor_key_state_str(k->state),
		    is_trusted ? "yes" : "no", when);
	}
	show_time(af.last_queried, when, sizeof(when));
	fprintf(out, "last_queried:    %s\n", when);
	show_time(af.last_success, when, sizeof(when));
	fprintf(out, "last_success:    %s\n", when);
	show_time(af.next_probe_time, when, sizeof(when));
	fprintf(out, "next_probe_time: %s\n", when);
	fprintf(out, "query_failed:    %ld\n", af.query_failed);
	anchorfile_free_set(trusted);
	anchorfile_free(&af);
	return 0;
}
