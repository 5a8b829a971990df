// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// local.h: rill's embedded multi-process mode. Several processes of an
// application on one machine open the same directory with
// rill_open_local and share one database, with no server to run. Link
// with -lrill-local -lrill (pkg-config: rill-local; CMake:
// find_package(rill COMPONENTS local) and rill::local).
//
//	rill_local_options lo;
//	rill_client       *c;
//	rill_local_options_init(&lo);
//	if (rill_open_local(&c, "/var/lib/myapp/db", &lo) != RILL_OK) {
//		fprintf(stderr, "%s\n", rill_last_message());
//	}
//	rill_put(c, "k", 1, "v", 1, NULL, NULL); // any call of rill.h
//	rill_close(c);
//
// How it works. The first process to take the lock <dir>/LOCAL.lock is
// the leader: it runs the rill service inside itself (the same recovery,
// log and store as rilld) on the socket ipc://<dir>/rill.sock, and writes
// who it is (host, boot id, pid) into LOCAL.lock. Every handle, the
// leader's own too, is an SDK client of that socket: the handle has the
// API of rill.h (get, put, delete, batches, scans, watches, status,
// async calls), the same in every process. The leader's own calls go
// through the socket as well, which keeps one retry path for everyone.
//
// Failover. When the leader closes its handle, exits or dies, the lock is
// free and the other processes race for it; the winner recovers the data
// dir (the log replayed into the store, as a restarted rilld does) and
// serves on the same socket, and the others reconnect. Calls pending
// meanwhile are retried within their deadline, a write with its first
// request id: the leader keeps the (client id, request id) of recent
// writes in the log, so a write the old leader applied is answered with
// its first result and never applied twice, and no acknowledged write is
// lost (with the default sync policy, always). Scans go on after the
// last key they returned, watches after the last change. A process
// waiting for the lock notices a clean exit of the leader at once (its
// connection closes; the lock is then tried every 2 ms for 5 s, then as
// after a crash) and
// a crash within crash_detect_ms (at once too, in practice, since the
// dead leader's connections close; the lock is also tried every half of
// crash_detect_ms). on_leader and rill_local_is_leader, and local_leader
// in rill_node_status, tell a process that it leads.
//
// Limits. A write in flight when the leader dies is placed by the next
// leader from the log's recent records (the newest 100,000), which hold
// the request ids the old leader remembered: its retry is applied if it
// never reached the log, even when a later write of the same handle did,
// and answered with its first result if it did. Only a retry older than
// what those records can prove (its handle's remembered ids reach back
// past them, after a long burst of other writes) is refused with
// RILL_ABORTED ("a retry older than the de-duplication window ... not
// applied again"): like any failed write, its outcome is for the caller
// to check.
// Only processes of one machine (one running kernel) may share a
// dir: one that finds the lock held by a process of another machine (a
// dir on a network file system) is refused. A child forked by a process
// with handles does not hold their lock (the child's copy of its
// descriptor is closed at once, and the lock file is opened close-on-exec)
// and cannot use those handles: open its own. The socket's path,
// "<dir>/rill.sock" made absolute, must fit the 107 bytes of a Unix
// socket address. rilld can serve a dir that was used this way (not at
// the same time). nng 1.5.2's ipc transport can stop a listener or a
// dialer for good when the other side leaves during the SP handshake
// (a process killed while it connects): a leader probes its socket with
// a Status request of its own and restarts its service when two probes
// in a row go unanswered, and a client whose connection stays down while
// the leader answers dials anew (both logged, LOCAL-RELISTEN and
// LOCAL-REDIAL); calls meanwhile wait, within their deadline.
#ifndef RILL_LOCAL_H
#define RILL_LOCAL_H

#include <stdbool.h>
#include <stdint.h>

#include <rill/rill.h>

#ifdef __cplusplus
extern "C" {
#endif

// rill_local_sync is the leader's sync policy: when a write is durable.
typedef enum rill_local_sync {
	// RILL_LOCAL_SYNC_ALWAYS: the log is fdatasync'd before a write is
	// acknowledged: it survives power loss (the default).
	RILL_LOCAL_SYNC_ALWAYS = 0,
	// RILL_LOCAL_SYNC_INTERVAL: every sync_interval_ms. A write survives
	// the death of the leader process, not of the machine.
	RILL_LOCAL_SYNC_INTERVAL = 1,
	// RILL_LOCAL_SYNC_NONE: when the OS writes it back. The same.
	RILL_LOCAL_SYNC_NONE = 2,
} rill_local_sync;

// rill_local_leader_cb runs when this process becomes the leader of the
// dir: inside rill_open_local when it leads from the start (before that
// returns, on the caller's thread), else on an internal thread of the
// handle, after the service has recovered the dir and listens. client is
// the handle (whose calls work); the callback must not call rill_close
// on it. It runs at most once per handle: a leader leads until its
// handle closes.
typedef void (*rill_local_leader_cb)(rill_client *client, void *arg);

// rill_local_options are the settings of rill_open_local. Start from
// rill_local_options_init, which sets every default, then change what you
// need.
typedef struct rill_local_options {
	// client: the handle's settings, as for rill_open. The defaults are
	// rill_options_init's, except a reconnect back-off of 5 to 50 ms:
	// the socket is local, and a new leader should be found fast.
	rill_options client;
	// crash_detect_ms bounds the time a process waiting for the lock
	// takes to notice that a leader died (default 1000, at least 10):
	// the lock is tried every crash_detect_ms / 2 while the leader's
	// connection is up.
	uint32_t crash_detect_ms;
	// on_leader (may be NULL) and its argument: see rill_local_leader_cb.
	rill_local_leader_cb on_leader;
	void                *on_leader_arg;
	// sync and sync_interval_ms: the leader's sync policy (default
	// RILL_LOCAL_SYNC_ALWAYS; the interval defaults to 100 ms).
	rill_local_sync sync;
	uint32_t        sync_interval_ms;
	// admin_listen: NULL (the default) or "off": no admin HTTP API; else
	// the HOST:PORT the leader serves the admin API of rilld on (each
	// leader in turn). Copied.
	const char *admin_listen;
	// log_level: the leader's diagnostics on stderr, as rilld's
	// --log-level: "err", "warn" (the default), "notice", "info" or
	// "debug". Copied.
	const char *log_level;
} rill_local_options;

// rill_local_options_init sets every field of opts to its default.
void rill_local_options_init(rill_local_options *opts);

// rill_open_local opens the database in dir (created if missing) for this
// process, as the leader if it takes the lock first, else as a client of
// the leader (see above). opts may be NULL for the defaults. It blocks
// while a leader recovers the dir, but not for a connection: calls wait
// for one within their deadline. On success the caller owns *clientp;
// rill_close ends it (a leader's close answers the calls in flight,
// syncs, closes the data dir and then frees the lock, for the next
// leader). On failure rill_last_message() says why, naming the file or
// process at fault:
//   RILL_INVALID_ARGUMENT  a NULL argument, bad options, or a dir whose
//                          socket path is too long;
//   RILL_EVERSION          the dir was written by a newer rill (checked
//                          by leader and client alike);
//   RILL_ELOCKED           the lock is held by a process of another
//                          machine, or the data dir by a process that is
//                          not a rill_open_local leader (a rilld);
//   RILL_ECORRUPT, RILL_FAILED_PRECONDITION, RILL_EIO, RILL_ENOMEM:
//                          the leader could not open the dir, as rilld
//                          would not (damage, a dir that is not a rill
//                          data dir, ...).
int rill_open_local(
    rill_client **clientp, const char *dir, const rill_local_options *opts);

// rill_local_owner is who leads a dir, as the owner record in
// <dir>/LOCAL.lock says.
typedef struct rill_local_owner {
	long     pid;       // the leader's process id
	char     host[256]; // its host name
	uint64_t since_ns;  // CLOCK_MONOTONIC when it took the lock
} rill_local_owner;

// rill_local_read_owner reads the owner record of dir into *owner, without
// touching the lock: a tool's view of who leads. The record is the last
// leader's until its handle closes (then it is cleared); a leader that
// died leaves its record until the next one takes over. Returns RILL_OK,
// RILL_NOT_FOUND when dir has no record (nobody leads, or a leader is
// writing it), or RILL_INVALID_ARGUMENT for a NULL argument.
int rill_local_read_owner(const char *dir, rill_local_owner *owner);

// rill_local_is_leader tells whether this process leads the dir of
// client, a handle of rill_open_local (false for any other). Any thread.
bool rill_local_is_leader(const rill_client *client);

#ifdef __cplusplus
}
#endif

#endif // RILL_LOCAL_H
