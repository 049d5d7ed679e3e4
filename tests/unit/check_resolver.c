/*
 * check_resolver.c -- the getdns context dotsecd builds: every setting
 * that keeps getdns strict, read back from the context itself.  No query
 * is sent.
 */
#include "config.h"

#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <getdns/getdns.h>
#include <getdns/getdns_extra.h>

#include "dsconfig.h"
#include "resolver.h"
#include "suites.h"

static const char conf_text[] =
    "upstream_recursive_servers:\n"
    "  - address_data: 127.0.0.53\n"
    "    tls_port: 8853\n"
    "    tls_auth_name: \"dns.example\"\n"
    "    tls_pubkey_pinset:\n"
    "      - digest: \"sha256\"\n"
    "        value: \"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\"\n"
    "  - address_data: ::1\n"
    "    tls_auth_name: \"dns6.example\"\n"
    "idle_timeout: 12000\n"
    "timeout: 2500\n"
    "tls_backoff_time: 7\n"
    "tls_query_padding_blocksize: 256\n";

struct fx {
	struct event_base *base;
	struct ds_config *cfg;
	struct resolver *r;
	getdns_context *ctx;
};

static void
fx_init(struct fx *f)
{
	f->base = event_base_new();
	ck_assert_ptr_nonnull(f->base);
	f->cfg = config_parse(conf_text, strlen(conf_text), "test", NULL,
	    NULL);
	ck_assert_ptr_nonnull(f->cfg);
	f->r = resolver_create(f->base, f->cfg, NULL, -1);
	ck_assert_msg(f->r != NULL, "resolver_create: valid config -> ok");
	f->ctx = resolver_context(f->r);
}

static void
fx_free(struct fx *f)
{
	resolver_delete(f->r);
	config_free(f->cfg);
	event_base_free(f->base);
}

START_TEST(test_tls_only)
{
	struct fx f;
	size_t n = 0;
	getdns_transport_list_t *list = NULL;
	getdns_tls_authentication_t auth = GETDNS_AUTHENTICATION_NONE;
	getdns_resolution_t rt = GETDNS_RESOLUTION_RECURSING;

	fx_init(&f);
	/* Anything besides TLS in the list would turn REQUIRED into
	 * opportunistic inside getdns. */
	ck_assert_int_eq(getdns_context_get_dns_transport_list(f.ctx, &n,
	    &list), GETDNS_RETURN_GOOD);
	ck_assert_msg(n == 1 && list[0] == GETDNS_TRANSPORT_TLS,
	    "resolver: transport list is exactly { TLS } (%zu entries)", n);
	free(list);
	ck_assert_int_eq(getdns_context_get_tls_authentication(f.ctx, &auth),
	    GETDNS_RETURN_GOOD);
	ck_assert_msg(auth == GETDNS_AUTHENTICATION_REQUIRED,
	    "resolver: authentication REQUIRED");
	ck_assert_int_eq(getdns_context_get_resolution_type(f.ctx, &rt),
	    GETDNS_RETURN_GOOD);
	ck_assert_msg(rt == GETDNS_RESOLUTION_STUB, "resolver: stub mode");
	fx_free(&f);
}
END_TEST

START_TEST(test_timers)
{
	struct fx f;
	uint64_t idle = 0, timeout = 0;
	uint16_t backoff = 0, pad = 0;

	fx_init(&f);
	ck_assert_int_eq(getdns_context_get_idle_timeout(f.ctx, &idle), 0);
	ck_assert_msg(idle == 12000, "resolver: idle_timeout from config "
	    "(getdns's default 0 means a handshake per query)");
	ck_assert_int_eq(getdns_context_get_timeout(f.ctx, &timeout), 0);
	ck_assert_uint_eq(timeout, 2500);
	ck_assert_int_eq(getdns_context_get_tls_backoff_time(f.ctx, &backoff),
	    0);
	ck_assert_msg(backoff == 7, "resolver: tls_backoff_time from config "
	    "(getdns's default is an hour)");
	ck_assert_int_eq(getdns_context_get_tls_query_padding_blocksize(
	    f.ctx, &pad), 0);
	ck_assert_uint_eq(pad, 256);
	fx_free(&f);
}
END_TEST

START_TEST(test_no_fetching)
{
	struct fx f;
	const char *ca = NULL;
	getdns_append_name_t an = GETDNS_APPEND_NAME_ALWAYS;

	fx_init(&f);
	/* With a verify CA, getdns would fetch root-anchors.xml over plain
	 * HTTP when it finds no anchor. */
	ck_assert_int_eq(getdns_context_get_trust_anchors_verify_CA(f.ctx,
	    &ca), 0);
	ck_assert_msg(ca != NULL && ca[0] == '\0',
	    "resolver: trust_anchors_verify_CA is empty (no zero-config)");
	ck_assert_int_eq(getdns_context_get_append_name(f.ctx, &an), 0);
	ck_assert_msg(an == GETDNS_APPEND_NAME_NEVER,
	    "resolver: no search suffix is ever appended");
	fx_free(&f);
}
END_TEST

START_TEST(test_upstreams)
{
	struct fx f;
	getdns_list *ups = NULL, *pins = NULL;
	getdns_dict *u0 = NULL, *u1 = NULL, *pin = NULL;
	getdns_bindata *name = NULL, *val = NULL;
	uint32_t port = 0;
	size_t n = 0;

	fx_init(&f);
	ck_assert_int_eq(getdns_context_get_upstream_recursive_servers(f.ctx,
	    &ups), 0);
	ck_assert_int_eq(getdns_list_get_length(ups, &n), 0);
	/* getdns lists each upstream once per transport (TLS only). */
	ck_assert_msg(n == 2, "resolver: two upstreams (%zu)", n);
	ck_assert_int_eq(getdns_list_get_dict(ups, 0, &u0), 0);
	ck_assert_int_eq(getdns_dict_get_bindata(u0, "tls_auth_name", &name),
	    0);
	ck_assert_msg(name->size == strlen("dns.example") &&
	    memcmp(name->data, "dns.example", name->size) == 0,
	    "resolver: first upstream's tls_auth_name");
	ck_assert_int_eq(getdns_dict_get_int(u0, "tls_port", &port), 0);
	ck_assert_uint_eq(port, 8853);
	ck_assert_int_eq(getdns_dict_get_list(u0, "tls_pubkey_pinset",
	    &pins), 0);
	ck_assert_int_eq(getdns_list_get_dict(pins, 0, &pin), 0);
	ck_assert_int_eq(getdns_dict_get_bindata(pin, "value", &val), 0);
	ck_assert_msg(val->size == 32 && val->data[0] == 0xe3 &&
	    val->data[31] == 0x55,
	    "resolver: the pin is the decoded 32-byte SHA-256");
	ck_assert_int_eq(getdns_list_get_dict(ups, 1, &u1), 0);
	/* getdns leaves the port out when it is its default, 853. */
	port = 853;
	(void)getdns_dict_get_int(u1, "tls_port", &port);
	ck_assert_msg(port == 853, "resolver: tls_port defaults to 853");
	getdns_list_destroy(ups);
	ck_assert_str_eq(resolver_upstreams_str(f.r),
	    "127.0.0.53@8853#dns.example, ::1@853#dns6.example");
	fx_free(&f);
}
END_TEST

/* getdns 1.6.0's log lines of failed certificate checks, as dotsecd's
 * log callback gets them ("%-40s : Verify failed : TLS - %s - ..."), and
 * the failure in plain words. */
static const struct {
	const char *line;
	bool pinned;
	const char *want;	/* NULL: not a verify failure */
} verify_lines[] = {
	{ "127.0.0.3                                : Verify failed : TLS - "
	  "*Failure* - (62) \"hostname mismatch\"\n", false,
	  "TLS authentication failed (hostname mismatch)" },
	/* getdns's own check (builds without SSL_dane_enable). */
	{ "192.0.2.1                                : Verify failed : TLS - "
	  "*Failure* - (1) \"Hostname mismatch\"\n", false,
	  "TLS authentication failed (hostname mismatch)" },
	{ "127.0.0.4                                : Verify failed : TLS - "
	  "*Failure* - (21) \"unable to verify the first certificate\"\n",
	  false, "TLS authentication failed (untrusted CA)" },
	{ "127.0.0.4                                : Verify failed : TLS - "
	  "*Failure* - (20) \"unable to get local issuer certificate\"\n",
	  false, "TLS authentication failed (untrusted CA)" },
	{ "127.0.0.4                                : Verify failed : TLS - "
	  "*Failure* - (19) \"self-signed certificate in certificate "
	  "chain\"\n", false, "TLS authentication failed (untrusted CA)" },
	{ "127.0.0.4                                : Verify failed : TLS - "
	  "*Failure* - (2) \"unable to get issuer certificate\"\n", false,
	  "TLS authentication failed (untrusted CA)" },
	/* With a pinset, OpenSSL's DANE checks the pins alone: no chain
	 * means no pinned key. */
	{ "127.0.0.2                                : Verify failed : TLS - "
	  "*Failure* - (21) \"unable to verify the first certificate\"\n",
	  true, "TLS authentication failed (pin mismatch)" },
	{ "2001:db8::1                              : Verify failed : TLS - "
	  "*Failure* -  Pinset validation failure\n", true,
	  "TLS authentication failed (pin mismatch)" },
	{ "127.0.0.2                                : Verify failed : TLS - "
	  "*Failure* - (65) \"no matching DANE TLSA records\"\n", true,
	  "TLS authentication failed (pin mismatch)" },
	{ "127.0.0.5                                : Verify failed : TLS - "
	  "*Failure* - (10) \"certificate has expired\"\n", false,
	  "TLS authentication failed (certificate has expired)" },
	{ "127.0.0.5                                : Verify failed : TLS - "
	  "*Failure* - (10) \"certificate has expired\"\n", true,
	  "TLS authentication failed (certificate has expired)" },
	{ "127.0.0.6                                : Verify failed : TLS - "
	  "*Failure* -  Remote did not offer certificate\n", false,
	  "TLS authentication failed (no certificate)" },
	{ "127.0.0.7                                : Verify fail: *CONFIG "
	  "ERROR* - No auth name or pinset provided for this upstream for "
	  "Strict TLS authentication\n", false,
	  "TLS authentication failed (no tls_auth_name or pin to check)" },
	{ "127.0.0.3                                : Conn closed: TLS - "
	  "*Failure*\n", false, NULL },
	{ "127.0.0.3                                : Verify passed : TLS\n",
	  false, NULL },
	{ "127.0.0.3                                : Conn opened: TLS - "
	  "Strict Profile\n", false, NULL },
};

START_TEST(test_verify_reason)
{
	char out[200];
	bool got;

	strcpy(out, "untouched");
	got = resolver_verify_reason(verify_lines[_i].line,
	    verify_lines[_i].pinned, out, sizeof(out));
	if (verify_lines[_i].want == NULL) {
		ck_assert_msg(!got, "not a verify failure: %s",
		    verify_lines[_i].line);
		ck_assert_str_eq(out, "untouched");
	} else {
		ck_assert_msg(got, "a verify failure: %s",
		    verify_lines[_i].line);
		ck_assert_str_eq(out, verify_lines[_i].want);
	}
}
END_TEST

/* A query to an upstream on loopback, run to its callback. */
struct qfx {
	struct event_base *base;
	struct ds_config *cfg;
	struct resolver *r;
	bool done;
	int status;
	char why[200];
};

static void
q_done(void *arg, int status, const uint8_t *reply, size_t len,
    const char *why)
{
	struct qfx *f = arg;

	(void)reply;
	(void)len;
	f->done = true;
	f->status = status;
	snprintf(f->why, sizeof(f->why), "%s", why ? why : "");
	event_base_loopbreak(f->base);
}

static void
q_run(struct qfx *f, unsigned port)
{
	char conf[256];
	struct timeval limit = { 10, 0 };

	snprintf(conf, sizeof(conf), "upstream_recursive_servers:\n"
	    "  - address_data: 127.0.0.1\n    tls_port: %u\n"
	    "    tls_auth_name: \"dns.test\"\ntimeout: 4000\n", port);
	f->base = event_base_new();
	ck_assert_ptr_nonnull(f->base);
	f->cfg = config_parse(conf, strlen(conf), "test", NULL, NULL);
	ck_assert_ptr_nonnull(f->cfg);
	f->r = resolver_create(f->base, f->cfg, NULL, 0);
	ck_assert_ptr_nonnull(f->r);
	ck_assert_int_eq(resolver_query(f->r, ".", 2, q_done, f, NULL), 0);
	event_base_loopexit(f->base, &limit);
	while (!f->done && event_base_dispatch(f->base) == 0 &&
	    !event_base_got_exit(f->base))
		;
	ck_assert_msg(f->done, "the query's callback came");
	ck_assert_int_eq(f->status, -1);
	ck_assert_str_eq(resolver_last_error(f->r), f->why);
	resolver_delete(f->r);
	config_free(f->cfg);
	event_base_free(f->base);
}

/* A listening TCP socket on 127.0.0.1, its port in *port. */
static int
listen_loopback(unsigned *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* Nothing listens: the reset that answers the connection says
 * "connection refused". */
START_TEST(test_failure_refused)
{
	struct qfx f;
	unsigned port;
	int fd = listen_loopback(&port);

	close(fd);
	memset(&f, 0, sizeof(f));
	q_run(&f, port);
	ck_assert_str_eq(f.why, "connection refused");
}
END_TEST

static void
accept_close(evutil_socket_t fd, short what, void *arg)
{
	int c = accept(fd, NULL, NULL);

	(void)what;
	(void)arg;
	if (c >= 0)
		close(c);
}

/* The TCP connection comes up, then closes before any TLS: "TLS handshake
 * failed", not a refusal. */
START_TEST(test_failure_handshake)
{
	struct qfx f;
	unsigned port;
	int fd = listen_loopback(&port);
	struct event_base *b;
	struct event *ev;
	char conf[256];
	struct timeval limit = { 10, 0 };

	/* OpenSSL writes to the closed connection: dotsecd ignores SIGPIPE
	 * (main.c), and so does this test. */
	signal(SIGPIPE, SIG_IGN);
	memset(&f, 0, sizeof(f));
	/* q_run, with the listener on the same loop. */
	snprintf(conf, sizeof(conf), "upstream_recursive_servers:\n"
	    "  - address_data: 127.0.0.1\n    tls_port: %u\n"
	    "    tls_auth_name: \"dns.test\"\ntimeout: 4000\n", port);
	b = f.base = event_base_new();
	ck_assert_ptr_nonnull(b);
	ev = event_new(b, fd, EV_READ | EV_PERSIST, accept_close, NULL);
	ck_assert_ptr_nonnull(ev);
	event_add(ev, NULL);
	f.cfg = config_parse(conf, strlen(conf), "test", NULL, NULL);
	ck_assert_ptr_nonnull(f.cfg);
	f.r = resolver_create(b, f.cfg, NULL, 0);
	ck_assert_ptr_nonnull(f.r);
	ck_assert_int_eq(resolver_query(f.r, ".", 2, q_done, &f, NULL), 0);
	event_base_loopexit(b, &limit);
	while (!f.done && event_base_dispatch(b) == 0 &&
	    !event_base_got_exit(b))
		;
	ck_assert_msg(f.done, "the query's callback came");
	ck_assert_int_eq(f.status, -1);
	ck_assert_str_eq(f.why, "TLS handshake failed");
	resolver_delete(f.r);
	event_free(ev);
	close(fd);
	config_free(f.cfg);
	event_base_free(b);
}
END_TEST

Suite *
resolver_suite(void)
{
	Suite *s = suite_create("resolver");
	TCase *tc = tcase_create("context");

	tcase_add_test(tc, test_tls_only);
	tcase_add_test(tc, test_timers);
	tcase_add_test(tc, test_no_fetching);
	tcase_add_test(tc, test_upstreams);
	suite_add_tcase(s, tc);
	tc = tcase_create("failures");
	tcase_add_loop_test(tc, test_verify_reason, 0,
	    (int)(sizeof(verify_lines) / sizeof(verify_lines[0])));
	tcase_add_test(tc, test_failure_refused);
	tcase_add_test(tc, test_failure_handshake);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}
