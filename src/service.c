/*
 * service.c -- systemd integration, or stubs without libsystemd.
 */
#include "config.h"

#include <sys/socket.h>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "log.h"
#include "service.h"

#ifdef HAVE_SYSTEMD

void
service_notify(const char *state)
{
	int rc = sd_notify(0, state);

	if (rc < 0)
		ds_warn("sd_notify(%s): error %d", state, rc);
}

int
service_listen_fds(int *fds, enum ds_transport *types, int max)
{
	int n = sd_listen_fds(1), i;

	if (n <= 0)
		return n < 0 ? -1 : 0;
	if (n > max) {
		ds_err("socket activation: %d sockets passed, at most %d", n,
		    max);
		return -1;
	}
	for (i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + i;

		if (sd_is_socket(fd, AF_UNSPEC, SOCK_DGRAM, -1) > 0)
			types[i] = DS_UDP;
		else if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) > 0)
			types[i] = DS_TCP;
		else {
			ds_err("socket activation: fd %d is neither a UDP "
			    "socket nor a listening TCP socket", fd);
			return -1;
		}
		fds[i] = fd;
	}
	return n;
}

#else

void
service_notify(const char *state)
{
	(void)state;
}

int
service_listen_fds(int *fds, enum ds_transport *types, int max)
{
	(void)fds;
	(void)types;
	(void)max;
	return 0;
}

#endif
