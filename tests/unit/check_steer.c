/*
 * check_steer.c -- which worker owns a name's zone, and the mailboxes
 * between the workers' loops.
 */
#include "config.h"

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "steer.h"
#include "suites.h"

/* Wire form of a name without escapes, keeping its case. */
static int
to_wire(const char *name, uint8_t *out)
{
	size_t o = 0;
	const char *p = name, *dot;

	while (*p != '\0') {
		dot = strchr(p, '.');
		ck_assert_ptr_nonnull(dot);
		if (dot == p)
			break;
		out[o] = (uint8_t)(dot - p);
		memcpy(out + o + 1, p, (size_t)(dot - p));
		o += 1 + (size_t)(dot - p);
		p = dot + 1;
	}
	out[o++] = 0;
	return (int)o;
}

/* The zone key of name, as text ("" for the whole name's root). */
static const char *
key_of(const char *name)
{
	static char out[300];
	uint8_t wire[256];
	size_t off, o = 0;
	int len = to_wire(name, wire);

	ck_assert_int_gt(len, 0);
	off = steer_zone_key(wire, (size_t)len);
	ck_assert_uint_lt(off, (size_t)len);
	while (wire[off] != 0) {
		memcpy(out + o, wire + off + 1, wire[off]);
		o += wire[off];
		out[o++] = '.';
		off += 1 + (size_t)wire[off];
	}
	out[o] = '\0';
	return out;
}

static unsigned
owner_of(const struct steer *s, const char *name)
{
	uint8_t wire[256];
	int len = to_wire(name, wire);

	ck_assert_int_gt(len, 0);
	return steer_owner(s, wire, (size_t)len);
}

START_TEST(zone_keys)
{
	ck_assert_str_eq(key_of("www.sec13.example."), "sec13.example.");
	ck_assert_str_eq(key_of("a.b.c.sec13.example."), "sec13.example.");
	ck_assert_str_eq(key_of("sec13.example."), "sec13.example.");
	ck_assert_str_eq(key_of("example."), "example.");
	ck_assert_str_eq(key_of("."), "");
	ck_assert_str_eq(key_of("www.bbc.co.uk."), "bbc.co.uk.");
	ck_assert_str_eq(key_of("www.EXAMPLE.COM.AU."), "EXAMPLE.COM.AU.");
	/* Not a country code: the usual two labels. */
	ck_assert_str_eq(key_of("www.foo.co.example."), "co.example.");
	ck_assert_str_eq(key_of("4.3.2.1.in-addr.arpa."),
	    "3.2.1.in-addr.arpa.");
	ck_assert_str_eq(key_of("2.1.in-addr.arpa."), "2.1.in-addr.arpa.");
	ck_assert_str_eq(key_of("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "8.b.d.0.1.0.0.2.ip6.arpa."),
	    "0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.");
}
END_TEST

START_TEST(owner_by_zone)
{
	struct steer *s = steer_create(4);
	unsigned seen[4] = { 0 }, i, o;
	char name[64];

	ck_assert_ptr_nonnull(s);
	/* Every name of a zone, in any case, has one owner. */
	o = owner_of(s, "sec13.example.");
	ck_assert_uint_lt(o, 4);
	ck_assert_uint_eq(owner_of(s, "www.sec13.example."), o);
	ck_assert_uint_eq(owner_of(s, "X1.WILD.Sec13.Example."), o);
	ck_assert_uint_eq(owner_of(s, "a.b.c.d.sec13.example."), o);
	/* Zones are spread over every worker. */
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "www.zone%u.example.", i);
		seen[owner_of(s, name)]++;
	}
	for (i = 0; i < 4; i++)
		ck_assert_msg(seen[i] > 20, "worker %u owns %u of 200 zones",
		    i, seen[i]);
	steer_delete(s, NULL);
	/* One worker, or none: always worker 0. */
	s = steer_create(1);
	ck_assert_uint_eq(owner_of(s, "www.zone7.example."), 0);
	steer_delete(s, NULL);
	ck_assert_uint_eq(owner_of(NULL, "www.zone7.example."), 0);
}
END_TEST

struct msg {
	struct steer_link link;
	int n;
};

static int got[8], ngot, nfreed;

static void
receive(void *arg, struct steer_link *l)
{
	(void)arg;
	got[ngot++] = ((struct msg *)l)->n;
	free(l);
}

static void
free_msg(struct steer_link *l)
{
	nfreed++;
	free(l);
}

static struct steer_link *
mk(int n)
{
	struct msg *m = calloc(1, sizeof(*m));

	ck_assert_ptr_nonnull(m);
	m->n = n;
	return &m->link;
}

START_TEST(mailbox_order_and_close)
{
	struct event_base *base = event_base_new();
	struct steer *s = steer_create(2);
	struct steer_link *l;

	ck_assert_ptr_nonnull(base);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(steer_attach(s, 1, base, receive, NULL), 0);
	ngot = nfreed = 0;
	ck_assert(steer_request(s, 1, mk(1)));
	steer_reply(s, 1, mk(2));
	ck_assert(steer_request(s, 1, mk(3)));
	(void)event_base_loop(base, EVLOOP_NONBLOCK);
	ck_assert_int_eq(ngot, 3);
	ck_assert_int_eq(got[0], 1);
	ck_assert_int_eq(got[1], 2);
	ck_assert_int_eq(got[2], 3);
	/* Draining: requests refused, replies still taken. */
	steer_close(s, 1);
	l = mk(4);
	ck_assert(!steer_request(s, 1, l));
	free(l);
	steer_reply(s, 1, mk(5));
	(void)event_base_loop(base, EVLOOP_NONBLOCK);
	ck_assert_int_eq(ngot, 4);
	ck_assert_int_eq(got[3], 5);
	/* After the loop is gone, what is left is freed with the mailboxes. */
	steer_detach(s, 1);
	steer_reply(s, 1, mk(6));
	steer_reply(s, 0, mk(7));
	event_base_free(base);
	steer_delete(s, free_msg);
	ck_assert_int_eq(nfreed, 2);
}
END_TEST

Suite *
steer_suite(void)
{
	Suite *s = suite_create("steer");
	TCase *tc = tcase_create("steer");

	tcase_add_test(tc, zone_keys);
	tcase_add_test(tc, owner_by_zone);
	tcase_add_test(tc, mailbox_order_and_close);
	suite_add_tcase(s, tc);
	return s;
}
