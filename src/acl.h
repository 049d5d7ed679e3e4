/*
 * acl.h -- who may ask: a list of address prefixes (CIDR).
 */
#ifndef DS_ACL_H
#define DS_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct acl_prefix {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* masked */
	unsigned bits;
};

/* Parse "ADDR" or "ADDR/BITS" (IPv4 or IPv6, bits within the family's
 * length; host bits must be zero).  Returns 0, or -1 with the reason in
 * err. */
int acl_parse(const char *text, struct acl_prefix *p, char *err,
    size_t errlen);

/* Whether addr (an IPv4, IPv6 or IPv4-mapped IPv6 address) falls in one
 * of the n prefixes. */
bool acl_allows(const struct acl_prefix *list, size_t n,
    const struct sockaddr *addr);

/*
 * Client identities (the DoT listener's client certificates, src/
 * tlsserve.h): an access_control entry "IDENTITY [allow|refuse]" where
 * IDENTITY is "cn:NAME", "dns:NAME", "uri:URI", "spki:BASE64" (SHA-256 of
 * the SubjectPublicKeyInfo), or "*" for any DoT client.  The first entry
 * that names one of a client's identities decides; a client that none
 * names is served (as access_control's addresses allow).
 */
/* At most this many identity entries (they label the metrics). */
#define ACL_MAX_IDENTITIES	32

struct acl_identity {
	char *id;		/* as written, without the action */
	bool refuse;
};

/* Whether text is an identity entry (it starts with a prefix above). */
bool acl_is_identity(const char *text);

/* Parse an identity entry into id (id->id malloc'd).  Returns 0, or -1
 * with the reason in err. */
int acl_identity_parse(const char *text, struct acl_identity *id,
    char *err, size_t errlen);

/* Whether the rule names the client identity ident (as tlsserve writes
 * them): names compared without regard to case, URIs and pins exactly. */
bool acl_identity_matches(const struct acl_identity *rule,
    const char *ident);

#endif /* DS_ACL_H */
