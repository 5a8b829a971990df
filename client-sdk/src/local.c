// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// local: rill_open_local, the embedded multi-process mode (rill/local.h),
// the one file of librill-local. It carries the service library inside
// and ties a librill handle (rill_open on ipc://<dir>/rill.sock) to the
// election: an exclusive flock on <dir>/LOCAL.lock, whose holder runs a
// rill_server on that socket. The lock is separate from the data dir's
// own LOCK, and held longer: taken before the server opens, freed after
// it closed, so whoever takes it finds the data dir free (but for the
// moments a dying leader's descriptors take to close, which are waited
// for).
//
// A handle's life:
//
//   rill_open_local: check FORMAT, rill_open the socket, try the lock
//     |- taken --> write the owner record, open the server (recovery,
//     |            then listen) --> LEADER (on_leader, on the caller)
//     '- held ---> refuse if the owner record names another machine;
//                  else start the watcher --> CLIENT
//   CLIENT (the handle's thread): try the lock every poll_ms, and every
//     FAST_POLL_MS from the moment the handle's connection drops until it
//     comes back (the leader closed or died: its sockets closed)
//     '- taken --> owner record, open the server (retried with back-off
//                  while it fails) --> LEADER (on_leader, on the thread)
//   LEADER (the handle's thread): probe the socket every
//     PROBE_INTERVAL_MS with a Status request over a connection of its
//     own; two probes in a row unanswered restart the server
//     (nng 1.5.2 stops an ipc listener for good when a peer leaves during
//     the handshake, as a client process that dies while it connects
//     does; see lead_main); and, as a client does, redial its own
//     connection when it stays down while the socket answers (its dialer
//     may be one nng stopped while the last leader died)
//   rill_close: before_close stops the thread; the handle's calls end;
//     after_close closes the server, clears the owner record and frees
//     the lock (closing its descriptor), last.
//
// The owner record (LOCAL.lock's text, rewritten by each leader) says who
// leads: "rill-local-owner v1" then "pid", "host", "boot_id" (the
// kernel's /proc/sys/kernel/random/boot_id), "pid_start" (the process's
// start time in clock ticks after boot, so a reused pid is told apart)
// and "since_ns" (CLOCK_MONOTONIC when the lock was taken), one "key
// value" a line. Machines are told apart by boot id (processes in
// containers on one kernel share it and may share a dir), by host name
// when a record has none. A record naming this machine and a pid that is
// gone, with the lock held, is a lock inherited by a child of a leader
// that forked, or a new leader between taking the lock and writing its
// record: the handle waits for the lock like any client, with a warning.
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rill/local.h>
#include <rill/status.h>

#include "clock.h"
#include "config.h"
#include "datadir.h"
#include "diag.h"
#include "ext.h"
#include "file.h"
#include "rill/v1/rill.pb-c.h"
#include "server.h"

#define OWNER_MAGIC "rill-local-owner v"
#define OWNER_VERSION 1
// OWNER_MAX bounds the owner record read.
#define OWNER_MAX 1024
// DEFAULT_CRASH_DETECT_MS: rill_local_options.crash_detect_ms's default;
// MIN_CRASH_DETECT_MS its least value.
#define DEFAULT_CRASH_DETECT_MS 1000
#define MIN_CRASH_DETECT_MS 10
#define DEFAULT_SYNC_INTERVAL_MS 100
#define DEFAULT_RECONNECT_MIN_MS 5
#define DEFAULT_RECONNECT_MAX_MS 50
// After the handle's connection drops, the lock is tried every
// FAST_POLL_MS for FAST_WINDOW_MS at most, or until it comes back: a
// leader that closes frees the lock once its server has closed.
#define FAST_POLL_MS 2
#define FAST_WINDOW_MS 5000
// A record being written is read again this often, this many times.
#define RECORD_RETRY_MS 5
#define RECORD_TRIES 40
// ORPHAN_MS: how long a held lock may name a pid that is gone before the
// watcher warns.
#define ORPHAN_MS 2000
// DATADIR_WAIT_MS: how long rill_open_local waits for the data dir's
// LOCK when it holds LOCAL.lock (a dying leader's descriptors close one
// by one); past it, the holder is no rill_open_local leader.
#define DATADIR_WAIT_MS 500
#define DATADIR_POLL_MS 5
// A takeover whose server fails to open tries again after a back-off
// from TAKEOVER_RETRY_MIN_MS doubling to TAKEOVER_RETRY_MAX_MS.
#define TAKEOVER_RETRY_MIN_MS 5
#define TAKEOVER_RETRY_MAX_MS 1000
// SERVE_TRY_MS: how long a process that took the lock tries to serve
// before it steps down (frees the lock) for STEP_DOWN_MIN_MS, doubling at
// each failure to STEP_DOWN_MAX_MS: one that cannot serve the dir (an
// older rill, a dir held by a rilld) must not keep it from one that can.
#define SERVE_TRY_MS 5000
#define STEP_DOWN_MIN_MS 1000
#define STEP_DOWN_MAX_MS 30000
// A leader probes its socket every PROBE_INTERVAL_MS; a probe has
// PROBE_WAIT_MS for its answer, and PROBE_FAILURES in a row restart the
// server. PROBE_PROTO is REQ's protocol number (0x30), the peer a REP
// socket takes.
#define PROBE_INTERVAL_MS 250
#define PROBE_WAIT_MS 500
#define PROBE_FAILURES 2
#define PROBE_PROTO 0x30
// A client with no connection for max(REDIAL_MIN_MS, three reconnect
// intervals) while the leader answers gets a new dialer; it looks every
// REDIAL_CHECK_MS.
#define REDIAL_MIN_MS 300
#define REDIAL_CHECK_MS 100
// PROBE_REQUEST_ID is the probe's REQ request id (its low byte; the top
// bit is set, as REQ sets it). An answer's first PROBE_REPLY_BYTES are
// the handshake (8), a frame's type and length (9) and the request id
// (4).
#define PROBE_REQUEST_ID 1
#define PROBE_REPLY_BYTES 21
#define MSG_MAX 512

// sun_path's size: the socket path and its NUL must fit.
#define SUN_PATH_MAX sizeof(((struct sockaddr_un *) 0)->sun_path)

// machine names the running kernel: its host name and boot id.
typedef struct machine {
	char host[256];
	char boot_id[64];
} machine;

// owner is an owner record as read; valid once it had the magic and a
// pid.
typedef struct owner {
	bool               valid;
	long               pid;
	machine            m;
	unsigned long long pid_start;
	uint64_t           since_ns;
} owner;

typedef struct local {
	rill__ext          ext;  // given to the handle
	rill_local_options opts; // its strings point at the copies below
	char              *admin_listen;
	char              *log_level;
	char               dir[PATH_MAX]; // absolute, as realpath made it
	char               url[SUN_PATH_MAX + 16];
	char               sock_path[SUN_PATH_MAX];
	char               lock_path[PATH_MAX];
	int                lock_fd;
	bool               locked; // this handle holds the flock
	int                wake_fd;
	rill_config        cfg;
	bool               cfg_ready;
	rill_server       *server; // a leader's
	rill_client       *client;
	machine            me;
	uint32_t           poll_ms;
	uint64_t           lock_again_ms; // monotonic: no lock try before
	uint32_t           step_down_ms;  // the next step-down's pause
	int                probe_fd; // a probe's connection, waiting: -1 none
	uint8_t            probe_buf[PROBE_REPLY_BYTES];
	size_t             probe_got;
	_Atomic bool       leader;
	_Atomic bool       stop;      // rill_close has begun
	_Atomic bool       connected; // the handle's connection is up
	_Atomic bool       dropped;   // it went down since the watcher looked
	_Atomic uint64_t   conn_change_ms; // when it last came up or went down
	uint32_t           redial_ms;
	pthread_t          thread;
	bool               thread_running;
	// The watcher's warnings, each given once per holder.
	long          warned_pid;
	long          orphan_pid; // a holder seen gone, since orphan_since
	uint64_t      orphan_since;
	bool          warned_lock; // about failing to try the lock
	struct local *next_handle; // in handles (see below)
} local;

static void close_probe(local *l);

// Forks ----------------------------------------------------------------------
//
// The lock is a flock, which belongs to the open file: a child forked
// while a handle holds it (or later takes it, as a client of the dir may)
// holds it too, until it exits or execs, and no other process could lead
// meanwhile. So the child closes its copy of every handle's descriptor at
// once; the parent's lock stays (it has its own). The handles in the child
// are not usable (their threads are not there).

static pthread_mutex_t handles_mu = PTHREAD_MUTEX_INITIALIZER;
static struct local   *handles; // every open handle of the process
static pthread_once_t  atfork_once = PTHREAD_ONCE_INIT;

static void
atfork_prepare(void)
{
	pthread_mutex_lock(&handles_mu);
}

static void
atfork_parent(void)
{
	pthread_mutex_unlock(&handles_mu);
}

static void
atfork_child(void)
{
	for (local *l = handles; l != NULL; l = l->next_handle) {
		if (l->lock_fd >= 0) {
			close(l->lock_fd);
			l->lock_fd = -1;
			l->locked  = false;
		}
	}
	pthread_mutex_unlock(&handles_mu);
}

static void
register_atfork(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

// handle_add and handle_remove keep l in handles.
static void
handle_add(local *l)
{
	pthread_once(&atfork_once, register_atfork);
	pthread_mutex_lock(&handles_mu);
	l->next_handle = handles;
	handles        = l;
	pthread_mutex_unlock(&handles_mu);
}

static void
handle_remove(local *l)
{
	pthread_mutex_lock(&handles_mu);
	for (local **p = &handles; *p != NULL; p = &(*p)->next_handle) {
		if (*p == l) {
			*p = l->next_handle;
			break;
		}
	}
	pthread_mutex_unlock(&handles_mu);
}

// fail sets rill_last_message from fmt and returns code.
static int __attribute__((format(printf, 2, 3)))
fail(int code, const char *fmt, ...)
{
	char    msg[MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rill__ext_set_message(msg);
	return code;
}

// sleep_ms sleeps for ms milliseconds.
static void
sleep_ms(uint32_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
		.tv_nsec               = (long) (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) { }
}

// service_cause returns the cause the service logged for its last
// failure on this thread, or the code's description.
static const char *
service_cause(int code)
{
	const char *s = rill_diag_last_err();

	return s[0] != '\0' ? s : rill_strerror(code);
}

// Machines and owner records ------------------------------------------------

// read_line reads the first line of the file at path into buf (n bytes),
// without its newline; "" when it cannot be read.
static void
read_line(const char *path, char *buf, size_t n)
{
	int     fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t got;

	buf[0] = '\0';
	if (fd < 0) {
		return;
	}
	got = read(fd, buf, n - 1);
	close(fd);
	buf[got > 0 ? got : 0]  = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

// this_machine fills m with this kernel's host name and boot id ("" for
// what cannot be read).
static void
this_machine(machine *m)
{
	memset(m, 0, sizeof(*m));
	if (gethostname(m->host, sizeof(m->host) - 1) != 0) {
		m->host[0] = '\0';
	}
	m->host[strcspn(m->host, " \t\n")] = '\0';
	read_line(
	    "/proc/sys/kernel/random/boot_id", m->boot_id, sizeof(m->boot_id));
	m->boot_id[strcspn(m->boot_id, " \t")] = '\0';
}

// proc_start returns the start time of process pid in clock ticks after
// boot (field 22 of /proc/PID/stat), or 0 when it cannot be read.
static unsigned long long
proc_start(long pid)
{
	char               path[64], buf[1024];
	char              *p;
	unsigned long long start = 0;
	int                fd;
	ssize_t            got;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		return 0;
	}
	got = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (got <= 0) {
		return 0;
	}
	buf[got] = '\0';
	// The command name may hold spaces and parentheses: fields are
	// counted after its last ')', which ends field 2.
	if ((p = strrchr(buf, ')')) == NULL) {
		return 0;
	}
	p++;
	for (int field = 3; field < 22 && p != NULL; field++) {
		p = strchr(p + 1, ' ');
	}
	if (p == NULL || sscanf(p, " %llu", &start) != 1) {
		return 0;
	}
	return start;
}

// pid_alive tells whether process pid (started at start ticks, 0 if not
// known) still runs on this machine.
static bool
pid_alive(long pid, unsigned long long start)
{
	unsigned long long now;

	if (pid <= 0 || (kill((pid_t) pid, 0) != 0 && errno == ESRCH)) {
		return false;
	}
	now = proc_start(pid);
	return start == 0 || now == 0 || now == start;
}

// write_owner writes this process's owner record into LOCAL.lock, whose
// lock this handle holds: whole, then cut to its length, so a reader sees
// the old record, the new one or a mix it cannot parse (and reads again).
static void
write_owner(local *l)
{
	char text[OWNER_MAX];
	long pid = (long) getpid();
	int  n;

	n = snprintf(text, sizeof(text),
	    OWNER_MAGIC "%d\npid %ld\nhost %s\nboot_id %s\npid_start "
	                "%llu\nsince_ns %" PRIu64 "\n",
	    OWNER_VERSION, pid, l->me.host, l->me.boot_id, proc_start(pid),
	    rill_mono_ns());
	if (n <= 0 || (size_t) n >= sizeof(text) ||
	    pwrite(l->lock_fd, text, (size_t) n, 0) != n ||
	    ftruncate(l->lock_fd, n) != 0) {
		// Others then cannot tell this machine from another: they
		// wait as for a record being written. Not fatal.
		rill_diag_warn("LOCAL-OWNER",
		    "cannot write the owner record %s: %s", l->lock_path,
		    strerror(errno));
	}
}

// parse_owner parses an owner record (NUL-terminated text) into *o.
static void
parse_owner(char *text, owner *o)
{
	char *line, *save = NULL;

	memset(o, 0, sizeof(*o));
	if (strncmp(text, OWNER_MAGIC, strlen(OWNER_MAGIC)) != 0) {
		return;
	}
	// Later versions may add lines: unknown keys are passed over.
	strtok_r(text, "\n", &save);
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		char *value = strchr(line, ' ');
		if (value == NULL) {
			continue;
		}
		*value++ = '\0';
		if (strcmp(line, "pid") == 0) {
			o->pid   = strtol(value, NULL, 10);
			o->valid = o->pid > 0;
		} else if (strcmp(line, "host") == 0) {
			snprintf(o->m.host, sizeof(o->m.host), "%s", value);
		} else if (strcmp(line, "boot_id") == 0) {
			snprintf(
			    o->m.boot_id, sizeof(o->m.boot_id), "%s", value);
		} else if (strcmp(line, "pid_start") == 0) {
			o->pid_start = strtoull(value, NULL, 10);
		} else if (strcmp(line, "since_ns") == 0) {
			o->since_ns = strtoull(value, NULL, 10);
		}
	}
}

// read_owner reads the owner record of LOCAL.lock into *o, up to tries
// times while it is empty or cannot be parsed (a leader writing it).
static void
read_owner(local *l, owner *o, int tries)
{
	char    text[OWNER_MAX + 1];
	ssize_t n;

	for (int i = 0; i < tries; i++) {
		if (i > 0) {
			sleep_ms(RECORD_RETRY_MS);
		}
		n                   = pread(l->lock_fd, text, OWNER_MAX, 0);
		text[n > 0 ? n : 0] = '\0';
		parse_owner(text, o);
		if (o->valid) {
			return;
		}
	}
}

// is_foreign tells whether o names a process of another machine.
static bool
is_foreign(const local *l, const owner *o)
{
	if (!o->valid) {
		return false;
	}
	if (o->m.boot_id[0] != '\0' && l->me.boot_id[0] != '\0') {
		return strcmp(o->m.boot_id, l->me.boot_id) != 0;
	}
	return o->m.host[0] != '\0' && l->me.host[0] != '\0' &&
	    strcmp(o->m.host, l->me.host) != 0;
}

// refuse_foreign sets rill_last_message for a lock held on another
// machine and returns RILL_ELOCKED.
static int
refuse_foreign(const local *l, const owner *o)
{
	return fail(RILL_ELOCKED,
	    "the lock of data dir %s (%s) is held by pid %ld on host %s "
	    "(boot id %s), another machine than this one (host %s, boot id "
	    "%s): rill_open_local shares a dir only among processes of one "
	    "machine",
	    l->dir, l->lock_path, o->pid, o->m.host[0] ? o->m.host : "?",
	    o->m.boot_id[0] ? o->m.boot_id : "?", l->me.host,
	    l->me.boot_id[0] ? l->me.boot_id : "?");
}

// check_holder looks at the owner record of the lock another handle
// holds, for the watcher, and warns once per holder about one of another
// machine, or one whose pid has been gone for ORPHAN_MS (a moment is
// normal: a new leader between taking the lock and writing its record).
static void
check_holder(local *l)
{
	owner    o;
	uint64_t now = rill_mono_ms();

	read_owner(l, &o, 1);
	if (!o.valid || o.pid == l->warned_pid) {
		return;
	}
	if (is_foreign(l, &o)) {
		l->warned_pid = o.pid;
		rill_diag_err("LOCAL-FOREIGN",
		    "the lock of %s is held by pid %ld on host %s (boot id "
		    "%s), another machine: its socket cannot be reached from "
		    "here; waiting for the lock",
		    l->dir, o.pid, o.m.host, o.m.boot_id);
		return;
	}
	if (pid_alive(o.pid, o.pid_start)) {
		l->orphan_pid = 0;
		return;
	}
	if (o.pid != l->orphan_pid) {
		l->orphan_pid   = o.pid;
		l->orphan_since = now;
	} else if (now >= l->orphan_since + ORPHAN_MS) {
		l->warned_pid = o.pid;
		rill_diag_warn("LOCAL-ORPHAN",
		    "the lock of %s is held, but its owner record names pid "
		    "%ld, which is gone: a child that leader forked holds it? "
		    "waiting for the lock",
		    l->dir, o.pid);
	}
}

// The lock -----------------------------------------------------------------

// try_lock tries LOCAL.lock without waiting: 1 when this handle took it,
// 0 when another open file holds it, or a code with a message.
static int
try_lock(local *l)
{
	while (flock(l->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EINTR) {
			continue;
		}
		if (errno == EWOULDBLOCK) {
			return 0;
		}
		return fail(RILL_EIO, "cannot lock %s: %s", l->lock_path,
		    strerror(errno));
	}
	l->locked = true;
	return 1;
}

// unlock clears the owner record, so it never names a process that is
// gone, and frees the lock, keeping the descriptor for a later try.
static void
unlock(local *l)
{
	if (!l->locked) {
		return;
	}
	if (ftruncate(l->lock_fd, 0) != 0) {
		rill_diag_warn("LOCAL-OWNER",
		    "cannot clear the owner record %s: %s", l->lock_path,
		    strerror(errno));
	}
	flock(l->lock_fd, LOCK_UN);
	l->locked = false;
}

// release_lock unlocks and closes the lock's descriptor.
static void
release_lock(local *l)
{
	if (l->lock_fd < 0) {
		return;
	}
	unlock(l);
	close(l->lock_fd);
	l->lock_fd = -1;
}

// datadir_busy tells whether the data dir's own LOCK is held by another
// open file (it only asks: the lock is freed at once).
static bool
datadir_busy(const local *l)
{
	char path[PATH_MAX];
	bool busy = false;
	int  fd;

	if (rill_path_join(path, sizeof(path), l->dir, "LOCK") != RILL_OK ||
	    (fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
		return false;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		busy = errno == EWOULDBLOCK;
	}
	close(fd);
	return busy;
}

// The server ---------------------------------------------------------------

// configure fills l->cfg: rilld's defaults, the dir, the socket, and the
// options. Returns RILL_OK or a code with a message.
static int
configure(local *l)
{
	static const char *const sync_names[] = { "always", "interval",
		"none" };
	char                     err[256], interval[32];
	int                      rv;

	if ((rv = rill_config_init(&l->cfg)) != RILL_OK) {
		return fail(rv, "out of memory");
	}
	l->cfg_ready = true;
	snprintf(interval, sizeof(interval), "%" PRIu32 "ms",
	    l->opts.sync_interval_ms);
	if ((rv = rill_config_set(
	         &l->cfg, "data_dir", l->dir, err, sizeof(err))) != RILL_OK ||
	    (rv = rill_config_set(
	         &l->cfg, "listen", l->url, err, sizeof(err))) != RILL_OK ||
	    (rv = rill_config_set(&l->cfg, "admin_listen",
	         l->admin_listen != NULL ? l->admin_listen : "off", err,
	         sizeof(err))) != RILL_OK ||
	    (rv = rill_config_set(&l->cfg, "sync", sync_names[l->opts.sync],
	         err, sizeof(err))) != RILL_OK ||
	    (rv = rill_config_set(&l->cfg, "sync_interval_ms", interval, err,
	         sizeof(err))) != RILL_OK ||
	    (rv = rill_config_set(&l->cfg, "log_level", l->log_level, err,
	         sizeof(err))) != RILL_OK) {
		return fail(rv, "rill_open_local: %s", err);
	}
	return RILL_OK;
}

// start_server opens the server on the dir, whose LOCAL.lock this handle
// holds: no live leader owns the socket's path, so a file left there is
// removed first. Blocks through recovery. On failure the cause is in
// rill_diag_last_err.
static int
start_server(local *l)
{
	if (unlink(l->sock_path) != 0 && errno != ENOENT) {
		rill_diag_warn("LOCAL-SOCKET", "cannot remove %s: %s",
		    l->sock_path, strerror(errno));
	}
	rill_diag_clear_last_err();
	return rill_server_open(&l->server, &l->cfg);
}

// become_leader records that this handle leads and runs on_leader (not
// while the handle closes).
static void
become_leader(local *l)
{
	atomic_store(&l->leader, true);
	rill__ext_set_leader(l->client, true);
	rill_diag_notice("LOCAL-LEADER", "process %ld leads %s on %s",
	    (long) getpid(), l->dir, l->url);
	if (l->opts.on_leader != NULL && !atomic_load(&l->stop)) {
		l->opts.on_leader(l->client, l->opts.on_leader_arg);
	}
}

// lead_at_open opens the server for rill_open_local, which took the
// lock: first the owner record, then the data dir's LOCK is waited for
// (briefly: a dying leader's), then recovery. Returns RILL_OK or a code
// with a message.
static int
lead_at_open(local *l)
{
	uint64_t end = rill_mono_ms() + DATADIR_WAIT_MS;
	int      rv;

	write_owner(l);
	while (datadir_busy(l) && rill_mono_ms() < end) {
		sleep_ms(DATADIR_POLL_MS);
	}
	if ((rv = start_server(l)) == RILL_OK) {
		return RILL_OK;
	}
	if (rv == RILL_ELOCKED && datadir_busy(l)) {
		return fail(rv,
		    "data dir %s is in use by a process that is not a "
		    "rill_open_local leader (a rilld?): %s",
		    l->dir, service_cause(rv));
	}
	if (rv == RILL_ELOCKED) { // an address in use (the admin API's)
		return fail(rv, "cannot serve data dir %s: %s", l->dir,
		    service_cause(rv));
	}
	if (rv == RILL_EVERSION) {
		return fail(rv, "data dir %s was written by a newer rill: %s",
		    l->dir, service_cause(rv));
	}
	return fail(
	    rv, "cannot open data dir %s: %s", l->dir, service_cause(rv));
}

// The watcher --------------------------------------------------------------

// wait_wake waits up to ms for a wake-up (the connection dropped or came
// back, or rill_close) and consumes it.
static void
wait_wake(local *l, uint32_t ms)
{
	struct pollfd pfd = { .fd = l->wake_fd, .events = POLLIN };
	uint64_t      count;

	if (poll(&pfd, 1, (int) ms) > 0 &&
	    read(l->wake_fd, &count, sizeof(count)) < 0) {
		// EAGAIN: another wait took it.
	}
}

// wake makes wait_wake return. Async-signal-safe, so nng's pipe callbacks
// may call it.
static void
wake(local *l)
{
	uint64_t one = 1;

	if (write(l->wake_fd, &one, sizeof(one)) < 0) {
		// EAGAIN: the counter is full, the watcher will wake anyway.
	}
}

// serve opens the server for a handle that holds the lock (recovery,
// then the socket), retried with a back-off while it fails for up to
// SERVE_TRY_MS (a dying leader may still hold the data dir's LOCK), until
// it serves (true), the handle closes, or it gives up (false): a code
// that no retry changes (a newer format, damage) ends it at once.
static bool
serve(local *l)
{
	uint32_t backoff = TAKEOVER_RETRY_MIN_MS;
	uint64_t end     = rill_mono_ms() + SERVE_TRY_MS;
	int      last_rv = RILL_OK, rv = RILL_ELOCKED;

	while (!atomic_load(&l->stop)) {
		if (!datadir_busy(l)) {
			if ((rv = start_server(l)) == RILL_OK) {
				return true;
			}
			if (rv != last_rv) {
				// A copy: logging overwrites the thread's last
				// error, which the cause is.
				char cause[256];
				snprintf(cause, sizeof(cause), "%s",
				    service_cause(rv));
				rill_diag_err("LOCAL-SERVE",
				    "cannot serve %s: %s", l->dir, cause);
				last_rv = rv;
			}
			if (rv == RILL_EVERSION || rv == RILL_ECORRUPT ||
			    rv == RILL_FAILED_PRECONDITION) {
				break;
			}
		}
		if (rill_mono_ms() >= end) {
			break;
		}
		wait_wake(l, backoff);
		backoff = backoff * 2 > TAKEOVER_RETRY_MAX_MS
		    ? TAKEOVER_RETRY_MAX_MS
		    : backoff * 2;
	}
	if (!atomic_load(&l->stop)) {
		rill_diag_err("LOCAL-STEP-DOWN",
		    "process %ld cannot serve %s (%s): it frees the lock for "
		    "another process, and tries again in %u ms",
		    (long) getpid(), l->dir,
		    rv == RILL_ELOCKED && datadir_busy(l)
		        ? "its data dir is held by another process"
		        : rill_strerror(rv),
		    l->step_down_ms);
	}
	return false;
}

// step_down frees the lock of a handle that cannot serve, so that
// another process may, and keeps this one from taking it again for a
// while (doubling up to STEP_DOWN_MAX_MS at each failure).
static void
step_down(local *l)
{
	atomic_store(&l->leader, false);
	rill__ext_set_leader(l->client, false);
	unlock(l);
	l->lock_again_ms = rill_mono_ms() + l->step_down_ms;
	l->step_down_ms  = l->step_down_ms * 2 > STEP_DOWN_MAX_MS
	     ? STEP_DOWN_MAX_MS
	     : l->step_down_ms * 2;
}

// take_over serves the dir from this process, whose watcher took the
// lock, or steps down.
static void
take_over(local *l)
{
	// A probe left waiting by maybe_redial talks to the old leader.
	close_probe(l);
	write_owner(l);
	rill_diag_notice("LOCAL-TAKEOVER",
	    "process %ld took the lock of %s: recovering it", (long) getpid(),
	    l->dir);
	if (serve(l)) {
		l->step_down_ms = STEP_DOWN_MIN_MS;
		become_leader(l);
	} else {
		step_down(l);
	}
}

// The listener probe ---------------------------------------------------------

// close_probe closes the probe's connection, if any.
static void
close_probe(local *l)
{
	if (l->probe_fd >= 0) {
		close(l->probe_fd);
		l->probe_fd = -1;
	}
}

// probe_start connects a probe to the leader's socket and sends it the
// SP handshake and a Status request, as an nng REQ socket would: a
// header "\0SP\0" naming REQ, then a frame (type 1, a 64-bit length)
// holding the REQ header (the request id, top bit set) and the packed
// request. Returns the connection, -1 when nobody listens, -2 when no
// verdict can be had (descriptors or memory short, a full backlog).
static int
probe_start(local *l)
{
	static const uint8_t    hello[8] = { 0, 'S', 'P', 0, 0, PROBE_PROTO, 0,
		   0 };
	struct sockaddr_un      sa       = { .sun_family = AF_UNIX };
	Rill__V1__Request       req      = RILL__V1__REQUEST__INIT;
	Rill__V1__StatusRequest st       = RILL__V1__STATUS_REQUEST__INIT;
	uint8_t                 out[64];
	size_t                  body, n = 0;
	int                     fd;

	req.request_id = 1;
	req.body_case  = RILL__V1__REQUEST__BODY_STATUS;
	req.status     = &st;
	body           = rill__v1__request__get_packed_size(&req);
	if (body + 21 > sizeof(out)) {
		return -2;
	}
	memcpy(out, hello, sizeof(hello));
	n      = sizeof(hello);
	out[n] = 1; // a message
	for (int i = 0; i < 8; i++) {
		out[n + 1 + (size_t) i] =
		    (uint8_t) ((uint64_t) (4 + body) >> (56 - 8 * i));
	}
	n += 9;
	memcpy(
	    out + n, (const uint8_t[4]) { 0x80, 0, 0, PROBE_REQUEST_ID }, 4);
	n += 4;
	n += rill__v1__request__pack(&req, out + n);

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	         0)) < 0) {
		return -2;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", l->sock_path);
	if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) != 0) {
		int err = errno;
		close(fd);
		return err == EAGAIN || err == EINTR ? -2 : -1;
	}
	// A few dozen bytes into an empty socket buffer: sent whole.
	// send, not write: a leader that closes its socket meanwhile must
	// not raise SIGPIPE in the application (which may not ignore it).
	if (send(fd, out, n, MSG_NOSIGNAL) != (ssize_t) n) {
		close(fd);
		return -1;
	}
	return fd;
}

// probe_listener tells whether the leader's socket serves: a probe's
// Status request (see probe_start), or the one a probe before left
// waiting, must be answered within wait_ms. Returns false when it was
// not, or when nobody listens. (The server's SP handshake alone is not
// enough: nng 1.5.2's stopped listener may still send it.) A connection
// is closed only once the answer came, or the server closed it: one
// closed in the middle of the handshake is what stops nng 1.5.2's ipc
// listener (see lead_main). Blocks up to wait_ms, less if the handle
// closes (then it returns true: no verdict).
static bool
probe_listener(local *l, uint32_t wait_ms)
{
	uint64_t end = rill_mono_ms() + wait_ms;

	if (l->probe_fd < 0) {
		int fd = probe_start(l);
		if (fd < 0) {
			return fd == -2;
		}
		l->probe_fd  = fd;
		l->probe_got = 0;
	}
	while (!atomic_load(&l->stop)) {
		struct pollfd pfd[2] = {
			{ .fd = l->probe_fd, .events = POLLIN },
			{ .fd = l->wake_fd, .events = POLLIN },
		};
		uint64_t now = rill_mono_ms();
		ssize_t  n;

		if (now >= end) {
			return false; // the connection stays, for next time
		}
		if (poll(pfd, 2, (int) (end - now)) <= 0) {
			continue;
		}
		if ((pfd[1].revents & POLLIN) != 0) {
			uint64_t count;
			if (read(l->wake_fd, &count, sizeof(count)) < 0) {
				// another wait took it
			}
		}
		if ((pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
			continue;
		}
		n = read(l->probe_fd, l->probe_buf + l->probe_got,
		    sizeof(l->probe_buf) - l->probe_got);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			continue;
		}
		if (n <= 0) {
			close_probe(l); // closed by the server
			return false;
		}
		l->probe_got += (size_t) n;
		// The server's handshake, then a frame whose REQ header is
		// the probe's request id: the REP socket took the connection
		// and the server answered.
		if (l->probe_got >= PROBE_REPLY_BYTES) {
			const uint8_t *b = l->probe_buf;
			bool ok = memcmp(b, "\0SP\0", 4) == 0 && b[8] == 1 &&
			    b[17] == 0x80 && b[20] == PROBE_REQUEST_ID;
			close_probe(l);
			return ok;
		}
	}
	return true;
}

// restart_server closes the server and opens it again, for a leader
// whose socket stopped taking connections. The clients see their
// connections drop and come back, and retry their calls.
static void
restart_server(local *l)
{
	rill_diag_warn("LOCAL-RELISTEN",
	    "the socket %s of the leader stopped taking connections (nng "
	    "1.5.2 stops an ipc listener whose peer leaves during the "
	    "handshake): restarting the service",
	    l->sock_path);
	rill_server_close(l->server);
	l->server = NULL;
	close_probe(l);
	if (!serve(l)) {
		step_down(l);
	}
}

// maybe_redial gives the handle a new dialer when it has had no
// connection for redial_ms while a leader's socket answers the SP
// handshake: its dialer should have connected long ago, and is one that
// nng 1.5.2 stopped for good (the server went away during a handshake).
static void
maybe_redial(local *l, uint64_t now)
{
	uint32_t wait =
	    l->poll_ms < REDIAL_CHECK_MS ? l->poll_ms : REDIAL_CHECK_MS;

	if (atomic_load(&l->connected) ||
	    now < atomic_load(&l->conn_change_ms) + l->redial_ms ||
	    !probe_listener(l, wait) || atomic_load(&l->connected)) {
		return;
	}
	if (rill__ext_redial(l->client) > 0) {
		rill_diag_warn("LOCAL-REDIAL",
		    "no connection to %s for %" PRIu64
		    " ms while it answers: dialing it anew",
		    l->url, now - atomic_load(&l->conn_change_ms));
	}
	atomic_store(&l->conn_change_ms, rill_mono_ms());
}

// lead_main is the thread of a leader's handle: it probes the socket
// every PROBE_INTERVAL_MS, redials the handle's own connection when it
// has been down for redial_ms while the socket answers, and restarts the
// server when two probes in a row found it deaf (nng 1.5.2's ipc listener
// stops accepting for good when a peer disconnects during the SP handshake, as
// a client process that dies or closes while it connects does), until the
// handle closes.
static void
lead_main(local *l)
{
	int failures = 0;

	while (!atomic_load(&l->stop) && atomic_load(&l->leader)) {
		wait_wake(l, PROBE_INTERVAL_MS);
		if (atomic_load(&l->stop) || l->server == NULL) {
			continue;
		}
		if (probe_listener(l, PROBE_WAIT_MS)) {
			failures = 0;
			// The handle's own dialer may be one nng stopped
			// while it was a client of the leader before.
			maybe_redial(l, rill_mono_ms());
		} else if (++failures >= PROBE_FAILURES &&
		    !atomic_load(&l->stop)) {
			restart_server(l);
			failures = 0;
		}
	}
}

// handle_main is the thread of a handle. A client's watches the lock
// (tried every poll_ms, and every FAST_POLL_MS while the connection is
// down after a drop) until it takes it and takes over; a leader's
// probes its socket (lead_main); both until the handle closes.
static void *
handle_main(void *arg)
{
	local   *l           = arg;
	uint64_t fast_until  = 0;
	uint64_t next_redial = 0;
	int      rv;

	pthread_setname_np(pthread_self(), "rill:local");
watch:
	while (!atomic_load(&l->stop) && !atomic_load(&l->leader)) {
		uint64_t now;
		bool     fast;

		rv = rill_mono_ms() < l->lock_again_ms ? 0 : try_lock(l);
		if (rv == 1) {
			take_over(l);
			continue;
		}
		if (rv < 0 && !l->warned_lock) {
			rill_diag_err("LOCAL-LOCK", "%s: trying again",
			    rill_last_message());
			l->warned_lock = true;
		}
		now = rill_mono_ms();
		if (atomic_exchange(&l->dropped, false)) {
			fast_until = now + FAST_WINDOW_MS;
		}
		if (atomic_load(&l->connected)) {
			fast_until = 0;
		}
		fast = now < fast_until;
		if (!fast && rv == 0) {
			check_holder(l);
		}
		if (rv == 0 && now >= next_redial) {
			maybe_redial(l, now);
			next_redial = now + REDIAL_CHECK_MS;
		}
		wait_wake(l, fast ? FAST_POLL_MS : l->poll_ms);
	}
	if (atomic_load(&l->leader)) {
		lead_main(l);
		if (!atomic_load(&l->stop)) {
			goto watch; // it stepped down: a client again
		}
	}
	return NULL;
}

// Hooks of the handle --------------------------------------------------------

// local_free frees l and what it holds (the server must be closed).
static void
local_free(local *l)
{
	handle_remove(l); // if it was added
	close_probe(l);
	release_lock(l);
	if (l->wake_fd >= 0) {
		close(l->wake_fd);
	}
	if (l->cfg_ready) {
		rill_config_fini(&l->cfg);
	}
	free(l->admin_listen);
	free(l->log_level);
	free(l);
}

// ext_before_close stops the handle's thread: a takeover under way
// finishes (the server it opened is closed after the handle).
static void
ext_before_close(void *arg)
{
	local *l = arg;

	atomic_store(&l->stop, true);
	if (l->thread_running) {
		wake(l);
		pthread_join(l->thread, NULL);
		l->thread_running = false;
	}
}

// ext_after_close closes the server of a leader, now that its own calls
// are over: it answers the requests it took, syncs and closes the data
// dir. Then the lock goes, for the next leader.
static void
ext_after_close(void *arg)
{
	local *l = arg;

	if (l->server != NULL) {
		rill_server_close(l->server);
		l->server = NULL;
		rill_diag_notice("LOCAL-HANDOVER",
		    "process %ld no longer leads %s", (long) getpid(), l->dir);
	}
	local_free(l);
}

// ext_pipe_event follows the handle's connection: a drop wakes the
// watcher, which then tries the lock often until the connection is back.
static void
ext_pipe_event(void *arg, bool added)
{
	local *l = arg;

	atomic_store(&l->connected, added);
	atomic_store(&l->conn_change_ms, rill_mono_ms());
	if (!added) {
		atomic_store(&l->dropped, true);
	}
	wake(l);
}

// Opening --------------------------------------------------------------------

void
rill_local_options_init(rill_local_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	rill_options_init(&opts->client);
	opts->client.reconnect_min_ms = DEFAULT_RECONNECT_MIN_MS;
	opts->client.reconnect_max_ms = DEFAULT_RECONNECT_MAX_MS;
	opts->crash_detect_ms         = DEFAULT_CRASH_DETECT_MS;
	opts->on_leader               = NULL;
	opts->on_leader_arg           = NULL;
	opts->sync                    = RILL_LOCAL_SYNC_ALWAYS;
	opts->sync_interval_ms        = DEFAULT_SYNC_INTERVAL_MS;
	opts->admin_listen            = NULL;
	opts->log_level               = "warn";
}

// check_options returns RILL_INVALID_ARGUMENT, with a message, for
// options rill_open_local cannot honour (rill_open checks opts->client).
static int
check_options(const rill_local_options *o)
{
	enum rill_diag_level level;

	if (o->crash_detect_ms < MIN_CRASH_DETECT_MS ||
	    o->crash_detect_ms > INT32_MAX) {
		return fail(RILL_INVALID_ARGUMENT,
		    "crash_detect_ms %" PRIu32 " is out of range (%d ms to "
		    "2^31 ms)",
		    o->crash_detect_ms, MIN_CRASH_DETECT_MS);
	}
	if ((int) o->sync < RILL_LOCAL_SYNC_ALWAYS ||
	    (int) o->sync > RILL_LOCAL_SYNC_NONE) {
		return fail(RILL_INVALID_ARGUMENT,
		    "sync %d is not a rill_local_sync", (int) o->sync);
	}
	if (o->sync_interval_ms == 0) {
		return fail(
		    RILL_INVALID_ARGUMENT, "sync_interval_ms must be above 0");
	}
	if (o->log_level == NULL ||
	    !rill_diag_parse_level(o->log_level, &level)) {
		return fail(RILL_INVALID_ARGUMENT,
		    "log_level \"%s\" is none of err, warn, notice, info, "
		    "debug",
		    o->log_level != NULL ? o->log_level : "(null)");
	}
	return RILL_OK;
}

// too_long refuses a data dir whose socket path, of len bytes, cannot be
// a Unix socket's address.
static int
too_long(const char *dir, size_t len)
{
	return fail(RILL_INVALID_ARGUMENT,
	    "the socket path of data dir %s (<dir>/%s) would be %zu bytes, "
	    "over the %zu a Unix socket address holds: give rill_open_local "
	    "a shorter path",
	    dir, RILL_DATADIR_LOCAL_SOCKET, len, SUN_PATH_MAX - 1);
}

// set_paths makes dir (created if missing) absolute and derives the
// socket's and the lock's paths. Returns RILL_OK or a code with a
// message.
static int
set_paths(local *l, const char *dir)
{
	size_t sock_len = 1 + strlen(RILL_DATADIR_LOCAL_SOCKET);
	char   cwd[PATH_MAX];
	size_t len;
	int    rv;

	// A dir still to be made is not made for a socket path that cannot
	// fit: its length is judged on the path as given (made absolute)
	// first, and again once realpath resolved it.
	if (access(dir, F_OK) != 0) {
		len = strlen(dir) + sock_len;
		if (dir[0] != '/' && getcwd(cwd, sizeof(cwd)) != NULL) {
			len += strlen(cwd) + 1;
		}
		if (len >= SUN_PATH_MAX) {
			return too_long(dir, len);
		}
	}
	rill_diag_clear_last_err();
	if ((rv = rill_mkdirs(dir)) != RILL_OK) {
		return fail(rv, "cannot create data dir %s: %s", dir,
		    service_cause(rv));
	}
	if (realpath(dir, l->dir) == NULL) {
		return fail(RILL_EIO, "cannot resolve data dir %s: %s", dir,
		    strerror(errno));
	}
	if ((len = strlen(l->dir) + sock_len) >= SUN_PATH_MAX) {
		return too_long(l->dir, len);
	}
	snprintf(l->sock_path, sizeof(l->sock_path), "%s/%s", l->dir,
	    RILL_DATADIR_LOCAL_SOCKET);
	snprintf(l->url, sizeof(l->url), "ipc://%s", l->sock_path);
	if ((rv = rill_path_join(l->lock_path, sizeof(l->lock_path), l->dir,
	         RILL_DATADIR_LOCAL_LOCK)) != RILL_OK) {
		return fail(rv, "data dir path %s is too long", l->dir);
	}
	return RILL_OK;
}

// check_format refuses a dir of a newer format version, or a damaged
// one, before anything talks to it, as client or leader.
static int
check_format(local *l)
{
	int rv;

	rill_diag_clear_last_err();
	rv = rill_datadir_check(l->dir);
	if (rv == RILL_OK || rv == RILL_NOT_FOUND) {
		return RILL_OK;
	}
	if (rv == RILL_EVERSION) {
		return fail(rv, "data dir %s was written by a newer rill: %s",
		    l->dir, service_cause(rv));
	}
	return fail(rv, "data dir %s: %s", l->dir, service_cause(rv));
}

// local_new allocates l with copies of opts' strings.
static int
local_new(local **lp, const rill_local_options *opts)
{
	local   *l = calloc(1, sizeof(*l));
	uint64_t rmax;

	if (l == NULL) {
		return fail(RILL_ENOMEM, "out of memory");
	}
	l->lock_fd  = -1;
	l->wake_fd  = -1;
	l->probe_fd = -1;
	l->opts     = *opts;
	if ((opts->admin_listen != NULL &&
	        (l->admin_listen = strdup(opts->admin_listen)) == NULL) ||
	    (l->log_level = strdup(opts->log_level)) == NULL) {
		local_free(l);
		return fail(RILL_ENOMEM, "out of memory");
	}
	l->opts.admin_listen = l->admin_listen;
	l->opts.log_level    = l->log_level;
	l->poll_ms           = opts->crash_detect_ms / 2;
	l->step_down_ms      = STEP_DOWN_MIN_MS;
	rmax = opts->client.reconnect_max_ms > opts->client.reconnect_min_ms
	    ? opts->client.reconnect_max_ms
	    : opts->client.reconnect_min_ms;
	l->redial_ms = 3 * rmax > REDIAL_MIN_MS ? 3 * rmax : REDIAL_MIN_MS;
	atomic_init(&l->conn_change_ms, rill_mono_ms());
	atomic_init(&l->leader, false);
	atomic_init(&l->stop, false);
	atomic_init(&l->connected, false);
	atomic_init(&l->dropped, false);
	this_machine(&l->me);
	*lp = l;
	return RILL_OK;
}

int
rill_open_local(
    rill_client **clientp, const char *dir, const rill_local_options *opts)
{
	rill_local_options   defaults;
	rill_client         *client = NULL;
	local               *l      = NULL;
	owner                o;
	enum rill_diag_level level;
	int                  rv;

	if (clientp == NULL || dir == NULL || dir[0] == '\0') {
		return fail(RILL_INVALID_ARGUMENT,
		    "rill_open_local needs clientp and a dir");
	}
	if (opts == NULL) {
		rill_local_options_init(&defaults);
		opts = &defaults;
	}
	if ((rv = check_options(opts)) != RILL_OK ||
	    (rv = local_new(&l, opts)) != RILL_OK) {
		return rv;
	}
	// The service's diagnostics, this file's included, at the level
	// asked for (a process-wide setting, as rilld's --log-level).
	if (rill_diag_parse_level(l->log_level, &level)) {
		rill_diag_set_level(level);
	}
	if ((rv = set_paths(l, dir)) != RILL_OK ||
	    (rv = check_format(l)) != RILL_OK ||
	    (rv = configure(l)) != RILL_OK) {
		goto out_free;
	}
	if ((l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		rv = fail(
		    RILL_EIO, "cannot make an eventfd: %s", strerror(errno));
		goto out_free;
	}
	l->lock_fd = open(l->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (l->lock_fd < 0) {
		rv = fail(RILL_EIO, "cannot open %s: %s", l->lock_path,
		    strerror(errno));
		goto out_free;
	}
	handle_add(l);
	// The handle first (it checks its options and dials without
	// waiting), so that nothing is left to fail once a server runs.
	if ((rv = rill_open(&client, l->url, &l->opts.client)) != RILL_OK) {
		goto out_free;
	}
	l->client = client;
	if ((rv = try_lock(l)) < 0) {
		goto out_close;
	}
	if (rv == 1) {
		if ((rv = lead_at_open(l)) != RILL_OK) {
			goto out_close;
		}
	} else {
		// The holder may be writing its record: read it again a
		// while.
		read_owner(l, &o, RECORD_TRIES);
		if (is_foreign(l, &o)) {
			rv = refuse_foreign(l, &o);
			goto out_close;
		}
	}
	l->ext = (rill__ext) {
		.before_close = ext_before_close,
		.after_close  = ext_after_close,
		.pipe_event   = ext_pipe_event,
		.arg          = l,
	};
	rill__ext_attach(client, &l->ext);
	if (l->server != NULL) {
		become_leader(l);
	}
	if (pthread_create(&l->thread, NULL, handle_main, l) != 0) {
		// rill_close runs the hooks: they free l.
		rill_close(client);
		return fail(RILL_ENOMEM, "cannot start a thread");
	}
	l->thread_running = true;
	*clientp          = client;
	return RILL_OK;

out_close:
	rill_close(client);
	rill_server_close(l->server);
	l->server = NULL;
out_free:
	local_free(l);
	return rv;
}

bool
rill_local_is_leader(const rill_client *client)
{
	return client != NULL && rill__ext_is_leader(client);
}

int
rill_local_read_owner(const char *dir, rill_local_owner *out)
{
	char    path[PATH_MAX], text[OWNER_MAX + 1];
	owner   o;
	ssize_t n;
	int     fd;

	if (dir == NULL || out == NULL) {
		return fail(RILL_INVALID_ARGUMENT,
		    "rill_local_read_owner: dir and owner must not be NULL");
	}
	if ((size_t) snprintf(path, sizeof(path), "%s/LOCAL.lock", dir) >=
	        sizeof(path) ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		return fail(RILL_NOT_FOUND, "no owner record %s", path);
	}
	n = read(fd, text, OWNER_MAX);
	close(fd);
	text[n > 0 ? n : 0] = '\0';
	parse_owner(text, &o);
	if (!o.valid) {
		return fail(RILL_NOT_FOUND, "%s names no leader", path);
	}
	out->pid = o.pid;
	snprintf(out->host, sizeof(out->host), "%s", o.m.host);
	out->since_ns = o.since_ns;
	return RILL_OK;
}
