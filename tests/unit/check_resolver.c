/*
 * check_resolver.c -- the getdns context dotsecd builds: every setting
 * that keeps getdns strict, read back from the context itself.  No query
 * is sent.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

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
	return s;
}
