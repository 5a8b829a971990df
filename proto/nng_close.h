// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// nng_close: closing an nng socket without risking a stop that never ends.
//
// nng 1.5.2 (Debian bookworm's) can wait for good in nng_close: its reaper
// waits on a pipe's task that was prepared but never started
// (nanomsg/nng#1543, and #1813 for later versions). rilld met it at a stop
// with followers connected, in about one stop in fifty under a sanitizer.
// Everything rill owns is closed before its sockets are, so a close that
// does not return in time may be given up: the socket, and whatever its
// callbacks may still touch, is then left behind instead of freed.
#ifndef RILL_NNG_CLOSE_H
#define RILL_NNG_CLOSE_H

#include <stdbool.h>
#include <stdint.h>

#include <nng/nng.h>

// RILL_NNG_CLOSE_WAIT_MS is how long a close may take before it is given
// up (a close that works takes milliseconds, a sanitizer build's a few
// hundred on a busy machine).
#define RILL_NNG_CLOSE_WAIT_MS 5000

// rill__nng_close_bounded closes sock, on a thread of its own, and waits
// for it at most wait_ms. It returns true when the socket is closed (every
// callback of it returned, as after nng_close); false when the close did
// not end in time, or no thread could be started and nothing was done: then
// the caller must not free anything the socket's callbacks may use. keep,
// if not NULL, is remembered with the close for good (so that a leak
// checker sees it reachable) and is not to be freed by the caller.
bool rill__nng_close_bounded(nng_socket sock, uint64_t wait_ms, void *keep);

#endif
