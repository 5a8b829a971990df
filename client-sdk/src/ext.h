// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// ext: what librill-local (rill_open_local, local.c) needs from librill's
// handle and nothing more: hooks into rill_close and the connections, and
// the leader flag rill_status reports. librill exports these rill__ext_*
// symbols for librill-local only (librill.map); they are no public API
// and change with the two libraries, which are built and installed
// together.
#ifndef RILL_CLIENT_SDK_EXT_H
#define RILL_CLIENT_SDK_EXT_H

#include <stdbool.h>

#include <rill/rill.h>

// rill__ext is what a handle calls back. Each function may be NULL.
typedef struct rill__ext {
	// before_close runs first in rill_close, on its thread, while the
	// handle still works.
	void (*before_close)(void *arg);
	// after_close runs last in rill_close, once the handle's calls
	// have ended, its connections are closed and it is freed.
	void (*after_close)(void *arg);
	// pipe_event runs when a connection of the handle comes up (added)
	// or goes down, on an nng thread that holds nng's locks: it may only
	// touch atomics or write to a file descriptor.
	void (*pipe_event)(void *arg, bool added);
	void *arg;
} rill__ext;

// rill__ext_attach ties ext, which must live until its after_close has
// returned, to client. Call it once, before the handle is shared.
void rill__ext_attach(rill_client *client, const rill__ext *ext);

// rill__ext_set_leader sets what rill_status reports as local_leader and
// rill__ext_is_leader returns. Any thread.
void rill__ext_set_leader(rill_client *client, bool leader);
bool rill__ext_is_leader(const rill_client *client);

// rill__ext_set_message sets this thread's rill_last_message (copied).
void rill__ext_set_message(const char *message);

// rill__ext_redial replaces the dialer of each endpoint that has no
// connection with a new one, and returns how many it replaced. nng
// 1.5.2's ipc dialer stops for good when the server goes away during the
// SP handshake; a new dialer connects. Call it only for a dialer that
// should have connected by now (one closed while it connects leaks in
// nng 1.5.2), from a thread that is not nng's, never during rill_close.
int rill__ext_redial(rill_client *client);

#endif // RILL_CLIENT_SDK_EXT_H
