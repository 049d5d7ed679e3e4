/*
 * fetch.c -- one HTTPS GET with OpenSSL, blocking, with a deadline.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "fetch.h"

static void
ssl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		snprintf(buf, len, "connection closed or timed out");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
}

/* Split "https://HOST[:PORT]/PATH". */
static int
parse_url(const char *url, char *host, size_t hlen, char *port,
    size_t plen, const char **path)
{
	const char *p, *h, *end;
	size_t n;

	if (strncmp(url, "https://", 8) != 0)
		return -1;
	h = url + 8;
	if (*h == '[') {
		if ((end = strchr(h, ']')) == NULL)
			return -1;
		n = (size_t)(end - h - 1);
		if (n == 0 || n >= hlen)
			return -1;
		memcpy(host, h + 1, n);
		host[n] = '\0';
		p = end + 1;
	} else {
		n = strcspn(h, ":/");
		if (n == 0 || n >= hlen)
			return -1;
		memcpy(host, h, n);
		host[n] = '\0';
		p = h + n;
	}
	snprintf(port, plen, "443");
	if (*p == ':') {
		n = strcspn(p + 1, "/");
		if (n == 0 || n >= plen)
			return -1;
		memcpy(port, p + 1, n);
		port[n] = '\0';
		p += n + 1;
	}
	*path = *p == '/' ? p : "/";
	return 0;
}

static int
connect_timeout(const char *host, const char *port, unsigned timeout_ms,
    char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1, rc, soerr = 0;
	socklen_t slen = sizeof(soerr);

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", host,
		    gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		struct pollfd pfd;

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, (int)timeout_ms) == 1 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr,
			    &slen) == 0 && soerr == 0)
				break;
			errno = soerr ? soerr : ETIMEDOUT;
		}
		snprintf(err, errlen, "cannot connect to %s port %s: %s", host,
		    port, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0) {
		struct timeval tv;
		int flags = fcntl(fd, F_GETFL);

		/* Blocking from here on, each read and write bounded. */
		(void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
		tv.tv_sec = timeout_ms / 1000;
		tv.tv_usec = (timeout_ms % 1000) * 1000;
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	return fd;
}

int
fetch_https(const char *url, const char *ca_file, unsigned timeout_ms,
    char **body, size_t *len, char *err, size_t errlen)
{
	char host[256], port[16], reason[600], req[1024];
	const char *path;
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	char *buf = NULL, *p;
	size_t n = 0;
	int fd = -1, rc = -1, status = 0, r;
	unsigned char ip[16];
	bool literal;

	*body = NULL;
	*len = 0;
	if (parse_url(url, host, sizeof(host), port, sizeof(port), &path)) {
		snprintf(err, errlen, "%s: not an https://HOST[:PORT]/PATH URL",
		    url);
		return -1;
	}
	literal = inet_pton(AF_INET, host, ip) == 1 ||
	    inet_pton(AF_INET6, host, ip) == 1;
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		ssl_reason(reason, sizeof(reason));
		snprintf(err, errlen, "%s: TLS set-up: %s", url, reason);
		goto out;
	}
	if ((ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL) :
	    SSL_CTX_set_default_verify_paths(ctx)) != 1) {
		ssl_reason(reason, sizeof(reason));
		snprintf(err, errlen, "%s: CA %s: %s", url,
		    ca_file ? ca_file : "(system store)", reason);
		goto out;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if ((fd = connect_timeout(host, port, timeout_ms, reason,
	    sizeof(reason))) < 0) {
		snprintf(err, errlen, "%s: %s", url, reason);
		goto out;
	}
	if ((ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1 ||
	    (literal ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
	    host) != 1 : (SSL_set1_host(ssl, host) != 1 ||
	    SSL_set_tlsext_host_name(ssl, host) != 1))) {
		ssl_reason(reason, sizeof(reason));
		snprintf(err, errlen, "%s: TLS set-up: %s", url, reason);
		goto out;
	}
	if (SSL_connect(ssl) != 1) {
		long v = SSL_get_verify_result(ssl);

		ssl_reason(reason, sizeof(reason));
		snprintf(err, errlen, "%s: TLS handshake failed: %s%s%s", url,
		    reason, v != X509_V_OK ? "; certificate: " : "",
		    v != X509_V_OK ? X509_verify_cert_error_string(v) : "");
		goto out;
	}
	r = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n"
	    "User-Agent: dotsec/%s\r\nConnection: close\r\n\r\n", path, host,
	    PACKAGE_VERSION);
	if (r < 0 || (size_t)r >= sizeof(req) ||
	    SSL_write(ssl, req, r) != r) {
		ssl_reason(reason, sizeof(reason));
		snprintf(err, errlen, "%s: cannot send the request: %s", url,
		    reason);
		goto out;
	}
	if ((buf = malloc(FETCH_MAX_BODY + 4096 + 1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", url);
		goto out;
	}
	while (n < FETCH_MAX_BODY + 4096 &&
	    (r = SSL_read(ssl, buf + n, (int)(FETCH_MAX_BODY + 4096 - n))) >
	    0)
		n += (size_t)r;
	buf[n] = '\0';
	if (n >= FETCH_MAX_BODY + 4096) {
		snprintf(err, errlen, "%s: reply larger than %d bytes", url,
		    FETCH_MAX_BODY);
		goto out;
	}
	if (sscanf(buf, "HTTP/%*d.%*d %d", &status) != 1 ||
	    (p = strstr(buf, "\r\n\r\n")) == NULL) {
		snprintf(err, errlen, "%s: not an HTTP reply", url);
		goto out;
	}
	if (status != 200) {
		snprintf(err, errlen, "%s: HTTP status %d", url, status);
		goto out;
	}
	p += 4;
	*len = n - (size_t)(p - buf);
	memmove(buf, p, *len);
	buf[*len] = '\0';
	*body = buf;
	buf = NULL;
	rc = 0;
out:
	if (ssl)
		SSL_free(ssl);
	if (fd >= 0)
		close(fd);
	SSL_CTX_free(ctx);
	free(buf);
	return rc;
}
