/*
 * tlsserve.h -- the TLS side of the DNS-over-TLS listener (RFC 7858, RFC
 * 8310): the service certificate and key, client certificates, session
 * tickets, and their rotation without a restart.
 *
 * One tlsserve serves every worker.  It holds the OpenSSL context in
 * force; tlsserve_ssl_new() takes a new connection's SSL from it under a
 * lock, so a reload that swaps the context never disturbs a connection
 * already open (each SSL keeps its context alive).  The session ticket
 * keys live here, not in the context: a ticket issued before a reload,
 * or by another worker, still resumes.
 */
#ifndef DS_TLSSERVE_H
#define DS_TLSSERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <openssl/ssl.h>

struct ds_config;
struct tlsserve;

/* How often a new session ticket key is made; tickets made with the one
 * before still resume (and get a new ticket) for as long again. */
#define TLSSERVE_TICKET_ROTATE_SEC	3600

/* Load cfg's tls_service_pem, tls_service_key and tls_client_ca.
 * Returns NULL after logging what is wrong (which file, and why). */
struct tlsserve *tlsserve_create(const struct ds_config *cfg);

/* Load cfg's files again into a new context for new connections.  On any
 * error the context in force stays, and the reason, naming the file, is
 * written to err.  Returns 0 or -1. */
int tlsserve_reload(struct tlsserve *t, const struct ds_config *cfg,
    char *err, size_t errlen);

/* A server-side SSL for a new connection, or NULL (logged). */
SSL *tlsserve_ssl_new(struct tlsserve *t);

/* Make a new session ticket key now, as the hourly rotation does: new
 * tickets use it, tickets of the key before still resume (and are
 * replaced), older ones no longer do.  Returns 0, or -1 (logged) when no
 * random bytes could be had. */
int tlsserve_rotate_tickets(struct tlsserve *t);

/* Whether client certificates are required (tls_client_ca is set). */
bool tlsserve_client_auth(struct tlsserve *t);

/* The serial number of the certificate in force, in hex, into buf (for
 * logs and tests).  Returns buf. */
const char *tlsserve_serial(struct tlsserve *t, char *buf, size_t len);

void tlsserve_free(struct tlsserve *t);

/*
 * Client identities, from the certificate a client presented (verified
 * against tls_client_ca).  Each is written as access_control names it:
 * "cn:NAME" (the subject's common name), "dns:NAME" and "uri:URI" (the
 * subject alternative names), and "spki:BASE64" (the SHA-256 of the
 * SubjectPublicKeyInfo, as pin-sha256 of RFC 7469).  fn is called once
 * per identity; it returns true to stop.  Returns whether fn stopped.
 */
typedef bool (*tlsserve_identity_fn)(void *arg, const char *identity);
bool tlsserve_identities(SSL *ssl, tlsserve_identity_fn fn, void *arg);

/* The first of the n access_control identity rules that names one of
 * the identities of ssl's client, or a "*" rule (which also matches a
 * client without a certificate); NULL when none does. */
struct acl_identity;
const struct acl_identity *tlsserve_match(SSL *ssl,
    const struct acl_identity *rules, size_t n);

/* Check that the key file at path can be no one's but its owner's and
 * its group's: no permission bit for others.  Returns 0, or -1 with the
 * reason in err. */
int tlsserve_check_key_mode(const char *path, char *err, size_t errlen);

#endif /* DS_TLSSERVE_H */
