/*
 * service.h -- systemd integration: readiness notification (sd_notify)
 * and socket activation (sd_listen_fds).  Without libsystemd at configure
 * time both are stubs that do nothing.
 */
#ifndef DS_SERVICE_H
#define DS_SERVICE_H

#include "listener.h"

/* Tell the service manager about a state change ("READY=1",
 * "RELOADING=1", "STOPPING=1", "STATUS=..."); nothing when dotsecd was
 * not started by one. */
void service_notify(const char *state);

/* Sockets passed by socket activation: up to max fds (UDP or TCP,
 * listening) into fds/types.  Returns how many (0 without activation),
 * or -1 after logging when a passed socket is of another kind.  The
 * environment variables are cleared, so children do not see them. */
int service_listen_fds(int *fds, enum ds_transport *types, int max);

#endif /* DS_SERVICE_H */
