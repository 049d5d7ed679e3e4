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

#endif /* DS_ACL_H */
