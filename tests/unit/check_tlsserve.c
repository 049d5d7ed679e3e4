/*
 * check_tlsserve.c -- the DoT listener's TLS (src/tlsserve.c), through
 * handshakes in memory (a BIO pair) against a certificate made here: the
 * key's mode, ALPN, session tickets that resume and whose keys rotate, a
 * reload that keeps the pair in force when the new one is broken, and
 * client identities matched against access_control rules.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "acl.h"
#include "dsconfig.h"
#include "tlsserve.h"
#include "suites.h"

struct pair {
	char dir[64];
	char pem[96], key[96];
	EVP_PKEY *pk;
	X509 *cert;
};

/* A self-signed P-256 certificate with CN cn, SAN DNS:cn and the serial,
 * written to dir/NAME.pem and dir/NAME.key (mode 0600). */
static void
make_pair(struct pair *p, const char *dir, const char *name, const char *cn,
    long serial)
{
	X509_NAME *n;
	X509_EXTENSION *ext;
	X509V3_CTX v3;
	char san[128];
	FILE *f;

	memset(p, 0, sizeof(*p));
	snprintf(p->pem, sizeof(p->pem), "%s/%s.pem", dir, name);
	snprintf(p->key, sizeof(p->key), "%s/%s.key", dir, name);
	p->pk = EVP_EC_gen("P-256");
	ck_assert_ptr_nonnull(p->pk);
	p->cert = X509_new();
	ck_assert_ptr_nonnull(p->cert);
	X509_set_version(p->cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(p->cert), serial);
	X509_gmtime_adj(X509_getm_notBefore(p->cert), -60);
	X509_gmtime_adj(X509_getm_notAfter(p->cert), 86400);
	X509_set_pubkey(p->cert, p->pk);
	n = X509_get_subject_name(p->cert);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(p->cert, n);
	snprintf(san, sizeof(san), "DNS:%s,URI:urn:test:%s", cn, name);
	X509V3_set_ctx(&v3, p->cert, p->cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
	ck_assert_ptr_nonnull(ext);
	X509_add_ext(p->cert, ext, -1);
	X509_EXTENSION_free(ext);
	ck_assert_int_gt(X509_sign(p->cert, p->pk, EVP_sha256()), 0);
	ck_assert_ptr_nonnull(f = fopen(p->pem, "w"));
	PEM_write_X509(f, p->cert);
	fclose(f);
	ck_assert_ptr_nonnull(f = fopen(p->key, "w"));
	PEM_write_PrivateKey(f, p->pk, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	ck_assert_int_eq(chmod(p->key, 0600), 0);
}

static void
free_pair(struct pair *p)
{
	unlink(p->pem);
	unlink(p->key);
	X509_free(p->cert);
	EVP_PKEY_free(p->pk);
}

static char tmpdir[64];

static void
setup_dir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_tlsserve.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static struct ds_config *
cfg_for(const struct pair *p, const char *client_ca)
{
	struct ds_config *cfg = config_default();

	ck_assert_ptr_nonnull(cfg);
	cfg->tls_service_pem = strdup(p->pem);
	cfg->tls_service_key = strdup(p->key);
	cfg->tls_client_ca = client_ca ? strdup(client_ca) : NULL;
	return cfg;
}

/* One handshake in memory between a client of cctx (with session, may be
 * NULL, and ALPN alpn, may be NULL) and a server SSL of t; then the
 * client reads what the server sent after it (the TLS 1.3 tickets).
 * Returns the client's SSL (the server's in *server), or NULL when the
 * handshake failed. */
static SSL *
handshake(struct tlsserve *t, SSL_CTX *cctx, SSL_SESSION *session,
    const char *alpn, SSL **server)
{
	SSL *c = SSL_new(cctx), *s = tlsserve_ssl_new(t);
	BIO *cb, *sb;
	unsigned char buf[16];
	int i, rc = 0, rs = 0;

	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(BIO_new_bio_pair(&cb, 0, &sb, 0), 1);
	SSL_set_bio(c, cb, cb);
	SSL_set_bio(s, sb, sb);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	if (session)
		SSL_set_session(c, session);
	if (alpn) {
		unsigned char wire[32];
		size_t n = strlen(alpn);

		wire[0] = (unsigned char)n;
		memcpy(wire + 1, alpn, n);
		SSL_set_alpn_protos(c, wire, (unsigned)n + 1);
	}
	for (i = 0; i < 20 && (rc != 1 || rs != 1); i++) {
		if (rc != 1)
			rc = SSL_do_handshake(c);
		if (rs != 1)
			rs = SSL_do_handshake(s);
	}
	if (rc != 1 || rs != 1) {
		SSL_free(c);
		SSL_free(s);
		ERR_clear_error();
		return NULL;
	}
	/* The server's tickets, and one byte each way to be sure both
	 * sides are done. */
	ck_assert_int_eq(SSL_write(s, "x", 1), 1);
	ck_assert_int_eq(SSL_read(c, buf, sizeof(buf)), 1);
	*server = s;
	return c;
}

/* Close both ends cleanly: a client SSL freed without a shutdown takes
 * its session out of the resumable ones. */
static void
close_pair(SSL *c, SSL *s)
{
	(void)SSL_shutdown(c);
	(void)SSL_shutdown(s);
	SSL_free(c);
	SSL_free(s);
}

static SSL_CTX *
client_ctx(void)
{
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());

	ck_assert_ptr_nonnull(c);
	SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_CLIENT);
	return c;
}

/* Resume with session; whether it was resumed.  *fresh gets the session
 * the server sent this time (a new ticket), or NULL. */
static bool
resumes(struct tlsserve *t, SSL_CTX *cctx, SSL_SESSION *session,
    SSL_SESSION **fresh)
{
	SSL *s = NULL, *c = handshake(t, cctx, session, "dot", &s);
	bool r;

	ck_assert_ptr_nonnull(c);
	r = SSL_session_reused(c) == 1;
	if (fresh)
		*fresh = SSL_get1_session(c);
	close_pair(c, s);
	return r;
}

/* A full handshake's session (with its ticket). */
static SSL_SESSION *
full_session(struct tlsserve *t, SSL_CTX *cctx)
{
	SSL *s = NULL, *c = handshake(t, cctx, NULL, "dot", &s);
	SSL_SESSION *sess;

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(SSL_session_reused(c), 0);
	sess = SSL_get1_session(c);
	ck_assert_ptr_nonnull(sess);
	close_pair(c, s);
	return sess;
}

START_TEST(test_key_mode)
{
	struct pair p;
	struct ds_config *cfg;
	char err[256];

	setup_dir();
	make_pair(&p, tmpdir, "svc", "dot.test", 4097);
	ck_assert_int_eq(tlsserve_check_key_mode(p.key, err, sizeof(err)), 0);
	ck_assert_int_eq(chmod(p.key, 0640), 0);
	ck_assert_int_eq(tlsserve_check_key_mode(p.key, err, sizeof(err)), 0);
	ck_assert_int_eq(chmod(p.key, 0644), 0);
	ck_assert_int_eq(tlsserve_check_key_mode(p.key, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "svc.key can be read by other users "
	    "(mode 644)") != NULL, "message: %s", err);
	cfg = cfg_for(&p, NULL);
	ck_assert_ptr_null(tlsserve_create(cfg));
	config_free(cfg);
	free_pair(&p);
	rmdir(tmpdir);
}
END_TEST

START_TEST(test_alpn_and_tickets)
{
	struct pair p;
	struct ds_config *cfg;
	struct tlsserve *t;
	SSL_CTX *cctx = client_ctx();
	SSL *c, *s;
	SSL_SESSION *first, *b, *cc, *second = NULL, *third = NULL;
	const unsigned char *sel;
	unsigned len;
	char serial[64];

	setup_dir();
	make_pair(&p, tmpdir, "svc", "dot.test", 4097);
	cfg = cfg_for(&p, NULL);
	ck_assert_ptr_nonnull(t = tlsserve_create(cfg));
	ck_assert_str_eq(tlsserve_serial(t, serial, sizeof(serial)), "1001");
	ck_assert(!tlsserve_client_auth(t));

	/* ALPN: "dot" chosen; a client offering only another protocol is
	 * served without ALPN. */
	ck_assert_ptr_nonnull(c = handshake(t, cctx, NULL, "dot", &s));
	SSL_get0_alpn_selected(c, &sel, &len);
	ck_assert_msg(len == 3 && memcmp(sel, "dot", 3) == 0,
	    "tlsserve: ALPN dot selected");
	ck_assert_int_eq(SSL_version(c), TLS1_3_VERSION);
	first = SSL_get1_session(c);
	ck_assert_ptr_nonnull(first);
	close_pair(c, s);
	ck_assert_ptr_nonnull(c = handshake(t, cctx, NULL, "h2", &s));
	SSL_get0_alpn_selected(c, &sel, &len);
	ck_assert_msg(len == 0, "tlsserve: no ALPN for a client without dot");
	close_pair(c, s);

	/* A ticket resumes.  A TLS 1.3 client uses each ticket once, so
	 * every check below has a ticket of its own: b and c, made now with
	 * the same key as first. */
	b = full_session(t, cctx);
	cc = full_session(t, cctx);
	ck_assert_msg(resumes(t, cctx, first, NULL),
	    "tlsserve: a ticket resumes");
	/* One rotation: a ticket of the key before still resumes, and the
	 * session comes back with a ticket of the new key. */
	ck_assert_int_eq(tlsserve_rotate_tickets(t), 0);
	ck_assert_msg(resumes(t, cctx, b, &second),
	    "tlsserve: a ticket of the key before resumes");
	/* A second rotation: the first key is gone. */
	ck_assert_int_eq(tlsserve_rotate_tickets(t), 0);
	ck_assert_msg(!resumes(t, cctx, cc, &third),
	    "tlsserve: a ticket two keys old does not resume");
	ck_assert_msg(resumes(t, cctx, second, NULL),
	    "tlsserve: the ticket renewed after the first rotation resumes");
	SSL_SESSION_free(b);
	SSL_SESSION_free(cc);
	SSL_SESSION_free(first);
	SSL_SESSION_free(second);
	SSL_SESSION_free(third);
	tlsserve_free(t);
	config_free(cfg);
	SSL_CTX_free(cctx);
	free_pair(&p);
	rmdir(tmpdir);
}
END_TEST

START_TEST(test_reload)
{
	struct pair a, b;
	struct ds_config *cfg, *bad, *good;
	struct tlsserve *t;
	SSL_CTX *cctx = client_ctx();
	SSL *c, *s;
	char serial[64], err[512];

	setup_dir();
	make_pair(&a, tmpdir, "a", "dot.test", 0x1001);
	make_pair(&b, tmpdir, "b", "dot.test", 0x1002);
	cfg = cfg_for(&a, NULL);
	ck_assert_ptr_nonnull(t = tlsserve_create(cfg));
	/* b's certificate with a's key: refused, a stays. */
	bad = cfg_for(&b, NULL);
	free(bad->tls_service_key);
	bad->tls_service_key = strdup(a.key);
	ck_assert_int_eq(tlsserve_reload(t, bad, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "is not the key of the certificate in") !=
	    NULL, "message: %s", err);
	ck_assert_str_eq(tlsserve_serial(t, serial, sizeof(serial)), "1001");
	/* A file that is not there: refused, a stays. */
	free(bad->tls_service_key);
	bad->tls_service_key = strdup("/nonexistent/dot.key");
	ck_assert_int_eq(tlsserve_reload(t, bad, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "/nonexistent/dot.key") != NULL,
	    "message: %s", err);
	ck_assert_ptr_nonnull(c = handshake(t, cctx, NULL, "dot", &s));
	ck_assert_int_eq(ASN1_INTEGER_get(X509_get0_serialNumber(
	    SSL_get0_peer_certificate(c))), 0x1001);
	close_pair(c, s);
	/* b whole: new handshakes get it. */
	good = cfg_for(&b, NULL);
	ck_assert_int_eq(tlsserve_reload(t, good, err, sizeof(err)), 0);
	ck_assert_str_eq(tlsserve_serial(t, serial, sizeof(serial)), "1002");
	ck_assert_ptr_nonnull(c = handshake(t, cctx, NULL, "dot", &s));
	ck_assert_int_eq(ASN1_INTEGER_get(X509_get0_serialNumber(
	    SSL_get0_peer_certificate(c))), 0x1002);
	close_pair(c, s);
	tlsserve_free(t);
	config_free(cfg);
	config_free(bad);
	config_free(good);
	SSL_CTX_free(cctx);
	free_pair(&a);
	free_pair(&b);
	rmdir(tmpdir);
}
END_TEST

/* Client certificates required: none means no session; a certificate of
 * the client CA means identities to match. */
START_TEST(test_client_identities)
{
	struct pair svc, cli;
	struct ds_config *cfg;
	struct tlsserve *t;
	SSL_CTX *cctx = client_ctx(), *anon = client_ctx();
	SSL *c, *s;
	struct acl_identity rules[4];
	char err[200];
	const struct acl_identity *m;

	setup_dir();
	make_pair(&svc, tmpdir, "svc", "dot.test", 1);
	make_pair(&cli, tmpdir, "client1", "client1.test", 2);
	cfg = cfg_for(&svc, cli.pem);	/* self-signed: its own CA */
	ck_assert_ptr_nonnull(t = tlsserve_create(cfg));
	ck_assert(tlsserve_client_auth(t));
	ck_assert_msg(handshake(t, anon, NULL, "dot", &s) == NULL,
	    "tlsserve: no client certificate, no session");
	ck_assert_int_eq(SSL_CTX_use_certificate(cctx, cli.cert), 1);
	ck_assert_int_eq(SSL_CTX_use_PrivateKey(cctx, cli.pk), 1);
	ck_assert_ptr_nonnull(c = handshake(t, cctx, NULL, "dot", &s));

	ck_assert_int_eq(acl_identity_parse("cn:other.test refuse", &rules[0],
	    err, sizeof(err)), 0);
	ck_assert_int_eq(acl_identity_parse("URI:urn:test:client1 refuse",
	    &rules[1], err, sizeof(err)), 0);
	ck_assert_int_eq(acl_identity_parse("dns:CLIENT1.test", &rules[2],
	    err, sizeof(err)), 0);
	ck_assert_int_eq(acl_identity_parse("*", &rules[3], err,
	    sizeof(err)), 0);
	/* The first rule that names one of its identities decides. */
	m = tlsserve_match(s, rules, 4);
	ck_assert_ptr_eq(m, &rules[1]);
	ck_assert(m->refuse);
	ck_assert_str_eq(m->id, "uri:urn:test:client1");
	m = tlsserve_match(s, rules + 2, 2);
	ck_assert_ptr_eq(m, &rules[2]);
	ck_assert(!m->refuse);
	m = tlsserve_match(s, rules, 1);
	ck_assert_ptr_null(m);
	free(rules[0].id);
	ck_assert_int_eq(acl_identity_parse("cn:x maybe", &rules[0], err,
	    sizeof(err)), -1);
	ck_assert_int_eq(acl_identity_parse("cn:", &rules[0], err,
	    sizeof(err)), -1);
	free(rules[1].id);
	free(rules[2].id);
	free(rules[3].id);
	close_pair(c, s);
	tlsserve_free(t);
	config_free(cfg);
	SSL_CTX_free(cctx);
	SSL_CTX_free(anon);
	free_pair(&svc);
	free_pair(&cli);
	rmdir(tmpdir);
}
END_TEST

Suite *
tlsserve_suite(void)
{
	Suite *s = suite_create("tlsserve");
	TCase *tc = tcase_create("memory");

	tcase_add_test(tc, test_key_mode);
	tcase_add_test(tc, test_alpn_and_tickets);
	tcase_add_test(tc, test_reload);
	tcase_add_test(tc, test_client_identities);
	suite_add_tcase(s, tc);
	return s;
}
