// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// local_worker: one process of an application that shares a data dir
// through rill_open_local, driven by local_test. It reports on stdout,
// one line per event, each written whole with one write(2) (so a worker
// killed with SIGKILL leaves no torn line), and takes commands on stdin;
// end of input makes it close its handle and exit 0.
//
//   local_worker write DIR ID N THREADS
//       puts keys w<ID>/<i> (i < N) from THREADS threads, prints "done
//       N", then waits for "verify WORKERS N": scans every key of
//       workers 0..WORKERS-1 and checks each once, in order, with its
//       value ("verified COUNT"), and reads some back with get.
//   local_worker load DIR ID THREADS
//       puts fresh keys l<ID>/<thread>/<i> from THREADS threads until
//       end of input, printing "ack KEY SEQ" for each acknowledged one.
//   local_worker scan DIR N PAGE
//       scans keys w00/0..N-1 in pages of PAGE, printing "scanning"
//       after the first page and pausing 5 ms a page, then "scanned
//       COUNT" once every key came once, in order, with its value.
//   local_worker idle DIR [CRASH_DETECT_MS]
//       holds a handle; "role" prints its role (which waits for a
//       leader to answer).
//   local_worker leadclose DIR
//       holds a handle until "close": then prints "closed T", T the
//       CLOCK_MONOTONIC nanoseconds right after rill_close returned.
//
// Every mode prints "open PID" once its handle is open, "leader PID" from
// its on_leader callback, and "role leader" or "role client" (what
// rill_status's local_leader says) before it closes.
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rill/local.h>
#include <rill/rill.h>

#include "tsan_suppressions.h" // defines the suppressions

#if defined(__SANITIZE_ADDRESS__)
#define RILL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RILL_ASAN 1
#endif
#endif

#ifdef RILL_ASAN
// nng 1.5.2 leaks what an ipc listener stopped by its handshake bug still
// holds when its socket closes, and a leader restarts its server for
// that bug (see lead_main in client-sdk/src/local.c); a worker killed
// while it connects can cause it. Leaks with a frame in libnng are not
// reported by the workers; local_test itself keeps every leak check.
const char *__lsan_default_suppressions(void);
const char *
__lsan_default_suppressions(void)
{
	return "leak:libnng.so\n";
}
#endif

#define MAX_THREADS 64

static rill_client *client;
static atomic_bool  stop_writing;

// say writes one line to stdout with a single write(2).
static void __attribute__((format(printf, 1, 2))) say(const char *fmt, ...)
{
	char    line[512];
	va_list ap;
	int     n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0) {
		return;
	}
	if (n > (int) sizeof(line) - 2) {
		n = (int) sizeof(line) - 2;
	}
	line[n++] = '\n';
	if (write(STDOUT_FILENO, line, (size_t) n) != n) {
		// The driver reads what arrived; nothing better to do.
	}
}

// die reports a failure on stdout (the driver shows it) and exits 1.
static void __attribute__((noreturn)) __attribute__((format(printf, 1, 2)))
die(const char *fmt, ...)
{
	char    msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say("error %s", msg);
	exit(1);
}

// read_line reads one line of stdin into buf; false at end of input.
static bool
read_line(char *buf, size_t n)
{
	size_t len = 0;

	while (len + 1 < n) {
		char    ch;
		ssize_t r = read(STDIN_FILENO, &ch, 1);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r <= 0) {
			buf[len] = '\0';
			return len > 0;
		}
		if (ch == '\n') {
			break;
		}
		buf[len++] = ch;
	}
	buf[len] = '\0';
	return true;
}

// wait_eof reads stdin until its end.
static void
wait_eof(void)
{
	char line[256];

	while (read_line(line, sizeof(line))) { }
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static void
on_leader(rill_client *c, void *arg)
{
	(void) arg;
	if (!rill_local_is_leader(c)) {
		say("error on_leader ran but rill_local_is_leader is false");
	}
	say("leader %ld", (long) getpid());
}

// say_role prints what rill_status says of this process's role.
static void
say_role(void)
{
	rill_node_status st;
	int              rv = rill_status(client, &st, NULL);

	if (rv != RILL_OK) {
		die("status: %s: %s", rill_status_name(rv),
		    rill_last_message());
	}
	if (st.local_leader != rill_local_is_leader(client)) {
		die("status says local_leader %d, rill_local_is_leader %d",
		    st.local_leader, rill_local_is_leader(client));
	}
	say("role %s", st.local_leader ? "leader" : "client");
}

static void
open_dir(const char *dir, uint32_t crash_detect_ms)
{
	rill_local_options lo;
	int                rv;

	rill_local_options_init(&lo);
	lo.on_leader = on_leader;
	if (crash_detect_ms > 0) {
		lo.crash_detect_ms = crash_detect_ms;
	}
	if ((rv = rill_open_local(&client, dir, &lo)) != RILL_OK) {
		die("rill_open_local %s: %s: %s", dir, rill_status_name(rv),
		    rill_last_message());
	}
	say("open %ld", (long) getpid());
}

static void
close_dir(void)
{
	uint64_t t0;

	say_role();
	t0 = mono_ns();
	rill_close(client);
	client = NULL;
	say("bye after %" PRIu64 " ms in rill_close",
	    (mono_ns() - t0) / 1000000u);
}

static void
value_of(char *buf, size_t n, const char *key)
{
	snprintf(buf, n, "value of %s", key);
}

// Mode write ---------------------------------------------------------------

typedef struct writer {
	pthread_t thread;
	int       id, t, n_threads, n;
	int       failed;
	char      why[300];
} writer;

static void *
write_main(void *arg)
{
	writer *w = arg;
	char    key[32], value[64];

	for (int i = w->t; i < w->n; i += w->n_threads) {
		int rv;

		snprintf(key, sizeof(key), "w%02d/%07d", w->id, i);
		value_of(value, sizeof(value), key);
		rv = rill_put(client, key, strlen(key), value, strlen(value),
		    NULL, NULL);
		if (rv != RILL_OK) {
			w->failed = rv;
			snprintf(w->why, sizeof(w->why), "put %s: %s: %s", key,
			    rill_status_name(rv), rill_last_message());
			return NULL;
		}
	}
	return NULL;
}

// verify scans the keys of workers 0..n_workers-1 (n each): each must
// come once, in order, with its value; every 97th is also read with get.
static void
verify(int n_workers, int n)
{
	rill_scan_opts so = {
		.prefix = "w", .prefix_len = 1, .page_size = 997
	};
	rill_scan  *scan;
	const void *k, *v;
	size_t      klen, vlen;
	char        key[32], value[64];
	long        count = 0;
	int         rv;

	if ((rv = rill_scan_open(client, &so, &scan)) != RILL_OK) {
		die("scan: %s", rill_last_message());
	}
	// Keys sort as w00/0000000 < w00/0000001 < ... < w01/0000000.
	for (int j = 0; j < n_workers; j++) {
		for (int i = 0; i < n; i++) {
			snprintf(key, sizeof(key), "w%02d/%07d", j, i);
			value_of(value, sizeof(value), key);
			if (!rill_scan_next(scan, &k, &klen, &v, &vlen)) {
				die("scan ended after %ld keys, before %s: %s",
				    count, key,
				    rill_scan_error(scan) != RILL_OK
				        ? rill_last_message()
				        : "end of range");
			}
			if (klen != strlen(key) || memcmp(k, key, klen) != 0) {
				die("scan gave %.*s where %s was due",
				    (int) klen, (const char *) k, key);
			}
			if (vlen != strlen(value) ||
			    memcmp(v, value, vlen) != 0) {
				die("scan: %s has a wrong value", key);
			}
			count++;
		}
	}
	if (rill_scan_next(scan, &k, &klen, NULL, NULL)) {
		die("scan gave %.*s past the last key", (int) klen,
		    (const char *) k);
	}
	rv = rill_scan_error(scan);
	rill_scan_close(scan);
	if (rv != RILL_OK) {
		die("scan failed at its end: %s", rill_last_message());
	}
	for (int j = 0; j < n_workers; j++) {
		for (int i = j; i < n; i += 97) {
			void  *got;
			size_t glen;
			snprintf(key, sizeof(key), "w%02d/%07d", j, i);
			value_of(value, sizeof(value), key);
			rv = rill_get(
			    client, key, strlen(key), &got, &glen, NULL);
			if (rv != RILL_OK) {
				die("get %s: %s: %s", key,
				    rill_status_name(rv), rill_last_message());
			}
			if (glen != strlen(value) ||
			    memcmp(got, value, glen) != 0) {
				die("get %s: wrong value", key);
			}
			rill_free(got);
		}
	}
	say("verified %ld", count);
}

static int
mode_write(const char *dir, int id, int n, int n_threads)
{
	writer w[MAX_THREADS];
	char   line[256];
	int    workers, count;

	open_dir(dir, 0);
	for (int t = 0; t < n_threads; t++) {
		w[t] = (writer) {
			.id = id, .t = t, .n_threads = n_threads, .n = n
		};
		if (pthread_create(&w[t].thread, NULL, write_main, &w[t]) !=
		    0) {
			die("cannot start a thread");
		}
	}
	for (int t = 0; t < n_threads; t++) {
		pthread_join(w[t].thread, NULL);
	}
	for (int t = 0; t < n_threads; t++) {
		if (w[t].failed != 0) {
			die("%s", w[t].why);
		}
	}
	say("done %d", n);
	while (read_line(line, sizeof(line))) {
		if (sscanf(line, "verify %d %d", &workers, &count) == 2) {
			verify(workers, count);
		}
	}
	close_dir();
	return 0;
}

// Mode load ----------------------------------------------------------------

typedef struct loader {
	pthread_t thread;
	int       id, t;
	long      n_failed;
} loader;

static void *
load_main(void *arg)
{
	loader  *w = arg;
	char     key[40], value[64];
	uint64_t seq;

	for (long i = 0; !atomic_load(&stop_writing); i++) {
		int rv;

		snprintf(key, sizeof(key), "l%02d/%d/%08ld", w->id, w->t, i);
		value_of(value, sizeof(value), key);
		rv = rill_put(client, key, strlen(key), value, strlen(value),
		    &seq, NULL);
		if (rv == RILL_OK) {
			say("ack %s %" PRIu64, key, seq);
		} else if (rv != RILL_CANCELLED) {
			// Not acknowledged: applied or not, it is never
			// written again (the next key is a fresh one).
			say("fail %s %s %s", key, rill_status_name(rv),
			    rill_last_message());
			w->n_failed++;
		}
	}
	return NULL;
}

static int
mode_load(const char *dir, int id, int n_threads)
{
	loader w[MAX_THREADS];

	open_dir(dir, 0);
	for (int t = 0; t < n_threads; t++) {
		w[t] = (loader) { .id = id, .t = t };
		if (pthread_create(&w[t].thread, NULL, load_main, &w[t]) !=
		    0) {
			die("cannot start a thread");
		}
	}
	wait_eof();
	say("eof at %" PRIu64, mono_ns() / 1000000u);
	atomic_store(&stop_writing, true);
	for (int t = 0; t < n_threads; t++) {
		pthread_join(w[t].thread, NULL);
	}
	say("joined at %" PRIu64, mono_ns() / 1000000u);
	close_dir();
	return 0;
}

// Mode scan ----------------------------------------------------------------

static int
mode_scan(const char *dir, int n, int page)
{
	rill_scan_opts so = {
		.prefix = "w00/", .prefix_len = 4, .page_size = (uint32_t) page
	};
	rill_scan  *scan;
	const void *k, *v;
	size_t      klen, vlen;
	char        key[32], value[64];
	int         rv;

	open_dir(dir, 0);
	if ((rv = rill_scan_open(client, &so, &scan)) != RILL_OK) {
		die("scan: %s", rill_last_message());
	}
	for (int i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "w00/%07d", i);
		value_of(value, sizeof(value), key);
		if (!rill_scan_next(scan, &k, &klen, &v, &vlen)) {
			die("scan ended after %d keys, before %s: %s", i, key,
			    rill_scan_error(scan) != RILL_OK
			        ? rill_last_message()
			        : "end of range");
		}
		if (klen != strlen(key) || memcmp(k, key, klen) != 0) {
			die("scan gave %.*s where %s was due", (int) klen,
			    (const char *) k, key);
		}
		if (vlen != strlen(value) || memcmp(v, value, vlen) != 0) {
			die("scan: %s has a wrong value", key);
		}
		if (i == page - 1) {
			say("scanning");
		}
		if (i % page == page - 1) {
			struct timespec ts = { 0, 5000000 };
			nanosleep(&ts, NULL);
		}
	}
	if (rill_scan_next(scan, &k, &klen, NULL, NULL)) {
		die("scan gave %.*s past the last key", (int) klen,
		    (const char *) k);
	}
	rv = rill_scan_error(scan);
	rill_scan_close(scan);
	if (rv != RILL_OK) {
		die("scan failed at its end: %s", rill_last_message());
	}
	say("scanned %d", n);
	wait_eof();
	close_dir();
	return 0;
}

// Modes idle and leadclose ---------------------------------------------------

static int
mode_idle(const char *dir, uint32_t crash_detect_ms)
{
	char line[64];

	open_dir(dir, crash_detect_ms);
	while (read_line(line, sizeof(line))) {
		if (strcmp(line, "role") == 0) {
			say_role();
		}
	}
	close_dir();
	return 0;
}

static int
mode_leadclose(const char *dir)
{
	char line[64];

	open_dir(dir, 0);
	say_role();
	while (read_line(line, sizeof(line))) {
		if (strcmp(line, "close") == 0) {
			rill_close(client);
			say("closed %" PRIu64, mono_ns());
			wait_eof();
			return 0;
		}
	}
	close_dir();
	return 0;
}

static int
usage(void)
{
	fprintf(stderr,
	    "usage: local_worker write DIR ID N THREADS | load DIR ID "
	    "THREADS | scan DIR N PAGE | idle DIR [CRASH_DETECT_MS] | "
	    "leadclose DIR\n");
	return 2;
}

int
main(int argc, char **argv)
{
	int threads;

	if (argc < 3) {
		return usage();
	}
	if (strcmp(argv[1], "write") == 0 && argc == 6) {
		threads = atoi(argv[5]);
		if (threads < 1 || threads > MAX_THREADS) {
			return usage();
		}
		return mode_write(
		    argv[2], atoi(argv[3]), atoi(argv[4]), threads);
	}
	if (strcmp(argv[1], "load") == 0 && argc == 5) {
		threads = atoi(argv[4]);
		if (threads < 1 || threads > MAX_THREADS) {
			return usage();
		}
		return mode_load(argv[2], atoi(argv[3]), threads);
	}
	if (strcmp(argv[1], "scan") == 0 && argc == 5) {
		return mode_scan(argv[2], atoi(argv[3]), atoi(argv[4]));
	}
	if (strcmp(argv[1], "idle") == 0 && (argc == 3 || argc == 4)) {
		return mode_idle(
		    argv[2], argc == 4 ? (uint32_t) atoi(argv[3]) : 0);
	}
	if (strcmp(argv[1], "leadclose") == 0 && argc == 3) {
		return mode_leadclose(argv[2]);
	}
	return usage();
}
