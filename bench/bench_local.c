// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// bench_local: the figures of the embedded multi-process mode
// (rill_open_local), each against a baseline or bound measured in the
// same run (see bench/README.md, "Local mode figures"):
//
//   put       puts from a process that is not the leader, through its
//             rill_open_local handle over ipc:// (async, --clients in
//             flight, 8 unless given), the leader a process of its own
//             (rill_bench --local-leader DIR); against nng REQ/REP round
//             trips over ipc:// to the echo server (a process of its
//             own) with the same clients and message size
//   failover  two leader processes of a dir (one leads, one waits) and
//             this process as a client of the dir's socket: the leader
//             killed with SIGKILL, then the time until a put of this
//             process succeeds; --kills times (a new waiting process
//             started after each), the median reported
//
// Every process started runs in a directory of its own under the run's
// temporary directory and is stopped by its pid at the end.
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rill/local.h>
#include <rill/rill.h>

#include "bench.h"

#define START_TIMEOUT_MS 20000
#define STOP_TIMEOUT_MS 10000
#define POLL_MS 2
// A put after a kill gets this long (it retries across the failover).
#define FAILOVER_DEADLINE_MS 30000
#define MAX_KILLS 1000

const char *
rill_bench_local_figure_name(rill_bench_local_figure f)
{
	switch (f) {
	case RILL_BENCH_LOCAL_PUT:
		return "put";
	case RILL_BENCH_LOCAL_FAILOVER:
		return "failover";
	default:
		return "?";
	}
}

// pause_ms sleeps ms milliseconds, between two looks at a condition.
static void
pause_ms(uint64_t ms)
{
	struct timespec ts = { .tv_sec = (time_t) (ms / 1000),
		.tv_nsec               = (long) (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

// The leader processes
// ----------------------------------------------------------

int
rill_bench_local_leader(const char *dir, const char *sync)
{
	rill_local_options lo;
	rill_client       *c;
	sigset_t           sigs;
	int                sig, rv;

	// SIGTERM ends it cleanly (its handle closes, which hands over).
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	rill_local_options_init(&lo);
	lo.sync = strcmp(sync, "none") == 0 ? RILL_LOCAL_SYNC_NONE
	    : strcmp(sync, "interval") == 0 ? RILL_LOCAL_SYNC_INTERVAL
	                                    : RILL_LOCAL_SYNC_ALWAYS;
	if ((rv = rill_open_local(&c, dir, &lo)) != RILL_OK) {
		fprintf(stderr, "rill_bench: rill_open_local %s: %s: %s\n",
		    dir, rill_status_name(rv), rill_last_message());
		return 1;
	}
	printf("ready %ld\n", (long) getpid());
	fflush(stdout);
	sigwait(&sigs, &sig);
	rill_close(c);
	return 0;
}

// proc is a process of a figure: an echo server or a leader process.
typedef struct proc {
	char  name[32];
	char  log[PATH_MAX];
	pid_t pid;
} proc;

// proc_start starts this binary with args (NULL-terminated, after the
// program name), its output in <tmp>/<name>.log.
static int
proc_start(const rill_bench_local *l, proc *p, const char *name,
    const char *const *args)
{
	char  self[PATH_MAX], err[512];
	char *argv[8];
	int   n = 0;

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->log, sizeof(p->log), "%s/%s.log", l->tmp, name);
	if (rill_bench_self_path(self, sizeof(self)) != 0) {
		fprintf(stderr, "rill_bench: cannot find this binary\n");
		return -1;
	}
	argv[n++] = self;
	for (int i = 0; args[i] != NULL && n < 7; i++) {
		argv[n++] = (char *) args[i];
	}
	argv[n] = NULL;
	if ((p->pid = rill_bench_spawn(argv, p->log, err, sizeof(err))) < 0) {
		fprintf(stderr, "rill_bench: start %s: %s\n", name, err);
		p->pid = 0;
		return -1;
	}
	return 0;
}

// proc_stop stops p with SIGTERM (by its pid), SIGKILL after a while.
static void
proc_stop(proc *p)
{
	if (p->pid > 0) {
		rill_bench_stop(p->pid, STOP_TIMEOUT_MS);
		p->pid = 0;
	}
}

// proc_said tells whether p's log holds a line starting with word.
static bool
proc_said(const proc *p, const char *word)
{
	FILE *fp = fopen(p->log, "r");
	char  line[512];
	bool  found = false;

	if (fp == NULL) {
		return false;
	}
	while (!found && fgets(line, sizeof(line), fp) != NULL) {
		found = strncmp(line, word, strlen(word)) == 0;
	}
	fclose(fp);
	return found;
}

// owner_of reads the pid and the time the lock was taken (since_ns,
// CLOCK_MONOTONIC) from the owner record of dir; false if none.
static bool
owner_of(const char *dir, long *pidp, uint64_t *sincep)
{
	rill_local_owner o;

	if (rill_local_read_owner(dir, &o) != RILL_OK) {
		return false;
	}
	*pidp   = o.pid;
	*sincep = o.since_ns;
	return true;
}

// leader_start starts a leader process on dir and waits until it has
// its handle (it said "ready"); with lead, until it also holds the
// dir's lock (the owner record names it).
static int
leader_start(const rill_bench_local *l, proc *p, const char *name,
    const char *dir, bool lead)
{
	const char *args[] = { "--local-leader", dir, "--sync", l->sync,
		NULL };
	uint64_t    end = rill_bench_now_ns() + START_TIMEOUT_MS * 1000000ull;
	long        pid;
	uint64_t    since;

	if (proc_start(l, p, name, args) != 0) {
		return -1;
	}
	while (!rill_bench_interrupted) {
		if (proc_said(p, "ready") &&
		    (!lead ||
		        (owner_of(dir, &pid, &since) && pid == p->pid))) {
			return 0;
		}
		if (!rill_bench_child_alive(p->pid, NULL) ||
		    rill_bench_now_ns() >= end) {
			fprintf(
			    stderr, "rill_bench: %s did not start\n", name);
			rill_bench_print_log_tail(p->log, 20);
			if (!rill_bench_child_alive(p->pid, NULL)) {
				p->pid = 0;
			}
			return -1;
		}
		pause_ms(POLL_MS);
	}
	return -1;
}

// Figure: puts of a process that is not the leader
// -----------------------------

// run_target runs the put workload on target proto with arg into *res;
// failed calls are reported (and make the run's exit status 1).
static int
run_target(rill_bench_local *l, const rill_bench_target *proto, void *arg,
    rill_bench_result *res)
{
	rill_bench_target t = *proto;
	int               rv;

	t.arg = arg;
	rv    = rill_bench_run(&t, l->cfg, res);
	if (rv != 0) {
		fprintf(
		    stderr, "rill_bench: %s: %s\n", t.name, res->first_error);
		return -1;
	}
	if (res->errors > 0) {
		fprintf(stderr,
		    "rill_bench: %s: %" PRIu64 " calls failed (not counted), "
		    "the first: %s\n",
		    t.name, res->errors, res->first_error);
		l->had_errors = true;
	}
	return res->ops > 0 ? 0 : -1;
}

// print_row prints one line of the human table of the put figure.
static void
print_row(const char *name, const rill_bench_result *r)
{
	printf("  %-22s %12.0f %10.1f %10.1f %10.1f\n", name, r->ops_per_s,
	    rill_bench_pct_us(&r->hist, 0.5),
	    rill_bench_pct_us(&r->hist, 0.99),
	    rill_bench_pct_us(&r->hist, 0.999));
}

// fig_put measures the put figure (see the top of this file).
static int
fig_put(rill_bench_local *l)
{
	static rill_bench_result rill, echo_res; // hold histograms
	rill_bench_config       *cfg = l->cfg;
	rill_bench_workload      w   = cfg->workload;
	rill_bench_mode          m   = cfg->mode;
	uint64_t                *seq = cfg->key_seq;
	char                     dir[PATH_MAX], target[PATH_MAX + 8];
	char                     echo_url[PATH_MAX + 8], err[512];
	proc                     leader = { 0 }, echo = { 0 };
	rill_bench_result       *er = &echo_res;
	rill_client             *c  = NULL;
	int                      rv, ret = -1;

	memset(&rill, 0, sizeof(rill));
	memset(&echo_res, 0, sizeof(echo_res));
	snprintf(dir, sizeof(dir), "%s/local-put", l->tmp);
	snprintf(target, sizeof(target), "local:%s", dir);
	cfg->workload = RILL_BENCH_PUT;
	cfg->mode     = RILL_BENCH_ASYNC;
	cfg->key_seq  = NULL;
	if (leader_start(l, &leader, "local-put-leader", dir, true) != 0) {
		goto out;
	}
	// This process is a client: the leader holds the lock.
	rv = rill_open_local(&c, dir, NULL);
	if (rv != RILL_OK || rill_local_is_leader(c)) {
		fprintf(stderr,
		    "rill_bench: this process should be a client of %s: %s\n",
		    dir, rv != RILL_OK ? rill_last_message() : "it leads");
		goto out;
	}
	fprintf(stderr,
	    "rill_bench: local put: %d clients in flight, a process that "
	    "is not the leader (pid %d leads) ...\n",
	    cfg->clients, (int) leader.pid);
	if (run_target(l, &rill_bench_rill_target, target, &rill) != 0 ||
	    rill_bench_interrupted) {
		goto out;
	}
	if (!rill_bench_child_alive(leader.pid, NULL)) {
		fprintf(
		    stderr, "rill_bench: the leader died during the run\n");
		rill_bench_print_log_tail(leader.log, 20);
		leader.pid = 0;
		goto out;
	}
	if (l->baselines) {
		const char *args[] = { "--echo-server", echo_url, NULL };

		snprintf(
		    echo_url, sizeof(echo_url), "ipc://%s/echo.sock", l->tmp);
		if (proc_start(l, &echo, "local-echo", args) != 0) {
			goto out;
		}
		if (!rill_bench_echo_wait(
		        echo_url, echo.pid, 10000, err, sizeof(err))) {
			fprintf(stderr, "rill_bench: %s\n", err);
			rill_bench_print_log_tail(echo.log, 20);
			goto out;
		}
		fprintf(stderr, "rill_bench: local put: ipc echo ...\n");
		if (run_target(l, &rill_bench_echo_target, echo_url, er) !=
		    0) {
			goto out;
		}
	}
	if (l->json) {
		printf("{\"workload\":\"local-put\",\"clients\":%d,"
		       "\"mode\":\"async\",\"connections\":%d,"
		       "\"value_size\":%zu,\"sync\":\"%s\"",
		    cfg->clients, cfg->connections, cfg->value_size, l->sync);
		rill_bench_json_num("ops_per_s", true, rill.ops_per_s, "%.1f");
		rill_bench_json_num("p50_us", true,
		    rill_bench_pct_us(&rill.hist, 0.5), "%.1f");
		rill_bench_json_num("p99_us", true,
		    rill_bench_pct_us(&rill.hist, 0.99), "%.1f");
		rill_bench_json_num(
		    "echo_ops_per_s", l->baselines, er->ops_per_s, "%.1f");
		rill_bench_json_num("ratio_echo",
		    l->baselines && er->ops_per_s > 0,
		    er->ops_per_s > 0 ? rill.ops_per_s / er->ops_per_s : 0,
		    "%.4f");
		printf("}\n");
	} else {
		printf("\n== local-put: puts of a process that is not the "
		       "leader, over ipc://, %d clients, %zu B keys, %zu B "
		       "values, sync %s, %.1f s measured after %.1f s "
		       "warm-up\n",
		    cfg->clients, cfg->key_size, cfg->value_size, l->sync,
		    cfg->duration_s, cfg->warmup_s);
		printf("  %-22s %12s %10s %10s %10s\n", "", "ops/s", "p50 us",
		    "p99 us", "p999 us");
		print_row("rill_open_local put", &rill);
		if (l->baselines) {
			print_row("nng ipc echo", er);
			printf("  put/echo %.3f (target >= 0.5)\n",
			    rill.ops_per_s / er->ops_per_s);
		}
	}
	fflush(stdout);
	ret = 0;
out:
	cfg->workload = w;
	cfg->mode     = m;
	cfg->key_seq  = seq;
	rill_close(c);
	proc_stop(&echo);
	proc_stop(&leader);
	return ret;
}

// Figure: failover after SIGKILL
// -------------------------------------------------

// cmp_u64 orders u64 values for qsort.
static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

	return x < y ? -1 : x > y;
}

// failover_put puts one key through c and returns the time from t0 to
// its acknowledgement in *nsp.
static int
failover_put(rill_client *c, int k, uint64_t t0, uint64_t *nsp)
{
	char key[32];
	int  rv;

	snprintf(key, sizeof(key), "failover/%06d", k);
	rv = rill_put(c, key, strlen(key), "x", 1, NULL, NULL);
	if (rv != RILL_OK) {
		fprintf(stderr, "rill_bench: failover put %s: %s: %s\n", key,
		    rill_status_name(rv), rill_last_message());
		return -1;
	}
	*nsp = rill_bench_now_ns() - t0;
	return 0;
}

// fig_failover measures the failover figure (see the top of this file).
static int
fig_failover(rill_bench_local *l)
{
	char         dir[PATH_MAX], url[PATH_MAX + 16], name[32];
	proc         procs[2];
	uint64_t    *put_ns = NULL, *lock_ns = NULL;
	int          n_kills = l->kills, done = 0, ret = -1, spawned = 0;
	rill_options o;
	rill_client *c = NULL;
	uint64_t     warm;

	memset(procs, 0, sizeof(procs));
	snprintf(dir, sizeof(dir), "%s/local-failover", l->tmp);
	snprintf(url, sizeof(url), "ipc://%s/rill.sock", dir);
	if ((put_ns = calloc((size_t) n_kills, sizeof(*put_ns))) == NULL ||
	    (lock_ns = calloc((size_t) n_kills, sizeof(*lock_ns))) == NULL) {
		fprintf(stderr, "rill_bench: out of memory\n");
		goto out;
	}
	snprintf(name, sizeof(name), "local-failover-%d", spawned++);
	if (leader_start(l, &procs[0], name, dir, true) != 0) {
		goto out;
	}
	snprintf(name, sizeof(name), "local-failover-%d", spawned++);
	if (leader_start(l, &procs[1], name, dir, false) != 0) {
		goto out;
	}
	// This process is a plain client of the socket, as a handle of
	// rill_open_local is (same options), but never a candidate: it must
	// not lead, since it measures the kills.
	rill_local_options lo;
	rill_local_options_init(&lo);
	o             = lo.client;
	o.deadline_ms = FAILOVER_DEADLINE_MS;
	if (rill_open(&c, url, &o) != RILL_OK ||
	    failover_put(c, -1, rill_bench_now_ns(), &warm) != 0) {
		fprintf(stderr, "rill_bench: cannot reach %s: %s\n", url,
		    rill_last_message());
		goto out;
	}
	fprintf(stderr,
	    "rill_bench: local failover: %d kills of the leader ...\n",
	    n_kills);
	for (; done < n_kills && !rill_bench_interrupted; done++) {
		long     pid;
		uint64_t since, t0;
		int      victim = -1;

		if (!owner_of(dir, &pid, &since)) {
			fprintf(stderr, "rill_bench: no owner record in %s\n",
			    dir);
			goto out;
		}
		for (int i = 0; i < 2; i++) {
			if (procs[i].pid == pid) {
				victim = i;
			}
		}
		if (victim < 0) {
			fprintf(stderr,
			    "rill_bench: pid %ld leads %s, not one of the "
			    "processes started\n",
			    pid, dir);
			goto out;
		}
		t0 = rill_bench_now_ns();
		kill(procs[victim].pid, SIGKILL);
		waitpid(procs[victim].pid, NULL, 0);
		procs[victim].pid = 0;
		if (failover_put(c, done, t0, &put_ns[done]) != 0) {
			goto out;
		}
		if (owner_of(dir, &pid, &since) && since > t0) {
			lock_ns[done] = since - t0;
		}
		// A new process waits in the victim's place.
		snprintf(name, sizeof(name), "local-failover-%d", spawned++);
		if (leader_start(l, &procs[victim], name, dir, false) != 0) {
			goto out;
		}
	}
	if (done < n_kills) {
		goto out;
	}
	qsort(put_ns, (size_t) n_kills, sizeof(*put_ns), cmp_u64);
	qsort(lock_ns, (size_t) n_kills, sizeof(*lock_ns), cmp_u64);
	double median = (double) put_ns[n_kills / 2] / 1e6;
	if (n_kills % 2 == 0) {
		median = ((double) put_ns[n_kills / 2 - 1] +
		             (double) put_ns[n_kills / 2]) /
		    2e6;
	}
	double lock_median = (double) lock_ns[n_kills / 2] / 1e6;
	if (l->json) {
		printf("{\"workload\":\"local-failover\",\"kills\":%d,"
		       "\"sync\":\"%s\"",
		    n_kills, l->sync);
		rill_bench_json_num("median_ms", true, median, "%.1f");
		rill_bench_json_num(
		    "min_ms", true, (double) put_ns[0] / 1e6, "%.1f");
		rill_bench_json_num("max_ms", true,
		    (double) put_ns[n_kills - 1] / 1e6, "%.1f");
		rill_bench_json_num(
		    "lock_median_ms", true, lock_median, "%.1f");
		printf("}\n");
	} else {
		printf("\n== local-failover: the leader killed with SIGKILL "
		       "%d times, then a put from another process, sync %s\n",
		    n_kills, l->sync);
		printf("  kill to acknowledged put: median %.1f ms, min %.1f "
		       "ms, max %.1f ms (target: median <= 1500 ms)\n",
		    median, (double) put_ns[0] / 1e6,
		    (double) put_ns[n_kills - 1] / 1e6);
		printf("  kill to lock taken by the next leader: median %.1f "
		       "ms\n",
		    lock_median);
	}
	fflush(stdout);
	ret = 0;
out:
	rill_close(c);
	for (int i = 0; i < 2; i++) {
		proc_stop(&procs[i]);
	}
	free(put_ns);
	free(lock_ns);
	return ret;
}

int
rill_bench_local_run(rill_bench_local *l)
{
	int (*const run[RILL_BENCH_N_LOCAL])(rill_bench_local *) = {
		[RILL_BENCH_LOCAL_PUT]      = fig_put,
		[RILL_BENCH_LOCAL_FAILOVER] = fig_failover,
	};

	if (l->kills < 1 || l->kills > MAX_KILLS) {
		fprintf(stderr, "rill_bench: --kills: 1 to %d\n", MAX_KILLS);
		return -1;
	}
	for (int i = 0; i < RILL_BENCH_N_LOCAL; i++) {
		if (!l->figures[i]) {
			continue;
		}
		if (run[i](l) != 0 || rill_bench_interrupted) {
			return -1;
		}
	}
	return 0;
}
