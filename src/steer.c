/*
 * steer.c -- one worker per zone for what misses the answer cache: the
 * zone key, and mailboxes between the workers' loops.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "log.h"
#include "steer.h"

struct mailbox {
	pthread_mutex_t lock;
	struct steer_link *head, *tail;	/* under lock */
	bool closed;			/* under lock: no requests */
	struct event *ev;		/* in the owner's loop */
	steer_fn fn;
	void *arg;
};

struct steer {
	unsigned n;
	struct mailbox box[];
};

struct steer *
steer_create(unsigned n)
{
	struct steer *s;
	unsigned i;

	if ((s = calloc(1, sizeof(*s) + n * sizeof(s->box[0]))) == NULL) {
		ds_err("steer: out of memory");
		return NULL;
	}
	s->n = n;
	for (i = 0; i < n; i++)
		pthread_mutex_init(&s->box[i].lock, NULL);
	return s;
}

/* Take the whole mailbox at once, then hand each message on in order:
 * the lock is never held while the callback runs. */
static void
mailbox_ready(evutil_socket_t fd, short what, void *arg)
{
	struct mailbox *b = arg;
	struct steer_link *m, *next;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&b->lock);
	m = b->head;
	b->head = b->tail = NULL;
	pthread_mutex_unlock(&b->lock);
	for (; m != NULL; m = next) {
		next = m->next;
		m->next = NULL;
		b->fn(b->arg, m);
	}
}

int
steer_attach(struct steer *s, unsigned index, struct event_base *base,
    steer_fn fn, void *arg)
{
	struct mailbox *b = &s->box[index];

	b->fn = fn;
	b->arg = arg;
	if ((b->ev = event_new(base, -1, 0, mailbox_ready, b)) == NULL) {
		ds_err("worker %u: cannot create the steering event", index);
		return -1;
	}
	return 0;
}

void
steer_detach(struct steer *s, unsigned index)
{
	struct mailbox *b = &s->box[index];

	pthread_mutex_lock(&b->lock);
	b->closed = true;
	if (b->ev != NULL)
		event_free(b->ev);
	b->ev = NULL;
	pthread_mutex_unlock(&b->lock);
}

static bool
is_cc_second_level(const uint8_t *label, size_t len)
{
	static const char *const common[] = {
		"ac", "co", "com", "edu", "gob", "gov", "go", "ltd", "mil",
		"ne", "net", "nic", "nom", "or", "org", "plc", "sch", NULL
	};
	unsigned i;

	for (i = 0; common[i] != NULL; i++)
		if (strlen(common[i]) == len &&
		    strncasecmp(common[i], (const char *)label, len) == 0)
			return true;
	return false;
}

static bool
label_is(const uint8_t *qname, size_t off, const char *s)
{
	size_t n = strlen(s);

	return qname[off] == n &&
	    strncasecmp((const char *)qname + off + 1, s, n) == 0;
}

size_t
steer_zone_key(const uint8_t *qname, size_t len)
{
	size_t offs[128], off = 0;
	unsigned nl = 0, k = 2;

	while (off < len && qname[off] != 0 && nl < 128) {
		offs[nl++] = off;
		off += 1 + (size_t)qname[off];
	}
	if (off >= len || qname[off] != 0)
		return 0;	/* not a whole name: hash all of it */
	if (nl >= 2 && label_is(qname, offs[nl - 1], "arpa")) {
		if (label_is(qname, offs[nl - 2], "in-addr"))
			k = 5;		/* the /24 */
		else if (label_is(qname, offs[nl - 2], "ip6"))
			k = 14;		/* the /48 */
	} else if (nl >= 3 && qname[offs[nl - 1]] == 2 &&
	    is_cc_second_level(qname + offs[nl - 2] + 1,
	    qname[offs[nl - 2]]))
		k = 3;
	return nl <= k ? 0 : offs[nl - k];
}

unsigned
steer_owner(const struct steer *s, const uint8_t *qname, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	if (s == NULL || s->n <= 1)
		return 0;
	/* FNV-1a over the key, case folded. */
	for (i = steer_zone_key(qname, len); i < len; i++) {
		uint8_t c = qname[i];

		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c + ('a' - 'A'));
		h = (h ^ c) * 16777619u;
	}
	return h % s->n;
}

static bool
post(struct mailbox *b, struct steer_link *msg, bool request)
{
	pthread_mutex_lock(&b->lock);
	if (request && b->closed) {
		pthread_mutex_unlock(&b->lock);
		return false;
	}
	msg->next = NULL;
	if (b->tail)
		b->tail->next = msg;
	else
		b->head = msg;
	b->tail = msg;
	if (b->ev != NULL)
		event_active(b->ev, EV_READ, 0);
	pthread_mutex_unlock(&b->lock);
	return true;
}

bool
steer_request(struct steer *s, unsigned index, struct steer_link *msg)
{
	return post(&s->box[index], msg, true);
}

void
steer_reply(struct steer *s, unsigned index, struct steer_link *msg)
{
	(void)post(&s->box[index], msg, false);
}

void
steer_close(struct steer *s, unsigned index)
{
	struct mailbox *b = &s->box[index];

	pthread_mutex_lock(&b->lock);
	b->closed = true;
	pthread_mutex_unlock(&b->lock);
}

void
steer_delete(struct steer *s, void (*free_msg)(struct steer_link *))
{
	struct steer_link *m, *next;
	unsigned i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++) {
		for (m = s->box[i].head; m != NULL; m = next) {
			next = m->next;
			free_msg(m);
		}
		if (s->box[i].ev != NULL)
			event_free(s->box[i].ev);
		pthread_mutex_destroy(&s->box[i].lock);
	}
	free(s);
}
