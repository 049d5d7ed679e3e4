/*
 * tlsserve.c -- the DoT listener's certificates, tickets and client
 * identities (tlsserve.h).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "acl.h"
#include "clock.h"
#include "dsconfig.h"
#include "log.h"
#include "tlsserve.h"

/* TLS 1.2's suites: forward secret AEADs only (TLS 1.3's are all so). */
#define TLS12_CIPHERS	"ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20"

struct ticket_key {
	unsigned char name[16];
	unsigned char aes[32];
	unsigned char hmac[32];
	uint64_t born;		/* now_sec() when made; 0: none */
};

struct tlsserve {
	pthread_mutex_t lock;
	SSL_CTX *ctx;		/* the one in force */
	bool client_auth;
	struct ticket_key keys[2];	/* [0] issues, [1] still resumes */
};

/* The first OpenSSL error queued, into buf (and the queue emptied). */
static const char *
ossl_error(char *buf, size_t len)
{
	unsigned long e = ERR_peek_error();

	if (e == 0)
		snprintf(buf, len, "unknown error");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

int
tlsserve_check_key_mode(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "tls_service_key %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (st.st_mode & S_IRWXO) {
		snprintf(err, errlen, "tls_service_key %s can be read by "
		    "other users (mode %03o); make it readable only by its "
		    "owner and group (chmod o-rwx)", path,
		    (unsigned)(st.st_mode & 0777));
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- tickets */

static int
ticket_key_make(struct ticket_key *k)
{
	if (RAND_bytes(k->name, sizeof(k->name)) != 1 ||
	    RAND_bytes(k->aes, sizeof(k->aes)) != 1 ||
	    RAND_bytes(k->hmac, sizeof(k->hmac)) != 1)
		return -1;
	k->born = now_sec();
	return 0;
}

/* Under t->lock: a new issuing key, the one in use kept for decryption. */
static int
ticket_keys_shift(struct tlsserve *t)
{
	struct ticket_key fresh;

	if (ticket_key_make(&fresh) != 0) {
		ds_warn("dot: no random bytes for a new session ticket key; "
		    "the old one stays");
		return -1;
	}
	t->keys[1] = t->keys[0];
	t->keys[0] = fresh;
	OPENSSL_cleanse(&fresh, sizeof(fresh));
	return 0;
}

/* Under t->lock: a new issuing key when the one in use is old enough. */
static void
ticket_keys_rotate(struct tlsserve *t)
{
	if (t->keys[0].born == 0 ||
	    now_sec() - t->keys[0].born >= TLSSERVE_TICKET_ROTATE_SEC)
		(void)ticket_keys_shift(t);
}

int
tlsserve_rotate_tickets(struct tlsserve *t)
{
	int rc;

	pthread_mutex_lock(&t->lock);
	rc = ticket_keys_shift(t);
	pthread_mutex_unlock(&t->lock);
	return rc;
}

static int
ticket_mac_init(EVP_MAC_CTX *hctx, const unsigned char *key)
{
	OSSL_PARAM params[3];

	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY,
	    (void *)key, 32);
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[2] = OSSL_PARAM_construct_end();
	return EVP_MAC_CTX_set_params(hctx, params);
}

/* OpenSSL's ticket key callback: encrypt with the newest key; decrypt
 * with either, asking for a new ticket when the older one was used. */
static int
ticket_cb(SSL *s, unsigned char *name, unsigned char *iv,
    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	struct tlsserve *t = SSL_CTX_get_app_data(SSL_get_SSL_CTX(s));
	struct ticket_key k;
	int i, rc = -1;

	memset(&k, 0, sizeof(k));
	pthread_mutex_lock(&t->lock);
	if (enc) {
		ticket_keys_rotate(t);
		k = t->keys[0];
		pthread_mutex_unlock(&t->lock);
		if (k.born == 0 || RAND_bytes(iv, 16) != 1)
			goto out;
		memcpy(name, k.name, sizeof(k.name));
		if (EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k.aes,
		    iv) != 1 || ticket_mac_init(hctx, k.hmac) != 1)
			goto out;
		rc = 1;
		goto out;
	}
	for (i = 0; i < 2; i++)
		if (t->keys[i].born != 0 &&
		    memcmp(t->keys[i].name, name, 16) == 0)
			break;
	if (i == 2 || now_sec() - t->keys[i].born >=
	    2 * TLSSERVE_TICKET_ROTATE_SEC) {
		pthread_mutex_unlock(&t->lock);
		rc = 0;		/* unknown or too old: a full handshake */
		goto out;
	}
	k = t->keys[i];
	pthread_mutex_unlock(&t->lock);
	if (EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k.aes, iv) !=
	    1 || ticket_mac_init(hctx, k.hmac) != 1)
		goto out;
	rc = i == 0 ? 1 : 2;
out:
	OPENSSL_cleanse(&k, sizeof(k));
	return rc;
}

/* ---------------------------------------------------------------- ALPN */

static int
alpn_cb(SSL *s, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned inlen, void *arg)
{
	static const unsigned char dot[] = { 3, 'd', 'o', 't' };
	unsigned char *sel;

	(void)s;
	(void)arg;
	/* RFC 7858 names "dot"; a client that offers only other protocols
	 * is served without ALPN, as by other DoT servers. */
	if (SSL_select_next_proto(&sel, outlen, dot, sizeof(dot), in,
	    inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/* ---------------------------------------------------------------- loading */

static SSL_CTX *
load_ctx(struct tlsserve *t, const struct ds_config *cfg, char *err,
    size_t errlen)
{
	static const unsigned char sid_ctx[] = "dotsecd";
	STACK_OF(X509_NAME) *names;
	SSL_CTX *ctx;
	char e[256];

	if (cfg->tls_service_pem == NULL || cfg->tls_service_key == NULL) {
		snprintf(err, errlen, "tls_service_pem and tls_service_key "
		    "must both be set");
		return NULL;
	}
	if (tlsserve_check_key_mode(cfg->tls_service_key, err, errlen) != 0)
		return NULL;
	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		snprintf(err, errlen, "TLS context: %s", ossl_error(e,
		    sizeof(e)));
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
		snprintf(err, errlen, "TLS context: %s", ossl_error(e,
		    sizeof(e)));
		goto fail;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_service_pem) !=
	    1) {
		snprintf(err, errlen, "tls_service_pem %s: %s",
		    cfg->tls_service_pem, ossl_error(e, sizeof(e)));
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_service_key,
	    SSL_FILETYPE_PEM) != 1 &&
	    ERR_GET_REASON(ERR_peek_error()) != X509_R_KEY_VALUES_MISMATCH) {
		snprintf(err, errlen, "tls_service_key %s: %s",
		    cfg->tls_service_key, ossl_error(e, sizeof(e)));
		goto fail;
	}
	if (ERR_peek_error() != 0 || SSL_CTX_check_private_key(ctx) != 1) {
		ERR_clear_error();
		snprintf(err, errlen, "tls_service_key %s is not the key of "
		    "the certificate in %s", cfg->tls_service_key,
		    cfg->tls_service_pem);
		goto fail;
	}
	if (cfg->tls_client_ca != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, cfg->tls_client_ca,
		    NULL) != 1 || (names = SSL_load_client_CA_file(
		    cfg->tls_client_ca)) == NULL) {
			snprintf(err, errlen, "tls_client_ca %s: %s",
			    cfg->tls_client_ca, ossl_error(e, sizeof(e)));
			goto fail;
		}
		SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	/* Stateless tickets only, shared by every worker and reload. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_timeout(ctx, 2 * TLSSERVE_TICKET_ROTATE_SEC);
	if (SSL_CTX_set_session_id_context(ctx, sid_ctx,
	    sizeof(sid_ctx) - 1) != 1 ||
	    SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb) != 1) {
		snprintf(err, errlen, "TLS context: %s", ossl_error(e,
		    sizeof(e)));
		goto fail;
	}
	SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, NULL);
	SSL_CTX_set_app_data(ctx, t);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

struct tlsserve *
tlsserve_create(const struct ds_config *cfg)
{
	struct tlsserve *t;
	char err[512];

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		ds_err("dot: out of memory");
		return NULL;
	}
	pthread_mutex_init(&t->lock, NULL);
	if (ticket_key_make(&t->keys[0]) != 0) {
		ds_err("dot: no random bytes for a session ticket key");
		goto fail;
	}
	if ((t->ctx = load_ctx(t, cfg, err, sizeof(err))) == NULL) {
		ds_err("dot: %s", err);
		goto fail;
	}
	t->client_auth = cfg->tls_client_ca != NULL;
	return t;
fail:
	tlsserve_free(t);
	return NULL;
}

int
tlsserve_reload(struct tlsserve *t, const struct ds_config *cfg, char *err,
    size_t errlen)
{
	SSL_CTX *ctx, *old;

	if ((ctx = load_ctx(t, cfg, err, errlen)) == NULL)
		return -1;
	pthread_mutex_lock(&t->lock);
	old = t->ctx;
	t->ctx = ctx;
	t->client_auth = cfg->tls_client_ca != NULL;
	pthread_mutex_unlock(&t->lock);
	/* Connections made with it hold their own reference. */
	SSL_CTX_free(old);
	return 0;
}

SSL *
tlsserve_ssl_new(struct tlsserve *t)
{
	SSL *ssl;
	char e[256];

	pthread_mutex_lock(&t->lock);
	ssl = SSL_new(t->ctx);
	pthread_mutex_unlock(&t->lock);
	if (ssl == NULL)
		ds_err("dot: no TLS session: %s", ossl_error(e, sizeof(e)));
	return ssl;
}

bool
tlsserve_client_auth(struct tlsserve *t)
{
	bool on;

	pthread_mutex_lock(&t->lock);
	on = t->client_auth;
	pthread_mutex_unlock(&t->lock);
	return on;
}

const char *
tlsserve_serial(struct tlsserve *t, char *buf, size_t len)
{
	BIGNUM *bn = NULL;
	char *hex = NULL;
	X509 *cert;

	snprintf(buf, len, "?");
	pthread_mutex_lock(&t->lock);
	if ((cert = SSL_CTX_get0_certificate(t->ctx)) != NULL &&
	    (bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL)) !=
	    NULL && (hex = BN_bn2hex(bn)) != NULL)
		snprintf(buf, len, "%s", hex);
	pthread_mutex_unlock(&t->lock);
	OPENSSL_free(hex);
	BN_free(bn);
	return buf;
}

void
tlsserve_free(struct tlsserve *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ctx);
	OPENSSL_cleanse(t->keys, sizeof(t->keys));
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* ---------------------------------------------------------------- identity */

/* "PREFIX:" and the string's bytes, when they hold no NUL and fit. */
static bool
identity_call(const char *prefix, const unsigned char *s, int n,
    tlsserve_identity_fn fn, void *arg)
{
	char id[512];
	size_t p = strlen(prefix);

	if (s == NULL || n <= 0 || (size_t)n + p + 1 > sizeof(id) ||
	    memchr(s, '\0', (size_t)n) != NULL)
		return false;
	memcpy(id, prefix, p);
	memcpy(id + p, s, (size_t)n);
	id[p + (size_t)n] = '\0';
	return fn(arg, id);
}

bool
tlsserve_identities(SSL *ssl, tlsserve_identity_fn fn, void *arg)
{
	X509 *cert = SSL_get0_peer_certificate(ssl);
	GENERAL_NAMES *sans;
	unsigned char *der = NULL, *cn = NULL, md[SHA256_DIGEST_LENGTH];
	unsigned char b64[4 * ((SHA256_DIGEST_LENGTH + 2) / 3) + 1];
	X509_NAME *subj;
	bool stop = false;
	int i, n;

	if (cert == NULL || SSL_get_verify_result(ssl) != X509_V_OK)
		return false;
	if ((subj = X509_get_subject_name(cert)) != NULL &&
	    (i = X509_NAME_get_index_by_NID(subj, NID_commonName, -1)) >= 0 &&
	    (n = ASN1_STRING_to_UTF8(&cn, X509_NAME_ENTRY_get_data(
	    X509_NAME_get_entry(subj, i)))) > 0)
		stop = identity_call("cn:", cn, n, fn, arg);
	OPENSSL_free(cn);
	if (!stop && (sans = X509_get_ext_d2i(cert, NID_subject_alt_name,
	    NULL, NULL)) != NULL) {
		for (i = 0; !stop && i < sk_GENERAL_NAME_num(sans); i++) {
			const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);

			if (g->type == GEN_DNS)
				stop = identity_call("dns:",
				    ASN1_STRING_get0_data(g->d.dNSName),
				    ASN1_STRING_length(g->d.dNSName), fn, arg);
			else if (g->type == GEN_URI)
				stop = identity_call("uri:",
				    ASN1_STRING_get0_data(
				    g->d.uniformResourceIdentifier),
				    ASN1_STRING_length(
				    g->d.uniformResourceIdentifier), fn, arg);
		}
		GENERAL_NAMES_free(sans);
	}
	if (!stop && (n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert),
	    &der)) > 0) {
		SHA256(der, (size_t)n, md);
		n = EVP_EncodeBlock(b64, md, sizeof(md));
		stop = identity_call("spki:", b64, n, fn, arg);
	}
	OPENSSL_free(der);
	return stop;
}

struct match {
	const struct acl_identity *rules;
	size_t best;		/* the earliest rule matched so far */
};

static bool
match_one(void *arg, const char *ident)
{
	struct match *m = arg;
	size_t i;

	for (i = 0; i < m->best; i++)
		if (acl_identity_matches(&m->rules[i], ident)) {
			m->best = i;
			break;
		}
	return m->best == 0;
}

const struct acl_identity *
tlsserve_match(SSL *ssl, const struct acl_identity *rules, size_t n)
{
	struct match m = { rules, n };
	size_t i;

	if (n == 0)
		return NULL;
	(void)tlsserve_identities(ssl, match_one, &m);
	for (i = 0; i < m.best; i++)
		if (strcmp(rules[i].id, "*") == 0) {
			m.best = i;
			break;
		}
	return m.best < n ? &rules[m.best] : NULL;
}
