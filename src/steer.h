/*
 * steer.h -- one worker per zone for what misses the answer cache.
 *
 * Each worker has its own libunbound context, and with it its own key
 * cache: a zone validated by one worker would be fetched again, DS and
 * DNSKEY link by link, by every other worker that meets a name in it.  So
 * a miss is resolved by the worker that owns the name's zone, picked by a
 * hash of the name's last labels (steer_zone_key), and the answer goes
 * back to the worker that received the query, which alone may write to
 * the client's socket.
 *
 * This module is the mailboxes between the workers' loops: a message is a
 * struct steer_link at the start of the sender's own structure; the
 * receiving loop's callback gets each message in the order posted.
 */
#ifndef DS_STEER_H
#define DS_STEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct steer;

struct steer_link {
	struct steer_link *next;
};

/* Called in the receiving worker's loop, once per message. */
typedef void (*steer_fn)(void *arg, struct steer_link *msg);

/* Mailboxes for n workers.  NULL after logging. */
struct steer *steer_create(unsigned n);

/* Worker index's loop and callback; before that worker's loop runs.
 * Returns 0, or -1 after logging. */
int steer_attach(struct steer *s, unsigned index, struct event_base *base,
    steer_fn fn, void *arg);

/* Before index's loop (base) is freed: its event goes. */
void steer_detach(struct steer *s, unsigned index);

/* The worker that resolves the name qname (wire format, len bytes, as
 * parsed from a query). */
unsigned steer_owner(const struct steer *s, const uint8_t *qname,
    size_t len);

/* The offset in qname of the suffix that names its zone for steering:
 * the last two labels, three under a country code's common second level
 * (co.uk, com.au, ...), and the /24 or /48 of a reverse name. */
size_t steer_zone_key(const uint8_t *qname, size_t len);

/* Post a request to worker index: false, and nothing posted, once that
 * worker has stopped taking requests (steer_close). */
bool steer_request(struct steer *s, unsigned index, struct steer_link *msg);

/* Post a reply to worker index: always taken; a reply that arrives after
 * that loop ended is freed by steer_delete. */
void steer_reply(struct steer *s, unsigned index, struct steer_link *msg);

/* Worker index takes no new requests (it is draining). */
void steer_close(struct steer *s, unsigned index);

/* Free the mailboxes, after every worker has stopped and detached;
 * messages still in them are passed to free_msg.  Takes NULL. */
void steer_delete(struct steer *s, void (*free_msg)(struct steer_link *));

#endif /* DS_STEER_H */
