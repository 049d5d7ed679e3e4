/*
 * control.h -- the control channel: a Unix stream socket on which
 * dotsec-control asks the daemon to report or to act.
 *
 * Framing (also in dotsec-control(8)): a request is one line of printable
 * ASCII words separated by spaces, at most CONTROL_MAX_LINE bytes, ended
 * by LF.  The reply is a header line "ok LEN" or "error LEN", LF, then
 * exactly LEN bytes of text (lines ended by LF).  A connection may send
 * several requests, one after the other.  A line that is too long, holds
 * anything but printable ASCII, or does not arrive within
 * CONTROL_READ_TIMEOUT seconds closes that connection, and nothing else.
 *
 * Every connection is checked with SO_PEERCRED: uid 0, the daemon's own
 * uid, or a member of the socket's group may talk; anyone else is closed
 * at once, and logged.  The channel runs on the main thread's loop, never
 * on a worker's: control work does not hold up queries.  A command that
 * may take long is answered from a thread of its own (CONTROL_LATER), at
 * most CONTROL_MAX_LATER at once.
 */
#ifndef DS_CONTROL_H
#define DS_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CONTROL_MAX_LINE	1024	/* bytes, the LF included */
#define CONTROL_MAX_ARGS	16
#define CONTROL_READ_TIMEOUT	5	/* seconds for a whole line */
#define CONTROL_MAX_CONNS	16

struct event_base;
struct evbuffer;
struct control;

/* Split line (len bytes, without its LF) into words: each is copied,
 * NUL-terminated, into buf (bufsize bytes, at least len + 1) and pointed
 * to by argv[0..].  Returns the number of words (0 for a blank line), or
 * -1 when the line holds a byte outside printable ASCII and space, has
 * more than maxargs words, or is longer than CONTROL_MAX_LINE - 1. */
int control_parse(const char *line, size_t len, char **argv, int maxargs,
    char *buf, size_t bufsize);

/* A request whose reply comes later, from another thread: a command
 * that takes seconds (explain) must not hold up the main loop, where
 * signals, the metrics and the other connections are served. */
struct control_pending;

/* Carry out the request argv[0..argc-1] (argc >= 1), writing the reply's
 * text to out.  Returns 0 (ok) or -1 (error: out says why), or
 * CONTROL_LATER after handing later to a thread that will call
 * control_finish (out is then unused).  The connection reads nothing
 * more until that reply is written. */
#define CONTROL_LATER	1
#define CONTROL_MAX_LATER	4	/* requests answered later, at once */
typedef int (*control_fn)(void *arg, int argc, char **argv,
    struct evbuffer *out, struct control_pending *later);

/* Whether CONTROL_MAX_LATER requests are being answered later already:
 * the command should then answer at once that the daemon is busy. */
bool control_pending_full(const struct control_pending *p);

/* On the main thread, before handing p to the thread that will answer:
 * the request is now one answered later. */
void control_pending_begin(struct control_pending *p);

/* From any thread, exactly once for each request that returned
 * CONTROL_LATER: its status (0 or -1) and text, which this takes. */
void control_finish(struct control_pending *p, int status,
    struct evbuffer *text);

/* Create the socket at path, as root before privileges are dropped (or
 * as the daemon's user): a stale socket there is replaced, anything else
 * at that path is an error; the directory is created (0750) when it is
 * missing.  Mode 0660, group gid (-1: leave it).  Returns the listening
 * fd, or -1 after logging. */
int control_open(const char *path, gid_t gid);

/* Serve fd on base: peers with uid 0, uid own_uid, primary group gid or
 * one of the member uids (nmembers of them) are let in.  Takes fd.  NULL
 * after logging. */
struct control *control_start(struct event_base *base, int fd, uid_t own_uid,
    gid_t gid, const uid_t *members, size_t nmembers, control_fn fn,
    void *arg);

/* Close the channel and every connection, after waiting for the
 * requests still being answered on other threads.  Takes NULL. */
void control_stop(struct control *c);

#endif /* DS_CONTROL_H */
