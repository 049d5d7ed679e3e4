/*
 * runtime.c -- negative trust anchors and forward zones added at run time
 * (runtime.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>

#include "dnsmsg.h"
#include "dsconfig.h"
#include "log.h"
#include "route.h"
#include "runtime.h"

struct nta {
	char *name;		/* presentation, lower case, final dot */
	time_t until;
};

struct fwd {
	char *name;
	char *yaml;		/* its forward_zones entry */
};

struct runtime {
	struct nta nta[RUNTIME_MAX_ENTRIES];
	size_t nnta;
	struct fwd fwd[RUNTIME_MAX_ENTRIES];
	size_t nfwd;
};

static void seterr(char *, size_t, const char *, ...)
	__attribute__((format(printf, 3, 4)));
static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* name as a canonical presentation name ("corp.example."), or NULL with
 * err set. */
static char *
canon_name(const char *name, char *err, size_t errlen)
{
	uint8_t wire[DNS_MAX_NAME];
	char text[4 * DNS_MAX_NAME + 2];
	int len = route_name_to_wire(name, wire, sizeof(wire));
	char *s;

	if (len < 0 || dnsmsg_name_to_str(wire, (size_t)len, text,
	    sizeof(text)) < 0) {
		seterr(err, errlen, "%s: not a domain name", name);
		return NULL;
	}
	if (strcmp(text, ".") == 0) {
		seterr(err, errlen, "not for the root");
		return NULL;
	}
	if ((s = strdup(text)) == NULL)
		seterr(err, errlen, "out of memory");
	return s;
}

struct runtime *
runtime_create(void)
{
	return calloc(1, sizeof(struct runtime));
}

void
runtime_delete(struct runtime *rt)
{
	size_t i;

	if (rt == NULL)
		return;
	for (i = 0; i < rt->nnta; i++)
		free(rt->nta[i].name);
	for (i = 0; i < rt->nfwd; i++) {
		free(rt->fwd[i].name);
		free(rt->fwd[i].yaml);
	}
	free(rt);
}

struct runtime *
runtime_clone(const struct runtime *rt)
{
	struct runtime *c = runtime_create();
	size_t i;

	if (c == NULL)
		return NULL;
	for (i = 0; i < rt->nnta; i++) {
		if ((c->nta[i].name = strdup(rt->nta[i].name)) == NULL)
			goto fail;
		c->nta[i].until = rt->nta[i].until;
		c->nnta++;
	}
	for (i = 0; i < rt->nfwd; i++) {
		c->fwd[i].name = strdup(rt->fwd[i].name);
		c->fwd[i].yaml = strdup(rt->fwd[i].yaml);
		c->nfwd++;
		if (c->fwd[i].name == NULL || c->fwd[i].yaml == NULL)
			goto fail;
	}
	return c;
fail:
	runtime_delete(c);
	return NULL;
}

int
runtime_nta_add(struct runtime *rt, const char *name, unsigned secs,
    time_t now, char *err, size_t errlen)
{
	char *n;
	size_t i;

	if (secs == 0 || secs > RUNTIME_NTA_MAX) {
		seterr(err, errlen, "%u s: a negative trust anchor lasts 1 s "
		    "to a week (%u s)", secs, RUNTIME_NTA_MAX);
		return -1;
	}
	if ((n = canon_name(name, err, errlen)) == NULL)
		return -1;
	for (i = 0; i < rt->nnta; i++)
		if (strcmp(rt->nta[i].name, n) == 0) {
			free(n);
			rt->nta[i].until = now + (time_t)secs;
			return 0;
		}
	if (rt->nnta == RUNTIME_MAX_ENTRIES) {
		free(n);
		seterr(err, errlen, "already %d negative trust anchors",
		    RUNTIME_MAX_ENTRIES);
		return -1;
	}
	rt->nta[rt->nnta].name = n;
	rt->nta[rt->nnta].until = now + (time_t)secs;
	rt->nnta++;
	return 0;
}

static void
nta_drop(struct runtime *rt, size_t i)
{
	free(rt->nta[i].name);
	rt->nta[i] = rt->nta[--rt->nnta];
}

int
runtime_nta_remove(struct runtime *rt, const char *name, char *err,
    size_t errlen)
{
	char *n;
	size_t i;

	if ((n = canon_name(name, err, errlen)) == NULL)
		return -1;
	for (i = 0; i < rt->nnta; i++)
		if (strcmp(rt->nta[i].name, n) == 0) {
			nta_drop(rt, i);
			free(n);
			return 0;
		}
	seterr(err, errlen, "%s: no negative trust anchor added for it "
	    "(those of the configuration file stay)", n);
	free(n);
	return -1;
}

void
runtime_nta_list(const struct runtime *rt, time_t now, struct evbuffer *out)
{
	struct tm tm;
	char when[64];
	size_t i;

	for (i = 0; i < rt->nnta; i++) {
		time_t u = rt->nta[i].until;

		if (gmtime_r(&u, &tm) == NULL ||
		    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC",
		    &tm) == 0)
			snprintf(when, sizeof(when), "%lld", (long long)u);
		evbuffer_add_printf(out, "%s expires in %lld s (%s)\n",
		    rt->nta[i].name, (long long)(u > now ? u - now : 0), when);
	}
}

size_t
runtime_nta_expire(struct runtime *rt, time_t now)
{
	size_t i = 0, n = 0;

	while (i < rt->nnta) {
		if (rt->nta[i].until <= now) {
			ds_notice("negative trust anchor %s expired",
			    rt->nta[i].name);
			nta_drop(rt, i);
			n++;
		} else
			i++;
	}
	return n;
}

time_t
runtime_nta_next(const struct runtime *rt)
{
	time_t t = 0;
	size_t i;

	for (i = 0; i < rt->nnta; i++)
		if (t == 0 || rt->nta[i].until < t)
			t = rt->nta[i].until;
	return t;
}

/* Only what may stand in a double-quoted YAML scalar as it is. */
static bool
plain_word(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x21 ||
		    (unsigned char)*s > 0x7e)
			return false;
	return true;
}

int
runtime_fwd_add(struct runtime *rt, int argc, char **args, char *err,
    size_t errlen)
{
	struct evbuffer *y;
	bool plain = false, insecure = false;
	const char *ca = NULL;
	char *name = NULL, *yaml = NULL;
	int i, nservers = 0;
	size_t k, len;

	if (argc < 2) {
		seterr(err, errlen, "usage: forward add NAME "
		    "ADDR[@PORT][#AUTHNAME]... [--plain] [--insecure] "
		    "[--ca FILE]");
		return -1;
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(args[i], "--plain") == 0)
			plain = true;
		else if (strcmp(args[i], "--insecure") == 0)
			insecure = true;
		else if (strcmp(args[i], "--ca") == 0 && i + 1 < argc)
			ca = args[++i];
		else if (args[i][0] == '-') {
			seterr(err, errlen, "%s: unknown option", args[i]);
			return -1;
		} else
			nservers++;
	}
	if (nservers == 0) {
		seterr(err, errlen, "forward add %s: no server", args[0]);
		return -1;
	}
	if (ca != NULL && (!plain_word(ca) || ca[0] != '/')) {
		seterr(err, errlen, "--ca %s: an absolute path, please", ca);
		return -1;
	}
	if ((name = canon_name(args[0], err, errlen)) == NULL)
		return -1;
	if ((y = evbuffer_new()) == NULL) {
		free(name);
		seterr(err, errlen, "out of memory");
		return -1;
	}
	evbuffer_add_printf(y, "  - name: \"%s\"\n    transport: %s\n"
	    "    dnssec: %s\n", name, plain ? "plain" : "tls",
	    insecure ? "insecure" : "validate");
	if (ca != NULL)
		evbuffer_add_printf(y, "    tls_ca_file: \"%s\"\n", ca);
	evbuffer_add_printf(y, "    upstream_recursive_servers:\n");
	for (i = 1; i < argc; i++) {
		struct sockaddr_storage ss;
		socklen_t sl;
		char addr[256], *hash, *auth = NULL, *at;
		unsigned port = 0;

		if (args[i][0] == '-') {
			if (strcmp(args[i], "--ca") == 0)
				i++;
			continue;
		}
		snprintf(addr, sizeof(addr), "%s", args[i]);
		if ((hash = strchr(addr, '#')) != NULL) {
			*hash = '\0';
			auth = hash + 1;
		}
		if (config_parse_addr(addr, plain ? 53 : 853, &ss, &sl) != 0 ||
		    (auth != NULL && (auth[0] == '\0' || !plain_word(auth)))) {
			seterr(err, errlen, "%s: not ADDR[@PORT][#AUTHNAME] "
			    "(a numeric address)", args[i]);
			evbuffer_free(y);
			free(name);
			return -1;
		}
		if (auth != NULL && plain) {
			seterr(err, errlen, "%s: no authentication name over "
			    "plain transport", args[i]);
			evbuffer_free(y);
			free(name);
			return -1;
		}
		if ((at = strchr(addr, '@')) != NULL) {
			*at = '\0';
			port = (unsigned)strtoul(at + 1, NULL, 10);
		}
		evbuffer_add_printf(y, "      - address_data: \"%s\"\n", addr);
		if (port != 0)
			evbuffer_add_printf(y, "        %s: %u\n", plain ?
			    "port" : "tls_port", port);
		if (auth != NULL)
			evbuffer_add_printf(y, "        tls_auth_name: \"%s\"\n",
			    auth);
	}
	len = evbuffer_get_length(y);
	if ((yaml = malloc(len + 1)) == NULL) {
		evbuffer_free(y);
		free(name);
		seterr(err, errlen, "out of memory");
		return -1;
	}
	evbuffer_remove(y, yaml, len);
	yaml[len] = '\0';
	evbuffer_free(y);
	for (k = 0; k < rt->nfwd; k++)
		if (strcmp(rt->fwd[k].name, name) == 0) {
			free(rt->fwd[k].name);
			free(rt->fwd[k].yaml);
			rt->fwd[k].name = name;
			rt->fwd[k].yaml = yaml;
			return 0;
		}
	if (rt->nfwd == RUNTIME_MAX_ENTRIES) {
		free(name);
		free(yaml);
		seterr(err, errlen, "already %d forward zones added",
		    RUNTIME_MAX_ENTRIES);
		return -1;
	}
	rt->fwd[rt->nfwd].name = name;
	rt->fwd[rt->nfwd].yaml = yaml;
	rt->nfwd++;
	return 0;
}

int
runtime_fwd_remove(struct runtime *rt, const char *name, char *err,
    size_t errlen)
{
	char *n;
	size_t i;

	if ((n = canon_name(name, err, errlen)) == NULL)
		return -1;
	for (i = 0; i < rt->nfwd; i++)
		if (strcmp(rt->fwd[i].name, n) == 0) {
			free(rt->fwd[i].name);
			free(rt->fwd[i].yaml);
			rt->fwd[i] = rt->fwd[--rt->nfwd];
			free(n);
			return 0;
		}
	seterr(err, errlen, "%s: no forward zone added by dotsec-control "
	    "(those of the configuration files stay)", n);
	free(n);
	return -1;
}

char *
runtime_overlay(const struct runtime *rt, size_t *len)
{
	struct evbuffer *y = evbuffer_new();
	char *s;
	size_t i;

	*len = 0;
	if (y == NULL)
		return NULL;
	if (rt->nfwd > 0)
		evbuffer_add_printf(y, "forward_zones:\n");
	for (i = 0; i < rt->nfwd; i++)
		evbuffer_add_printf(y, "%s", rt->fwd[i].yaml);
	if (rt->nnta > 0)
		evbuffer_add_printf(y, "domain_insecure:\n");
	for (i = 0; i < rt->nnta; i++)
		evbuffer_add_printf(y, "  - \"%s\"\n", rt->nta[i].name);
	*len = evbuffer_get_length(y);
	if ((s = malloc(*len + 1)) != NULL) {
		evbuffer_remove(y, s, *len);
		s[*len] = '\0';
	} else
		*len = 0;
	evbuffer_free(y);
	return s;
}
