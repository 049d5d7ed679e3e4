/*
 * control.c -- the control channel (control.h): the socket, who may
 * talk, the framing; what each request does is the caller's.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "control.h"
#include "log.h"

struct conn {
	struct control *c;
	struct bufferevent *bev;
	struct event *timer;	/* the current request's deadline */
	struct conn *next, *prev;
	unsigned long id;	/* for the log */
	uid_t uid;
	bool closing;		/* reply written, then close */
	struct control_pending *pending;	/* a reply still to come */
};

struct control_pending {
	struct control *c;
	struct conn *k;		/* NULL once the connection is gone */
	struct event *done;	/* made active by control_finish */
	int status;
	struct evbuffer *text;
	struct control_pending *next;
};

struct control {
	struct event_base *base;
	int fd;
	struct event *accept_ev;
	uid_t own_uid;
	gid_t gid;
	uid_t *members;
	size_t nmembers;
	control_fn fn;
	void *arg;
	struct conn *conns;
	unsigned nconns;
	unsigned long next_id;
	/* Requests answered on other threads: the list and the count are
	 * the main thread's; unfinished is under lock. */
	struct control_pending *pending;
	unsigned npending, unfinished;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

int
control_parse(const char *line, size_t len, char **argv, int maxargs,
    char *buf, size_t bufsize)
{
	size_t i, o = 0;
	int argc = 0;
	bool in_word = false;

	if (len > CONTROL_MAX_LINE - 1 || bufsize < len + 1)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)line[i];

		if (ch == ' ') {
			if (in_word)
				buf[o++] = '\0';
			in_word = false;
			continue;
		}
		if (ch < 0x21 || ch > 0x7e)
			return -1;
		if (!in_word) {
			if (argc == maxargs)
				return -1;
			argv[argc++] = buf + o;
			in_word = true;
		}
		buf[o++] = (char)ch;
	}
	if (in_word)
		buf[o++] = '\0';
	return argc;
}

int
control_open(const char *path, gid_t gid)
{
	struct sockaddr_un sun;
	struct stat st;
	char dir[sizeof(sun.sun_path)], *slash;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		ds_err("control_socket %s: longer than %zu bytes", path,
		    sizeof(sun.sun_path) - 1);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0750) == 0) {
			if (gid != (gid_t)-1 && chown(dir, (uid_t)-1, gid) != 0)
				ds_warn("control_socket: cannot give %s to "
				    "group %u: %s", dir, (unsigned)gid,
				    strerror(errno));
		} else if (errno != EEXIST) {
			ds_err("control_socket %s: cannot create %s: %s",
			    path, dir, strerror(errno));
			return -1;
		}
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			ds_err("control_socket %s: exists and is not a "
			    "socket; not replacing it", path);
			return -1;
		}
		/* Another dotsecd's, still answering: not ours to take. */
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0 &&
		    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			close(fd);
			ds_err("control_socket %s: in use by a running process "
			    "(another dotsecd?)", path);
			return -1;
		}
		if (fd >= 0)
			close(fd);
		if (unlink(path) != 0) {
			ds_err("control_socket %s: cannot remove the old "
			    "socket: %s", path, strerror(errno));
			return -1;
		}
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) < 0) {
		ds_err("control_socket %s: socket: %s", path, strerror(errno));
		return -1;
	}
	/* Nobody but the owner until the mode is set. */
	if (fchmod(fd, 0600) != 0 && errno != EINVAL)
		ds_debug("control_socket: fchmod: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		ds_err("control_socket %s: bind: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (chmod(path, 0660) != 0 ||
	    (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) != 0)) {
		ds_err("control_socket %s: cannot set mode 0660 and group "
		    "%d: %s", path, (int)gid, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	if (listen(fd, 16) != 0) {
		ds_err("control_socket %s: listen: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

static void
conn_free(struct conn *k)
{
	struct control *c = k->c;

	if (k->prev)
		k->prev->next = k->next;
	else
		c->conns = k->next;
	if (k->next)
		k->next->prev = k->prev;
	c->nconns--;
	if (k->pending)
		k->pending->k = NULL;
	if (k->timer)
		event_free(k->timer);
	bufferevent_free(k->bev);
	free(k);
}

static void
conn_reply(struct conn *k, int status, struct evbuffer *text)
{
	struct evbuffer *out = bufferevent_get_output(k->bev);

	evbuffer_add_printf(out, "%s %zu\n", status == 0 ? "ok" : "error",
	    evbuffer_get_length(text));
	evbuffer_add_buffer(out, text);
}

/* Close k with a last error reply (bad input), once it is written. */
static void
conn_refuse(struct conn *k, const char *why)
{
	struct evbuffer *t = evbuffer_new();

	ds_info("control: connection %lu (uid %u): %s; closed", k->id,
	    (unsigned)k->uid, why);
	if (t != NULL) {
		evbuffer_add_printf(t, "%s\n", why);
		conn_reply(k, -1, t);
		evbuffer_free(t);
	}
	k->closing = true;
	bufferevent_disable(k->bev, EV_READ);
	if (t == NULL || evbuffer_get_length(bufferevent_get_output(k->bev)) ==
	    0)
		conn_free(k);
}

/* The next request must arrive whole within CONTROL_READ_TIMEOUT. */
static void
conn_arm(struct conn *k)
{
	struct timeval tv = { CONTROL_READ_TIMEOUT, 0 };

	evtimer_add(k->timer, &tv);
}

static void
conn_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct conn *k = arg;

	(void)fd;
	(void)what;
	ds_info("control: connection %lu (uid %u): no whole request within "
	    "%d s; closed", k->id, (unsigned)k->uid, CONTROL_READ_TIMEOUT);
	conn_free(k);
}

static void conn_read(struct bufferevent *, void *);

/* p and what it holds: its event, and its reply's text once it has one. */
static void
pending_free(struct control_pending *p)
{
	event_free(p->done);
	if (p->text != NULL)
		evbuffer_free(p->text);
	free(p);
}

/* On the main thread, once control_finish has run: the reply, and the
 * connection reads again (a request it sent meanwhile is in its input). */
static void
pending_done(evutil_socket_t fd, short what, void *arg)
{
	struct control_pending *p = arg, **pp;
	struct control *c = p->c;
	struct conn *k = p->k;

	(void)fd;
	(void)what;
	for (pp = &c->pending; *pp != p; pp = &(*pp)->next)
		;
	*pp = p->next;
	c->npending--;
	if (k != NULL) {
		k->pending = NULL;
		/* The command ran while the loop's cached time stood. */
		event_base_update_cache_time(c->base);
		conn_reply(k, p->status, p->text);
		bufferevent_enable(k->bev, EV_READ);
		conn_arm(k);
	}
	pending_free(p);
	if (k != NULL)
		conn_read(k->bev, k);
}

/* What k's request may hand to a thread (control_pending_begin); NULL
 * after logging when out of memory.  Made ready for every request, so
 * that a command never finds it cannot answer later half-way through. */
static struct control_pending *
pending_new(struct conn *k)
{
	struct control_pending *p = calloc(1, sizeof(*p));

	if (p == NULL || (p->done = event_new(k->c->base, -1, 0,
	    pending_done, p)) == NULL) {
		ds_err("control: out of memory");
		free(p);
		return NULL;
	}
	p->c = k->c;
	p->k = k;
	return p;
}


bool
control_pending_full(const struct control_pending *p)
{
	return p->c->npending >= CONTROL_MAX_LATER;
}

void
control_pending_begin(struct control_pending *p)
{
	struct control *c = p->c;

	p->next = c->pending;
	c->pending = p;
	c->npending++;
	p->k->pending = p;
	pthread_mutex_lock(&c->lock);
	c->unfinished++;
	pthread_mutex_unlock(&c->lock);
}

void
control_finish(struct control_pending *p, int status, struct evbuffer *text)
{
	struct control *c = p->c;

	pthread_mutex_lock(&c->lock);
	p->status = status;
	p->text = text;
	c->unfinished--;
	/* Under the lock: control_stop frees the event only once every
	 * request has finished. */
	event_active(p->done, 0, 0);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static void
conn_read(struct bufferevent *bev, void *arg)
{
	struct conn *k = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char line[CONTROL_MAX_LINE], buf[CONTROL_MAX_LINE];
	char *argv[CONTROL_MAX_ARGS];
	struct evbuffer_ptr eol;
	struct evbuffer *text;
	struct control_pending *p;
	int argc, status;
	size_t n;

	while (!k->closing && k->pending == NULL) {
		eol = evbuffer_search(in, "\n", 1, NULL);
		if (eol.pos < 0) {
			if (evbuffer_get_length(in) >= CONTROL_MAX_LINE)
				conn_refuse(k, "request line too long");
			return;
		}
		n = (size_t)eol.pos;
		if (n >= CONTROL_MAX_LINE) {
			conn_refuse(k, "request line too long");
			return;
		}
		evbuffer_remove(in, line, n + 1);
		if (n > 0 && line[n - 1] == '\r')
			n--;
		argc = control_parse(line, n, argv, CONTROL_MAX_ARGS, buf,
		    sizeof(buf));
		if (argc < 0) {
			conn_refuse(k, "malformed request: printable ASCII "
			    "words only, at most 16");
			return;
		}
		if (argc == 0)
			continue;
		if ((text = evbuffer_new()) == NULL) {
			conn_refuse(k, "out of memory");
			return;
		}
		ds_info("control: uid %u: %s%s%s", (unsigned)k->uid, argv[0],
		    argc > 1 ? " " : "", argc > 1 ? argv[1] : "");
		if ((p = pending_new(k)) == NULL) {
			evbuffer_free(text);
			conn_refuse(k, "out of memory");
			return;
		}
		status = k->c->fn(k->c->arg, argc, argv, text, p);
		if (status == CONTROL_LATER) {
			/* Nothing is read, and no deadline runs, until the
			 * reply is written. */
			evbuffer_free(text);
			evtimer_del(k->timer);
			bufferevent_disable(k->bev, EV_READ);
			return;
		}
		pending_free(p);
		/* A command may take seconds (explain): the loop's cached
		 * time is that old, and a write timeout reckoned from it
		 * would fire before the reply could be written. */
		event_base_update_cache_time(bufferevent_get_base(k->bev));
		conn_reply(k, status, text);
		evbuffer_free(text);
		conn_arm(k);
	}
}

static void
conn_write(struct bufferevent *bev, void *arg)
{
	struct conn *k = arg;

	if (k->closing &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_free(k);
}

static void
conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *k = arg;

	(void)bev;
	if (what & BEV_EVENT_TIMEOUT)
		ds_info("control: connection %lu (uid %u): the reply could "
		    "not be written within %d s; closed", k->id,
		    (unsigned)k->uid, CONTROL_READ_TIMEOUT);
	conn_free(k);
}

static bool
peer_allowed(const struct control *c, const struct ucred *cr)
{
	size_t i;

	if (cr->uid == 0 || cr->uid == c->own_uid ||
	    (c->gid != (gid_t)-1 && cr->gid == c->gid))
		return true;
	for (i = 0; i < c->nmembers; i++)
		if (c->members[i] == cr->uid)
			return true;
	return false;
}

static void
control_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct control *c = arg;
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	struct timeval tv = { CONTROL_READ_TIMEOUT, 0 };
	struct conn *k;
	int fd;

	(void)what;
	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != ECONNABORTED && errno != EINTR)
			ds_warn("control: accept: %s", strerror(errno));
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) != 0) {
		ds_warn("control: SO_PEERCRED: %s; connection closed",
		    strerror(errno));
		close(fd);
		return;
	}
	if (!peer_allowed(c, &cr)) {
		ds_warn("control: refused uid %u gid %u (pid %d): not root, "
		    "not dotsecd's user, not in its group", (unsigned)cr.uid,
		    (unsigned)cr.gid, (int)cr.pid);
		close(fd);
		return;
	}
	if (c->nconns >= CONTROL_MAX_CONNS) {
		ds_warn("control: %u connections open; uid %u (pid %d) "
		    "turned away", c->nconns, (unsigned)cr.uid, (int)cr.pid);
		close(fd);
		return;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL ||
	    (k->timer = evtimer_new(c->base, conn_timeout, k)) == NULL ||
	    (k->bev = bufferevent_socket_new(c->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		ds_err("control: out of memory; connection closed");
		if (k && k->timer)
			event_free(k->timer);
		free(k);
		close(fd);
		return;
	}
	k->c = c;
	k->id = ++c->next_id;
	k->uid = cr.uid;
	k->next = c->conns;
	if (c->conns)
		c->conns->prev = k;
	c->conns = k;
	c->nconns++;
	bufferevent_setcb(k->bev, conn_read, conn_write, conn_event, k);
	/* A slow writer is bounded by conn_arm's deadline per request, a
	 * slow reader by the write timeout. */
	bufferevent_set_timeouts(k->bev, NULL, &tv);
	bufferevent_setwatermark(k->bev, EV_READ, 0, CONTROL_MAX_LINE * 2);
	bufferevent_enable(k->bev, EV_READ | EV_WRITE);
	conn_arm(k);
}

struct control *
control_start(struct event_base *base, int fd, uid_t own_uid, gid_t gid,
    const uid_t *members, size_t nmembers, control_fn fn, void *arg)
{
	struct control *c;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (nmembers > 0 && (c->members = calloc(nmembers,
	    sizeof(*members))) == NULL)) {
		ds_err("control: out of memory");
		free(c);
		close(fd);
		return NULL;
	}
	if (pthread_mutex_init(&c->lock, NULL) != 0 ||
	    pthread_cond_init(&c->cond, NULL) != 0) {
		ds_err("control: cannot make a lock");
		free(c->members);
		free(c);
		close(fd);
		return NULL;
	}
	c->base = base;
	c->fd = fd;
	c->own_uid = own_uid;
	c->gid = gid;
	if (nmembers > 0)
		memcpy(c->members, members, nmembers * sizeof(*members));
	c->nmembers = nmembers;
	c->fn = fn;
	c->arg = arg;
	if ((c->accept_ev = event_new(base, fd, EV_READ | EV_PERSIST,
	    control_accept, c)) == NULL || event_add(c->accept_ev, NULL) != 0) {
		ds_err("control: cannot watch the socket");
		control_stop(c);
		return NULL;
	}
	return c;
}

void
control_stop(struct control *c)
{
	struct control_pending *p;

	if (c == NULL)
		return;
	while (c->conns)
		conn_free(c->conns);
	/* A thread still answering holds its pending: wait for it. */
	pthread_mutex_lock(&c->lock);
	if (c->unfinished > 0)
		ds_notice("control: waiting for %u request(s) still being "
		    "answered", c->unfinished);
	while (c->unfinished > 0)
		pthread_cond_wait(&c->cond, &c->lock);
	pthread_mutex_unlock(&c->lock);
	while ((p = c->pending) != NULL) {
		c->pending = p->next;
		pending_free(p);
	}
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	if (c->accept_ev)
		event_free(c->accept_ev);
	close(c->fd);
	free(c->members);
	free(c);
}
