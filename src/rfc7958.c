/*
 * rfc7958.c -- root-anchors.xml: the CMS signature check with OpenSSL and
 * the XML with expat.
 *
 * Both inputs come from the network (fetched by whoever runs the
 * bootstrap), so the signature is checked before the XML is parsed, the
 * only trust root is the CA file given (ICANN's), the signer must be the
 * e-mail address IANA signs with, and the parser refuses DOCTYPEs (no
 * entities, no external anything) and any KeyDigest it cannot read in
 * full, valid or not.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <expat.h>
#include <openssl/bio.h>
/* pem.h first: cms.h declares PEM_read_bio_CMS() only after it. */
#include <openssl/pem.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "rfc7958.h"

#define TEXT_MAX	256	/* longest element text kept */
#define REASON_MAX	512

/* The elements whose text is read. */
enum leaf {
	LEAF_NONE = 0,
	LEAF_ZONE,
	LEAF_KEYTAG,
	LEAF_ALGORITHM,
	LEAF_DIGESTTYPE,
	LEAF_DIGEST
};

static const char *const leaf_name[] = {
	"", "Zone", "KeyTag", "Algorithm", "DigestType", "Digest"
};

/* The parse of one document. */
struct xp {
	XML_Parser parser;
	time_t now;
	int depth;
	bool in_kd;		/* inside a KeyDigest */
	enum leaf leaf;		/* collecting this element's text */
	int leaf_depth;
	char text[TEXT_MAX + 1];
	size_t tlen;
	unsigned zones;		/* <Zone> elements seen */
	unsigned kds;		/* <KeyDigest> elements seen */
	unsigned seen;		/* bit per leaf inside the KeyDigest */
	struct rfc7958_ds ds;	/* the KeyDigest being read */
	struct rfc7958_ds *out;
	size_t n, cap;
	bool failed;
	char why[REASON_MAX];
};

static void ferr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void xfail(struct xp *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void ssl_reason(char *buf, size_t len);
static int load_ca(X509_STORE *store, const char *ca_file, char *err,
    size_t errlen);
static bool asn1_is(const ASN1_STRING *s, const char *email);
static bool cert_has_email(X509 *x, const char *email);
static int parse_time(const char *s, time_t *out);
static void format_time(time_t t, char *buf, size_t len);
static const char *find_att(const XML_Char **atts, const char *name);
static int parse_uint(const char *s, unsigned long max, unsigned *out);
static void keydigest_start(struct xp *x, const XML_Char **atts);
static void keydigest_end(struct xp *x);
static void leaf_end(struct xp *x);
static void XMLCALL xml_start(void *arg, const XML_Char *name,
    const XML_Char **atts);
static void XMLCALL xml_end(void *arg, const XML_Char *name);
static void XMLCALL xml_text(void *arg, const XML_Char *s, int len);
static void XMLCALL xml_doctype(void *arg, const XML_Char *name,
    const XML_Char *sysid, const XML_Char *pubid, int has_internal);
static void XMLCALL xml_entity(void *arg, const XML_Char *name,
    int is_param, const XML_Char *value, int value_len,
    const XML_Char *base, const XML_Char *sysid, const XML_Char *pubid,
    const XML_Char *notation);

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

/* ---------------------------------------------------------------- CMS */

/* OpenSSL's queued errors as "reason (detail); ...", and the queue
 * emptied. */
static void
ssl_reason(char *buf, size_t len)
{
	unsigned long e;
	const char *data, *r;
	char one[256];
	int flags;
	size_t used = 0;

	buf[0] = '\0';
	for (;;) {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
		e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags);
#else
		e = ERR_get_error_line_data(NULL, NULL, &data, &flags);
#endif
		if (e == 0)
			break;
		r = ERR_reason_error_string(e);
		if (r == NULL) {
			ERR_error_string_n(e, one, sizeof(one));
			r = one;
		}
		if (used < len)
			used += (size_t)snprintf(buf + used, len - used,
			    "%s%s%s%s%s", used > 0 ? "; " : "", r,
			    (flags & ERR_TXT_STRING) && data[0] ? " (" : "",
			    (flags & ERR_TXT_STRING) ? data : "",
			    (flags & ERR_TXT_STRING) && data[0] ? ")" : "");
	}
	if (buf[0] == '\0')
		(void)snprintf(buf, len, "no reason given by OpenSSL");
}

/* Every certificate of the PEM file ca_file into store. */
static int
load_ca(X509_STORE *store, const char *ca_file, char *err, size_t errlen)
{
	char why[REASON_MAX];
	unsigned count = 0;
	FILE *f;
	X509 *c;
	unsigned long e;

	f = fopen(ca_file, "r");
	if (f == NULL) {
		ferr(err, errlen, "%s: %s", ca_file, strerror(errno));
		return -1;
	}
	while ((c = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_cert(store, c) != 1) {
			X509_free(c);
			(void)fclose(f);
			ssl_reason(why, sizeof(why));
			ferr(err, errlen, "%s: %s", ca_file, why);
			return -1;
		}
		X509_free(c);
		count++;
	}
	(void)fclose(f);
	/* The loop ends at the end of the file (PEM_R_NO_START_LINE) or at
	 * a broken certificate. */
	e = ERR_peek_last_error();
	if (e != 0 && !(ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
		ssl_reason(why, sizeof(why));
		ferr(err, errlen, "%s: %s", ca_file, why);
		return -1;
	}
	ERR_clear_error();
	if (count == 0) {
		ferr(err, errlen, "%s: no certificate in the file", ca_file);
		return -1;
	}
	return 0;
}

static bool
asn1_is(const ASN1_STRING *s, const char *email)
{
	const unsigned char *d = ASN1_STRING_get0_data(s);
	size_t len = strlen(email);

	return d != NULL && ASN1_STRING_length(s) >= 0 &&
	    (size_t)ASN1_STRING_length(s) == len &&
	    memchr(d, '\0', len) == NULL &&
	    strncasecmp((const char *)d, email, len) == 0;
}

/* An rfc822Name subjectAltName or a subject emailAddress equal to email. */
static bool
cert_has_email(X509 *x, const char *email)
{
	GENERAL_NAMES *gens;
	const X509_NAME *nm;
	const X509_NAME_ENTRY *ne;
	bool found = false;
	int i, pos = -1;

	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type == GEN_EMAIL && asn1_is(g->d.rfc822Name, email))
			found = true;
	}
	GENERAL_NAMES_free(gens);
	nm = X509_get_subject_name(x);
	while (!found && nm != NULL) {
		pos = X509_NAME_get_index_by_NID(nm, NID_pkcs9_emailAddress,
		    pos);
		if (pos < 0)
			break;
		ne = X509_NAME_get_entry(nm, pos);
		if (ne != NULL && asn1_is(X509_NAME_ENTRY_get_data(ne), email))
			found = true;
	}
	ERR_clear_error();
	return found;
}

int
rfc7958_verify(const void *xml, size_t xlen, const void *sig, size_t slen,
    const char *ca_file, const char *email, char *err, size_t errlen)
{
	char why[REASON_MAX];
	BIO *sbio = NULL, *dbio = NULL;
	CMS_ContentInfo *cms = NULL;
	X509_STORE *store = NULL;
	STACK_OF(X509) *signers = NULL;
	int i, rc = -1;

	if (email == NULL)
		email = RFC7958_EMAIL_DEFAULT;
	ERR_clear_error();
	if (xlen > INT_MAX || slen > INT_MAX || slen == 0) {
		ferr(err, errlen, "signature or XML of a bad size");
		return -1;
	}
	sbio = BIO_new_mem_buf(sig, (int)slen);
	if (sbio == NULL)
		goto ssl_fail;
	cms = d2i_CMS_bio(sbio, NULL);
	if (cms == NULL) {
		/* Not DER: try PEM ("CMS" or "PKCS7"). */
		BIO_free(sbio);
		ERR_clear_error();
		sbio = BIO_new_mem_buf(sig, (int)slen);
		if (sbio == NULL)
			goto ssl_fail;
		cms = PEM_read_bio_CMS(sbio, NULL, NULL, NULL);
		if (cms == NULL) {
			ssl_reason(why, sizeof(why));
			ferr(err, errlen, "the signature is not a CMS/PKCS#7 "
			    "structure in DER or PEM: %s", why);
			goto out;
		}
	}
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		ferr(err, errlen, "the signature is not CMS SignedData");
		goto out;
	}
	if (CMS_is_detached(cms) != 1) {
		ferr(err, errlen, "the signature is not detached");
		goto out;
	}
	store = X509_STORE_new();
	if (store == NULL)
		goto ssl_fail;
	if (load_ca(store, ca_file, err, errlen) != 0)
		goto out;
	dbio = BIO_new_mem_buf(xml, (int)xlen);
	if (dbio == NULL)
		goto ssl_fail;
	if (CMS_verify(cms, NULL, store, dbio, NULL, CMS_BINARY) != 1) {
		ssl_reason(why, sizeof(why));
		ferr(err, errlen, "the signature does not verify with %s: %s",
		    ca_file, why);
		goto out;
	}
	signers = CMS_get0_signers(cms);
	if (signers == NULL || sk_X509_num(signers) == 0) {
		ferr(err, errlen, "the signature has no signer certificate");
		goto out;
	}
	for (i = 0; i < sk_X509_num(signers); i++)
		if (cert_has_email(sk_X509_value(signers, i), email))
			break;
	if (i == sk_X509_num(signers)) {
		ferr(err, errlen, "no signer certificate is for %s", email);
		goto out;
	}
	rc = 0;
	goto out;
ssl_fail:
	ssl_reason(why, sizeof(why));
	ferr(err, errlen, "OpenSSL: %s", why);
out:
	sk_X509_free(signers);
	BIO_free(dbio);
	BIO_free(sbio);
	X509_STORE_free(store);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return rc;
}

/* ---------------------------------------------------------------- time */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static long long
days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

/* n digits at s, as a number; -1 if they are not digits. */
static int
digits(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/*
 * An xsd:dateTime: YYYY-MM-DDThh:mm:ss, optional fraction, then Z,
 * +hh:mm or -hh:mm (none means UTC).  Returns 0 or -1.
 */
static int
parse_time(const char *s, time_t *out)
{
	static const unsigned mdays[] = {
		31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	long long t;

	if (strlen(s) < 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':')
		return -1;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	sec = digits(s + 17, 2);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    (unsigned)d > mdays[mo - 1] || h < 0 || h > 23 || mi < 0 ||
	    mi > 59 || sec < 0 || sec > 60)
		return -1;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 ||
	    y % 400 == 0)))
		return -1;
	s += 19;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return -1;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == 'Z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s == '+' ? 1 : -1;
		if (strlen(s) != 6 || s[3] != ':')
			return -1;
		oh = digits(s + 1, 2);
		om = digits(s + 4, 2);
		if (oh < 0 || oh > 14 || om < 0 || om > 59)
			return -1;
		s += 6;
	}
	if (*s != '\0')
		return -1;
	if (sec == 60)
		sec = 59;	/* a leap second; time_t has none */
	t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400LL +
	    h * 3600LL + mi * 60LL + sec - sign * (oh * 3600LL + om * 60LL);
	if (t < 0 || (sizeof(time_t) < sizeof(long long) && t > INT_MAX))
		return -1;
	*out = (time_t)t;
	return 0;
}

static void
format_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(buf, len, "%lld", (long long)t);
}

/* ---------------------------------------------------------------- XML */

/* The first failure, with its line; the parser stops. */
static void
xfail(struct xp *x, const char *fmt, ...)
{
	char why[REASON_MAX - 32];
	va_list ap;

	if (x->failed)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	(void)snprintf(x->why, sizeof(x->why), "line %lu: %s",
	    (unsigned long)XML_GetCurrentLineNumber(x->parser), why);
	x->failed = true;
	(void)XML_StopParser(x->parser, XML_FALSE);
}

static const char *
find_att(const XML_Char **atts, const char *name)
{
	size_t i;

	for (i = 0; atts[i] != NULL; i += 2)
		if (strcmp(atts[i], name) == 0)
			return atts[i + 1];
	return NULL;
}

static int
parse_uint(const char *s, unsigned long max, unsigned *out)
{
	unsigned long v = 0;

	if (*s == '\0' || strlen(s) > 10)
		return -1;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static void
keydigest_start(struct xp *x, const XML_Char **atts)
{
	const char *id, *from, *until;

	x->in_kd = true;
	x->kds++;
	x->seen = 0;
	memset(&x->ds, 0, sizeof(x->ds));
	id = find_att(atts, "id");
	from = find_att(atts, "validFrom");
	until = find_att(atts, "validUntil");
	if (id == NULL || id[0] == '\0') {
		xfail(x, "KeyDigest without an id");
		return;
	}
	if (strlen(id) >= sizeof(x->ds.id)) {
		xfail(x, "KeyDigest id longer than %zu characters",
		    sizeof(x->ds.id) - 1);
		return;
	}
	memcpy(x->ds.id, id, strlen(id) + 1);
	if (from == NULL) {
		xfail(x, "KeyDigest '%s' without validFrom", x->ds.id);
		return;
	}
	if (parse_time(from, &x->ds.valid_from) != 0) {
		xfail(x, "KeyDigest '%s': bad validFrom '%s'", x->ds.id,
		    from);
		return;
	}
	x->ds.valid_until = (time_t)-1;
	if (until != NULL && parse_time(until, &x->ds.valid_until) != 0) {
		xfail(x, "KeyDigest '%s': bad validUntil '%s'", x->ds.id,
		    until);
		return;
	}
	if (until != NULL && x->ds.valid_until < x->ds.valid_from)
		xfail(x, "KeyDigest '%s': validUntil before validFrom",
		    x->ds.id);
}

static void
keydigest_end(struct xp *x)
{
	struct rfc7958_ds *n;
	size_t len, want = 0, cap;
	enum leaf l;

	x->in_kd = false;
	for (l = LEAF_KEYTAG; l <= LEAF_DIGEST; l++)
		if (!(x->seen & (1u << l))) {
			xfail(x, "KeyDigest '%s' without %s", x->ds.id,
			    leaf_name[l]);
			return;
		}
	len = strlen(x->ds.digest);
	if (x->ds.digest_type == 1)
		want = 40;
	else if (x->ds.digest_type == 2)
		want = 64;
	else if (x->ds.digest_type == 4)
		want = 96;
	if (want != 0 && len != want) {
		xfail(x, "KeyDigest '%s': a digest of type %u has %zu hex "
		    "digits, not %zu", x->ds.id, x->ds.digest_type, len,
		    want);
		return;
	}
	if (x->now < x->ds.valid_from ||
	    (x->ds.valid_until != (time_t)-1 && x->now > x->ds.valid_until))
		return;
	if (x->n == x->cap) {
		cap = x->cap == 0 ? 4 : x->cap * 2;
		n = realloc(x->out, cap * sizeof(*n));
		if (n == NULL) {
			xfail(x, "out of memory");
			return;
		}
		x->out = n;
		x->cap = cap;
	}
	x->out[x->n++] = x->ds;
}

/* The text of a leaf element, trimmed, checked, stored. */
static void
leaf_end(struct xp *x)
{
	char *s = x->text, *e;
	size_t i;

	s[x->tlen] = '\0';
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	switch (x->leaf) {
	case LEAF_ZONE:
		if (strcmp(s, ".") != 0)
			xfail(x, "Zone is '%s', not '.'", s);
		break;
	case LEAF_KEYTAG:
		if (parse_uint(s, 65535, &x->ds.keytag) != 0)
			xfail(x, "KeyDigest '%s': bad KeyTag '%s'", x->ds.id,
			    s);
		break;
	case LEAF_ALGORITHM:
		if (parse_uint(s, 255, &x->ds.algorithm) != 0)
			xfail(x, "KeyDigest '%s': bad Algorithm '%s'",
			    x->ds.id, s);
		break;
	case LEAF_DIGESTTYPE:
		if (parse_uint(s, 255, &x->ds.digest_type) != 0)
			xfail(x, "KeyDigest '%s': bad DigestType '%s'",
			    x->ds.id, s);
		break;
	case LEAF_DIGEST:
		for (i = 0; s[i] != '\0'; i++)
			if (!isxdigit((unsigned char)s[i]))
				break;
		if (s[i] != '\0' || i == 0 || i % 2 != 0 ||
		    i >= sizeof(x->ds.digest)) {
			xfail(x, "KeyDigest '%s': Digest is not hex of an "
			    "even length up to %zu", x->ds.id,
			    sizeof(x->ds.digest) - 1);
			break;
		}
		memcpy(x->ds.digest, s, i + 1);
		break;
	case LEAF_NONE:
		break;
	}
	x->leaf = LEAF_NONE;
}

static void XMLCALL
xml_start(void *arg, const XML_Char *name, const XML_Char **atts)
{
	struct xp *x = arg;
	enum leaf l = LEAF_NONE;

	if (x->failed)
		return;
	x->depth++;
	if (x->leaf != LEAF_NONE) {
		xfail(x, "element <%s> inside <%s>", name,
		    leaf_name[x->leaf]);
		return;
	}
	if (x->depth == 1) {
		if (strcmp(name, "TrustAnchor") != 0)
			xfail(x, "the root element is <%s>, not "
			    "<TrustAnchor>", name);
		return;
	}
	if (x->depth == 2 && strcmp(name, "Zone") == 0) {
		if (++x->zones > 1) {
			xfail(x, "more than one <Zone>");
			return;
		}
		l = LEAF_ZONE;
	} else if (x->depth == 2 && strcmp(name, "KeyDigest") == 0) {
		keydigest_start(x, atts);
		return;
	} else if (x->depth == 3 && x->in_kd) {
		if (strcmp(name, "KeyTag") == 0)
			l = LEAF_KEYTAG;
		else if (strcmp(name, "Algorithm") == 0)
			l = LEAF_ALGORITHM;
		else if (strcmp(name, "DigestType") == 0)
			l = LEAF_DIGESTTYPE;
		else if (strcmp(name, "Digest") == 0)
			l = LEAF_DIGEST;
		if (l != LEAF_NONE && (x->seen & (1u << l))) {
			xfail(x, "KeyDigest '%s' with two <%s>", x->ds.id,
			    name);
			return;
		}
		if (l != LEAF_NONE)
			x->seen |= 1u << l;
	}
	/* Anything else (PublicKey, Flags, extensions) is ignored. */
	x->leaf = l;
	x->leaf_depth = x->depth;
	x->tlen = 0;
}

static void XMLCALL
xml_end(void *arg, const XML_Char *name)
{
	struct xp *x = arg;

	if (x->failed)
		return;
	if (x->leaf != LEAF_NONE && x->depth == x->leaf_depth)
		leaf_end(x);
	else if (x->depth == 2 && x->in_kd && strcmp(name, "KeyDigest") == 0)
		keydigest_end(x);
	x->depth--;
}

static void XMLCALL
xml_text(void *arg, const XML_Char *s, int len)
{
	struct xp *x = arg;

	if (x->failed || x->leaf == LEAF_NONE || len <= 0)
		return;
	if ((size_t)len > TEXT_MAX - x->tlen) {
		xfail(x, "<%s> text too long", leaf_name[x->leaf]);
		return;
	}
	memcpy(x->text + x->tlen, s, (size_t)len);
	x->tlen += (size_t)len;
}

static void XMLCALL
xml_doctype(void *arg, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int has_internal)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal;
	xfail(arg, "a DOCTYPE is not allowed");
}

static void XMLCALL
xml_entity(void *arg, const XML_Char *name, int is_param,
    const XML_Char *value, int value_len, const XML_Char *base,
    const XML_Char *sysid, const XML_Char *pubid, const XML_Char *notation)
{
	(void)name;
	(void)is_param;
	(void)value;
	(void)value_len;
	(void)base;
	(void)sysid;
	(void)pubid;
	(void)notation;
	xfail(arg, "an entity declaration is not allowed");
}

int
rfc7958_parse(const void *xml, size_t len, time_t now,
    struct rfc7958_ds **out, size_t *n, char *err, size_t errlen)
{
	struct xp *x;
	char when[64];
	int rc = -1;

	*out = NULL;
	*n = 0;
	if (len > INT_MAX) {
		ferr(err, errlen, "root-anchors.xml too large");
		return -1;
	}
	x = calloc(1, sizeof(*x));
	if (x == NULL) {
		ferr(err, errlen, "out of memory");
		return -1;
	}
	x->now = now;
	x->parser = XML_ParserCreate(NULL);
	if (x->parser == NULL) {
		ferr(err, errlen, "out of memory (XML_ParserCreate)");
		free(x);
		return -1;
	}
	XML_SetUserData(x->parser, x);
	XML_SetElementHandler(x->parser, xml_start, xml_end);
	XML_SetCharacterDataHandler(x->parser, xml_text);
	XML_SetStartDoctypeDeclHandler(x->parser, xml_doctype);
	XML_SetEntityDeclHandler(x->parser, xml_entity);
	if (XML_Parse(x->parser, xml, (int)len, XML_TRUE) !=
	    XML_STATUS_OK) {
		if (x->failed)
			ferr(err, errlen, "root-anchors.xml: %s", x->why);
		else
			ferr(err, errlen, "root-anchors.xml: line %lu: %s",
			    (unsigned long)XML_GetCurrentLineNumber(
			    x->parser), XML_ErrorString(
			    XML_GetErrorCode(x->parser)));
		goto out;
	}
	if (x->failed) {
		ferr(err, errlen, "root-anchors.xml: %s", x->why);
		goto out;
	}
	if (x->zones == 0) {
		ferr(err, errlen, "root-anchors.xml: no <Zone>");
		goto out;
	}
	if (x->kds == 0) {
		ferr(err, errlen, "root-anchors.xml: no <KeyDigest>");
		goto out;
	}
	if (x->n == 0) {
		format_time(now, when, sizeof(when));
		ferr(err, errlen, "root-anchors.xml: no key valid at %s",
		    when);
		goto out;
	}
	*out = x->out;
	*n = x->n;
	x->out = NULL;
	rc = 0;
out:
	XML_ParserFree(x->parser);
	free(x->out);
	free(x);
	return rc;
}

char *
rfc7958_to_zone(const struct rfc7958_ds *ds, size_t n)
{
	/* ". IN DS " + three numbers + 128 digits + "\n" */
	const size_t line = 8 + 3 * 11 + sizeof(ds->digest) + 2;
	char *r, *p;
	size_t i, j;

	if (n > ((size_t)-1 - 1) / line)
		return NULL;
	r = malloc(n * line + 1);
	if (r == NULL)
		return NULL;
	p = r;
	*p = '\0';
	for (i = 0; i < n; i++) {
		p += snprintf(p, line, ". IN DS %u %u %u ", ds[i].keytag,
		    ds[i].algorithm, ds[i].digest_type);
		for (j = 0; ds[i].digest[j] != '\0' &&
		    j < sizeof(ds->digest) - 1; j++)
			*p++ = (char)toupper((unsigned char)ds[i].digest[j]);
		*p++ = '\n';
		*p = '\0';
	}
	return r;
}
