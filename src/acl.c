/*
 * acl.c -- address prefixes and matching.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acl.h"

static const char *const id_kinds[] = { "cn:", "dns:", "uri:", "spki:" };

bool
acl_is_identity(const char *text)
{
	size_t i;

	if (strcmp(text, "*") == 0 || strncmp(text, "* ", 2) == 0)
		return true;
	for (i = 0; i < sizeof(id_kinds) / sizeof(id_kinds[0]); i++)
		if (strncasecmp(text, id_kinds[i], strlen(id_kinds[i])) == 0)
			return true;
	return false;
}

int
acl_identity_parse(const char *text, struct acl_identity *id, char *err,
    size_t errlen)
{
	const char *sp = strchr(text, ' '), *action;
	size_t n = sp ? (size_t)(sp - text) : strlen(text);
	size_t k = strcspn(text, ":");

	memset(id, 0, sizeof(*id));
	if (!acl_is_identity(text) || (strcmp(text, "*") != 0 &&
	    strncmp(text, "* ", 2) != 0 && k + 1 >= n)) {
		snprintf(err, errlen, "'%s' is not a client identity "
		    "(cn:NAME, dns:NAME, uri:URI, spki:BASE64 or *)", text);
		return -1;
	}
	if (sp != NULL) {
		for (action = sp; *action == ' '; action++)
			;
		if (strcmp(action, "refuse") == 0)
			id->refuse = true;
		else if (strcmp(action, "allow") != 0) {
			snprintf(err, errlen, "'%s': the action after the "
			    "identity must be 'allow' or 'refuse'", text);
			return -1;
		}
	}
	if ((id->id = strndup(text, n)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* The kind in lower case, as tlsserve writes it. */
	for (k = 0; id->id[k] != '\0' && id->id[k] != ':'; k++)
		if (id->id[k] >= 'A' && id->id[k] <= 'Z')
			id->id[k] = (char)(id->id[k] - 'A' + 'a');
	return 0;
}

bool
acl_identity_matches(const struct acl_identity *rule, const char *ident)
{
	if (strcmp(rule->id, "*") == 0)
		return true;
	if (strncmp(rule->id, "cn:", 3) == 0 ||
	    strncmp(rule->id, "dns:", 4) == 0)
		return strcasecmp(rule->id, ident) == 0;
	return strcmp(rule->id, ident) == 0;
}

int
acl_parse(const char *text, struct acl_prefix *p, char *err, size_t errlen)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned maxbits, i;
	char *end;
	unsigned long bits;

	memset(p, 0, sizeof(*p));
	if (alen == 0 || alen >= sizeof(addr)) {
		snprintf(err, errlen, "'%s' is not an address prefix", text);
		return -1;
	}
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, p->addr) == 1) {
		p->family = AF_INET;
		maxbits = 32;
	} else if (inet_pton(AF_INET6, addr, p->addr) == 1) {
		p->family = AF_INET6;
		maxbits = 128;
	} else {
		snprintf(err, errlen, "'%s': '%s' is not an IP address", text,
		    addr);
		return -1;
	}
	bits = maxbits;
	if (slash) {
		if (slash[1] < '0' || slash[1] > '9' ||
		    (bits = strtoul(slash + 1, &end, 10), *end != '\0') ||
		    bits > maxbits) {
			snprintf(err, errlen, "'%s': prefix length must be "
			    "0..%u", text, maxbits);
			return -1;
		}
	}
	p->bits = (unsigned)bits;
	for (i = 0; i < maxbits; i++) {
		unsigned bit = p->addr[i / 8] >> (7 - i % 8) & 1;

		if (i >= p->bits && bit) {
			snprintf(err, errlen, "'%s': address bits set beyond "
			    "the /%u prefix", text, p->bits);
			return -1;
		}
	}
	return 0;
}

static bool
prefix_match(const uint8_t *a, const uint8_t *prefix, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, prefix, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[full] ^ prefix[full]) & (0xff << (8 - rest))) == 0;
}

bool
acl_allows(const struct acl_prefix *list, size_t n,
    const struct sockaddr *addr)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	const uint8_t *a4 = NULL, *a6 = NULL;
	size_t i;

	if (addr->sa_family == AF_INET) {
		a4 = (const uint8_t *)
		    &((const struct sockaddr_in *)(const void *)addr)->sin_addr;
	} else if (addr->sa_family == AF_INET6) {
		a6 = ((const struct sockaddr_in6 *)(const void *)addr)->
		    sin6_addr.s6_addr;
		/* An IPv4 client on a dual-stack socket. */
		if (memcmp(a6, mapped, sizeof(mapped)) == 0)
			a4 = a6 + 12;
	} else
		return false;
	for (i = 0; i < n; i++) {
		if (list[i].family == AF_INET && a4 != NULL &&
		    prefix_match(a4, list[i].addr, list[i].bits))
			return true;
		if (list[i].family == AF_INET6 && a6 != NULL &&
		    prefix_match(a6, list[i].addr, list[i].bits))
			return true;
	}
	return false;
}
