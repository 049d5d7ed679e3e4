/*
 * rfc7958.h -- IANA's root-anchors.xml (RFC 7958): check its detached
 * S/MIME signature (root-anchors.p7s) with OpenSSL's CMS against one CA,
 * and turn the KeyDigests valid at a given time into DS records.  This is
 * how a host with no usable trust anchor state gets one (the first start,
 * or a state file lost), as unbound-anchor does.
 *
 * Nothing here logs; failures are described in the caller's err buffer.
 * No function keeps a pointer to its arguments.
 */
#ifndef DS_RFC7958_H
#define DS_RFC7958_H

#include <stddef.h>
#include <time.h>

/* The signer of IANA's root-anchors.p7s. */
#define RFC7958_EMAIL_DEFAULT	"dnssec@iana.org"

/* One KeyDigest element. */
struct rfc7958_ds {
	char id[64];		/* its id attribute */
	unsigned keytag, algorithm, digest_type;
	char digest[129];	/* hex, upper or lower case as in the file */
	time_t valid_from;
	time_t valid_until;	/* (time_t)-1 when the file gives none */
};

/*
 * Verify that sig (slen bytes of a detached CMS/PKCS#7 signature, DER as
 * IANA publishes it, or PEM) signs the xlen bytes of xml exactly, with a
 * certificate chain that ends in a certificate of ca_file (PEM; the only
 * trust root: the system's CAs are not used) and is valid now, and that
 * a signer's certificate carries the e-mail address email
 * (RFC7958_EMAIL_DEFAULT when NULL) as a subjectAltName rfc822Name or as
 * the subject's emailAddress (compared ignoring case).
 * Returns 0, or -1 with the reason (OpenSSL's included) in err.
 */
int rfc7958_verify(const void *xml, size_t xlen, const void *sig,
    size_t slen, const char *ca_file, const char *email, char *err,
    size_t errlen);

/*
 * Parse root-anchors.xml (len bytes; DOCTYPE and entity declarations are
 * refused) and return the KeyDigests valid at now: validFrom <= now, and
 * now <= validUntil when given.  Every KeyDigest must be well formed,
 * valid at now or not: an id of at most 63 characters, a validFrom, and
 * exactly one KeyTag (0-65535), Algorithm (0-255), DigestType (0-255) and
 * Digest (hex, of the length its type demands for types 1, 2 and 4, at
 * most 128 digits); other elements (PublicKey, Flags of RFC 9718) are
 * ignored.  The Zone must be ".".
 * Returns 0 with *out a malloc'd array (free with free()) of *n >= 1
 * entries in file order; or -1 with the reason in err ("no key valid at
 * 2010-07-14T00:00:00Z" when none is valid), *out NULL and *n 0.
 */
int rfc7958_parse(const void *xml, size_t len, time_t now,
    struct rfc7958_ds **out, size_t *n, char *err, size_t errlen);

/* The records in zone format, one ". IN DS TAG ALG TYPE DIGEST\n" line
 * each, the digest in upper case; "" when n is 0.  Returns a malloc'd
 * string, or NULL on allocation failure. */
char *rfc7958_to_zone(const struct rfc7958_ds *ds, size_t n);

#endif /* DS_RFC7958_H */
