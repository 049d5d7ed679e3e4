/*
 * fetch.h -- one HTTPS GET, blocking, with a deadline: how dotsecd fetches
 * root-anchors.xml and its signature for an RFC 7958 bootstrap at start-up
 * (before any worker runs; the host name is resolved by the system's
 * resolver).  The server is authenticated (certificate chain and name);
 * the content is trusted only after its S/MIME signature is checked.
 */
#ifndef DS_FETCH_H
#define DS_FETCH_H

#include <stddef.h>

/* Largest body accepted. */
#define FETCH_MAX_BODY	(1024 * 1024)

/*
 * GET url ("https://HOST[:PORT]/PATH"; HOST a name, an IPv4 address or a
 * bracketed IPv6 address), verifying the server against ca_file (PEM), or
 * the system's CA store when ca_file is NULL, within timeout_ms for each
 * step.  Returns 0 with *body (malloc'd, NUL-terminated, free with free())
 * and *len set when the status is 200; or -1 with the URL and the reason
 * in err.
 */
int fetch_https(const char *url, const char *ca_file, unsigned timeout_ms,
    char **body, size_t *len, char *err, size_t errlen);

#endif /* DS_FETCH_H */
