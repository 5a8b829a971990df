// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// bench_follow: the figures of followers, each set against a baseline
// measured in the same run (see bench/README.md, "Follower figures"):
//
//   lag         puts paced at a steady rate (10,000/s) to a leader with
//               one follower; per seq, the time from the leader's
//               acknowledgement to the follower's answer of a FetchLog
//               long-poll that carries it, both on this process's clock;
//               against the leader's own acknowledgement latency
//   catchup     a follower stopped, N records put to the leader, the
//               follower restarted and timed until its applied seq is the
//               leader's last; against the same records appended to an
//               fdatasync'd file and written to a LevelDB in this process,
//               in groups of the size a follower fetches
//   throughput  the put workload (async, --clients in flight) on a fresh
//               leader with two followers streaming, against the same on
//               a fresh leader with none
//
// Every figure starts its own rillds (a leader, followers with --follow)
// in directories of its own under the run's temporary directory, on free
// loopback ports, and stops them by pid at its end.
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <leveldb/c.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <rill/rill.h>

#include "rill/v1/rill.pb-c.h"

#include "bench.h"

// A follower asks for this much log a FetchLog (service/server.c's
// FOLLOW_FETCH_BYTES): the size of the groups it applies while it catches
// up, and of the baseline's.
#define FOLLOW_FETCH_BYTES ((size_t) 4 << 20)
// The lag figure's long-poll, as a follower's own.
#define FETCH_WAIT_MS 1000
#define FETCH_SLACK_MS 5000
// Puts the lag figure keeps in flight at most: beyond, the pacing waits
// (and the achieved rate says so).
#define LAG_MAX_IN_FLIGHT 1024
// After the last put, how long the lag figure waits for the follower.
#define LAG_TAIL_MS 30000
// The catch-up figure's load: single puts kept in flight.
#define CATCHUP_IN_FLIGHT 256
// Status is polled this often while a follower catches up.
#define POLL_MS 10
#define START_TIMEOUT_MS 20000
#define STOP_TIMEOUT_MS 10000
#define FOLLOW_TIMEOUT_MS 60000
#define N_TP_FOLLOWERS 2

const char *
rill_bench_follow_figure_name(rill_bench_follow_figure f)
{
	switch (f) {
	case RILL_BENCH_FOLLOW_LAG:
		return "lag";
	case RILL_BENCH_FOLLOW_CATCHUP:
		return "catchup";
	case RILL_BENCH_FOLLOW_THROUGHPUT:
		return "throughput";
	default:
		return "?";
	}
}

// sleep_until sleeps to the monotonic time t (ns).
static void
sleep_until(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t) (t / 1000000000u),
		.tv_nsec               = (long) (t % 1000000000u) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	    EINTR) {
		if (rill_bench_interrupted) {
			return;
		}
	}
}

// The rillds ----------------------------------------------------------------

// node is one rilld of a figure: a leader, or a follower of url follow.
// Its port, directory and log stay the same across restarts.
typedef struct node {
	char  name[32];
	char  url[64];
	char  follow[64]; // "" for a leader
	char  data[PATH_MAX];
	char  log[PATH_MAX];
	pid_t pid;
} node;

static int
node_init(
    const rill_bench_follow *f, node *nd, const char *name, const char *follow)
{
	int port = rill_bench_free_port();

	memset(nd, 0, sizeof(*nd));
	if (port < 0) {
		fprintf(stderr, "rill_bench: no free TCP port\n");
		return -1;
	}
	snprintf(nd->name, sizeof(nd->name), "%s", name);
	snprintf(nd->url, sizeof(nd->url), "tcp://127.0.0.1:%d", port);
	snprintf(nd->follow, sizeof(nd->follow), "%s",
	    follow != NULL ? follow : "");
	snprintf(nd->data, sizeof(nd->data), "%s/%s", f->tmp, name);
	snprintf(nd->log, sizeof(nd->log), "%s/%s.log", f->tmp, name);
	return 0;
}

// node_start starts nd's rilld and waits until it answers Status (a
// follower answers at once, while it bootstraps too).
static int
node_start(const rill_bench_follow *f, node *nd)
{
	char  err[512];
	char *argv[16 + RILL_BENCH_MAX_RILLD_ARGS];
	int   n = 0;

	argv[n++] = (char *) f->rilld;
	argv[n++] = "--data-dir";
	argv[n++] = nd->data;
	argv[n++] = "--listen";
	argv[n++] = nd->url;
	// Each on a port of its own: the figures do not use the admin API.
	argv[n++] = "--admin-listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--sync";
	argv[n++] = (char *) f->sync;
	if (nd->follow[0] != '\0') {
		argv[n++] = "--follow";
		argv[n++] = nd->follow;
	}
	for (int i = 0; i < f->n_rilld_args; i++) {
		argv[n++] = f->rilld_args[i];
	}
	argv[n] = NULL;
	if ((nd->pid = rill_bench_spawn(argv, nd->log, err, sizeof(err))) <
	    0) {
		fprintf(stderr, "rill_bench: start %s: %s\n", nd->name, err);
		nd->pid = 0;
		return -1;
	}
	fprintf(stderr, "rill_bench: %s (pid %d) on %s%s%s\n", nd->name,
	    (int) nd->pid, nd->url, nd->follow[0] ? ", following " : "",
	    nd->follow);
	if (!rill_bench_rill_wait(
	        nd->url, nd->pid, START_TIMEOUT_MS, err, sizeof(err))) {
		fprintf(stderr, "rill_bench: %s: %s\n", nd->name, err);
		rill_bench_print_log_tail(nd->log, 20);
		if (!rill_bench_child_alive(nd->pid, NULL)) {
			nd->pid = 0;
		}
		return -1;
	}
	return 0;
}

// node_alive reports a rilld that died under the load.
static bool
node_alive(node *nd)
{
	char why[128];
	int  status;

	if (nd->pid > 0 && !rill_bench_child_alive(nd->pid, &status)) {
		rill_bench_describe_status(status, why, sizeof(why));
		fprintf(stderr, "rill_bench: %s %s during the run\n", nd->name,
		    why);
		rill_bench_print_log_tail(nd->log, 30);
		nd->pid = 0;
		return false;
	}
	return nd->pid > 0;
}

// node_stop stops nd's rilld with SIGTERM (by its pid) and tells whether
// it ended cleanly.
static int
node_stop(node *nd)
{
	char why[128];
	int  status;

	if (nd->pid <= 0) {
		return 0;
	}
	status  = rill_bench_stop(nd->pid, STOP_TIMEOUT_MS);
	nd->pid = 0;
	if (status < 0 ||
	    !((WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
	        (WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM))) {
		rill_bench_describe_status(status, why, sizeof(why));
		fprintf(
		    stderr, "rill_bench: %s %s on SIGTERM\n", nd->name, why);
		rill_bench_print_log_tail(nd->log, 20);
		return -1;
	}
	return 0;
}

// node_remove deletes nd's data (not its log, which the temporary
// directory's removal takes), unless the directory is to be kept.
static void
node_remove(const rill_bench_follow *f, node *nd)
{
	if (!f->keep_dir && nd->data[0] != '\0') {
		rill_bench_remove_tree(nd->data);
	}
}

// count_lines returns how many lines of path contain word.
static int
count_lines(const char *path, const char *word)
{
	FILE *fp = fopen(path, "r");
	char  line[4096];
	int   n = 0;

	if (fp == NULL) {
		return 0;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strstr(line, word) != NULL) {
			n++;
		}
	}
	fclose(fp);
	return n;
}

static int
open_client(rill_client **clientp, const char *url)
{
	int rv = rill_open(clientp, url, NULL);

	if (rv != RILL_OK) {
		fprintf(stderr, "rill_bench: rill_open %s: %s: %s\n", url,
		    rill_status_name(rv), rill_last_message());
		return -1;
	}
	return 0;
}

static int
status_of(rill_client *c, rill_node_status *st, uint32_t deadline_ms)
{
	rill_callopts co = { .deadline_ms = deadline_ms };

	return rill_status(c, st, &co);
}

// last_seq_of returns the last seq of the node c talks to in *seqp.
static int
last_seq_of(rill_client *c, const char *who, uint64_t *seqp)
{
	rill_node_status st;
	int              rv = status_of(c, &st, 5000);

	if (rv != RILL_OK) {
		fprintf(stderr, "rill_bench: Status of %s: %s: %s\n", who,
		    rill_status_name(rv), rill_last_message());
		return -1;
	}
	*seqp = st.last_seq;
	return 0;
}

// wait_applied polls the Status of follower nd (through c) every poll_ms
// until its applied seq reaches seq; *seenp (if not NULL) gets the time
// it did (ns). Gives up after timeout_ms, when nd dies or on Ctrl-C.
static int
wait_applied(node *nd, rill_client *c, uint64_t seq, uint64_t poll_ms,
    uint64_t timeout_ms, uint64_t *seenp)
{
	uint64_t end      = rill_bench_now_ns() + timeout_ms * 1000000u;
	uint64_t applied  = 0;
	char     why[320] = "no answer";

	while (!rill_bench_interrupted) {
		rill_node_status st;
		int              rv = status_of(c, &st, 1000);

		if (rv == RILL_OK) {
			applied = st.applied_seq;
			if (applied >= seq) {
				if (seenp != NULL) {
					*seenp = rill_bench_now_ns();
				}
				return 0;
			}
		} else {
			snprintf(why, sizeof(why), "%s: %s",
			    rill_status_name(rv), rill_last_message());
		}
		if (!node_alive(nd)) {
			return -1;
		}
		if (rill_bench_now_ns() >= end) {
			fprintf(stderr,
			    "rill_bench: %s applied seq %" PRIu64
			    ", not %" PRIu64 ", after %.0f s (last Status: "
			    "%s)\n",
			    nd->name, applied, seq, (double) timeout_ms / 1e3,
			    rv == RILL_OK ? "ok" : why);
			rill_bench_print_log_tail(nd->log, 20);
			return -1;
		}
		sleep_until(rill_bench_now_ns() + poll_ms * 1000000u);
	}
	return -1;
}

// settle puts one record to the leader and waits until every follower has
// applied the leader's last seq: then each has bootstrapped and streams.
static int
settle(node *leader, rill_client *lc, node *followers, int n_followers)
{
	static const char key[] = "~rill-bench-follow";
	uint64_t          last;
	int               rv;

	rv = rill_put(lc, key, sizeof(key) - 1, "x", 1, &last, NULL);
	if (rv != RILL_OK) {
		fprintf(stderr, "rill_bench: put to %s: %s: %s\n",
		    leader->name, rill_status_name(rv), rill_last_message());
		return -1;
	}
	for (int i = 0; i < n_followers; i++) {
		rill_client *fc;

		if (open_client(&fc, followers[i].url) != 0) {
			return -1;
		}
		rv = wait_applied(
		    &followers[i], fc, last, 50, FOLLOW_TIMEOUT_MS, NULL);
		rill_close(fc);
		if (rv != 0) {
			return -1;
		}
	}
	return 0;
}

// Figure: replication lag ---------------------------------------------------

// lag_run is the lag figure's state. ack_ns and seen_ns are indexed by
// seq - base - 1: when the leader acknowledged the put of that seq (for
// puts started in the measured window; 0 otherwise) and when the
// fetcher first got that seq from the follower. The put callbacks write
// ack_ns (each its own entries), the fetcher seen_ns; both are read once
// the callbacks have run (rill_close) and the fetcher has been joined.
typedef struct lag_run {
	const rill_bench_config *cfg;
	rill_client             *client; // the leader
	uint64_t                 base;   // the leader's last seq before
	uint64_t                 cap;    // entries of ack_ns and seen_ns
	uint64_t                *ack_ns;
	uint64_t                *seen_ns;
	uint64_t                 win_start, win_end; // ns
	atomic_int               in_flight;
	atomic_uint_fast64_t     max_seq; // the highest seq acknowledged
	pthread_mutex_t          mtx;     // guards what follows
	rill_bench_hist          ack;     // the leader's ack latency
	uint64_t                 acked;   // measured puts acknowledged
	uint64_t                 failed;
	uint64_t                 beyond; // seqs past cap (not measured)
	char                     first_error[320];
} lag_run;

typedef struct lag_call {
	lag_run *run;
	uint64_t t0;
} lag_call;

static void
lag_put_cb(void *arg, const rill_result *res)
{
	lag_call *c        = arg;
	lag_run  *r        = c->run;
	uint64_t  now      = rill_bench_now_ns();
	bool      measured = c->t0 >= r->win_start && c->t0 < r->win_end;

	if (res->code == RILL_OK) {
		uint64_t m = atomic_load(&r->max_seq);
		bool in = res->seq > r->base && res->seq - r->base <= r->cap;

		while (res->seq > m &&
		    !atomic_compare_exchange_weak(&r->max_seq, &m, res->seq)) {
		}
		if (measured && in) {
			r->ack_ns[res->seq - r->base - 1] = now;
		}
		pthread_mutex_lock(&r->mtx);
		if (measured) {
			rill_bench_hist_add(&r->ack, now - c->t0);
			r->acked++;
			r->beyond += !in;
		}
		pthread_mutex_unlock(&r->mtx);
	} else {
		pthread_mutex_lock(&r->mtx);
		if (r->failed++ == 0) {
			rill_bench_errf(r->first_error, sizeof(r->first_error),
			    "rill put: %s: %s", rill_status_name(res->code),
			    res->message);
		}
		pthread_mutex_unlock(&r->mtx);
	}
	free(c);
	atomic_fetch_sub(&r->in_flight, 1);
}

// fetcher long-polls the follower with FetchLog, as a watcher does, and
// notes when each seq first arrives.
typedef struct fetcher {
	lag_run             *run;
	const char          *url;
	atomic_uint_fast64_t until;    // done once pos reaches it
	atomic_uint_fast64_t deadline; // ns; 0: none yet
	uint64_t             pos;      // the last seq received
	uint64_t             replies;
	uint64_t             retries; // answers other than OK, lost calls
	bool                 failed;
	char                 err[320];
} fetcher;

static int
fetch_once(fetcher *fe, nng_socket sock, uint64_t client_id,
    uint64_t request_id, Rill__V1__Response **respp)
{
	Rill__V1__FetchLogRequest fl  = RILL__V1__FETCH_LOG_REQUEST__INIT;
	Rill__V1__Request         req = RILL__V1__REQUEST__INIT;
	nng_msg                  *msg;
	int                       rv;

	fl.generation  = "";
	fl.after_seq   = fe->pos;
	fl.wait_ms     = FETCH_WAIT_MS;
	req.request_id = request_id;
	req.client_id  = client_id;
	req.body_case  = RILL__V1__REQUEST__BODY_FETCH_LOG;
	req.fetch_log  = &fl;
	if ((rv = nng_msg_alloc(
	         &msg, rill__v1__request__get_packed_size(&req))) != 0) {
		return rv;
	}
	rill__v1__request__pack(&req, nng_msg_body(msg));
	if ((rv = nng_sendmsg(sock, msg, 0)) != 0) {
		nng_msg_free(msg);
		return rv;
	}
	if ((rv = nng_recvmsg(sock, &msg, 0)) != 0) {
		return rv;
	}
	*respp = rill__v1__response__unpack(
	    NULL, nng_msg_len(msg), nng_msg_body(msg));
	nng_msg_free(msg);
	return *respp == NULL ? NNG_EINVAL : 0;
}

static void *
fetcher_main(void *arg)
{
	fetcher   *fe = arg;
	lag_run   *r  = fe->run;
	nng_socket sock;
	uint64_t   client_id = rill_bench_seed(11) | 1, request_id = 0;
	int        rv;

	if ((rv = nng_req0_open(&sock)) != 0) {
		rill_bench_errf(fe->err, sizeof(fe->err), "req socket: %s",
		    nng_strerror(rv));
		fe->failed = true;
		return NULL;
	}
	if ((rv = nng_socket_set_ms(
	         sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE)) != 0 ||
	    (rv = nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO,
	         FETCH_WAIT_MS + FETCH_SLACK_MS)) != 0 ||
	    (rv = nng_socket_set_ms(sock, NNG_OPT_SENDTIMEO, 5000)) != 0 ||
	    (rv = nng_socket_set_size(sock, NNG_OPT_RECVMAXSZ, 64u << 20)) !=
	        0 ||
	    (rv = nng_dial(sock, fe->url, NULL, 0)) != 0) {
		rill_bench_errf(fe->err, sizeof(fe->err), "follower %s: %s",
		    fe->url, nng_strerror(rv));
		fe->failed = true;
		nng_close(sock);
		return NULL;
	}
	while (!rill_bench_interrupted && fe->pos < atomic_load(&fe->until)) {
		Rill__V1__Response *resp     = NULL;
		uint64_t            deadline = atomic_load(&fe->deadline), now;

		if (deadline != 0 && rill_bench_now_ns() >= deadline) {
			rill_bench_errf(fe->err, sizeof(fe->err),
			    "the follower served seq %" PRIu64 ", not %" PRIu64
			    ", %d s after the last put",
			    fe->pos, (uint64_t) atomic_load(&fe->until),
			    LAG_TAIL_MS / 1000);
			fe->failed = true;
			break;
		}
		rv  = fetch_once(fe, sock, client_id, ++request_id, &resp);
		now = rill_bench_now_ns();
		if (rv != 0) {
			// A lost call: try again (the deadline bounds it).
			if (fe->retries++ == 0) {
				rill_bench_errf(fe->err, sizeof(fe->err),
				    "FetchLog: %s", nng_strerror(rv));
			}
			rill_bench_sleep_ms(POLL_MS);
			continue;
		}
		if (resp->code != RILL__V1__CODE__OK ||
		    resp->body_case != RILL__V1__RESPONSE__BODY_FETCH_LOG) {
			// UNAVAILABLE or OUT_OF_RANGE (the follower behind
			// after_seq) are passing; anything else ends it.
			int code = (int) resp->code;

			if (fe->retries++ == 0 ||
			    (code != RILL_UNAVAILABLE &&
			        code != RILL_OUT_OF_RANGE)) {
				rill_bench_errf(fe->err, sizeof(fe->err),
				    "FetchLog after %" PRIu64 ": %s: %s",
				    fe->pos, rill_status_name(code),
				    resp->message);
			}
			rill__v1__response__free_unpacked(resp, NULL);
			if (code != RILL_UNAVAILABLE &&
			    code != RILL_OUT_OF_RANGE) {
				fe->failed = true;
				break;
			}
			rill_bench_sleep_ms(POLL_MS);
			continue;
		}
		fe->replies++;
		for (size_t i = 0; i < resp->fetch_log->n_records; i++) {
			uint64_t seq = resp->fetch_log->records[i]->seq;

			if (seq > r->base && seq - r->base <= r->cap &&
			    r->seen_ns[seq - r->base - 1] == 0) {
				r->seen_ns[seq - r->base - 1] = now;
			}
			if (seq > fe->pos) {
				fe->pos = seq;
			}
		}
		rill__v1__response__free_unpacked(resp, NULL);
	}
	nng_close(sock);
	return NULL;
}

// pace puts at rate a second, for warm-up plus duration, each started at
// its due time (or as soon after as the in-flight cap allows). Returns the
// puts started.
static uint64_t
pace(lag_run *r, double rate, uint64_t t0, uint64_t end)
{
	const rill_bench_config *cfg = r->cfg;
	uint8_t                 *key = malloc(cfg->key_size);
	uint64_t                 rng = rill_bench_seed(3), seq = 0, i = 0;

	if (key == NULL) {
		return 0;
	}
	while (!rill_bench_interrupted) {
		uint64_t  due = t0 + (uint64_t) ((double) i * 1e9 / rate);
		uint64_t  now = rill_bench_now_ns();
		lag_call *c;
		int       rv;

		if (due >= end) {
			break;
		}
		if (now < due) {
			sleep_until(due);
			continue;
		}
		if (atomic_load(&r->in_flight) >= LAG_MAX_IN_FLIGHT) {
			sleep_until(now + 100000);
			continue;
		}
		if ((c = malloc(sizeof(*c))) == NULL) {
			break;
		}
		c->run = r;
		c->t0  = rill_bench_now_ns();
		rill_bench_write_key(cfg, key, 0, &rng, &seq);
		atomic_fetch_add(&r->in_flight, 1);
		rv = rill_put_async(r->client, key, cfg->key_size,
		    rill_bench_value(cfg, &rng), cfg->value_size, NULL,
		    lag_put_cb, c);
		if (rv != RILL_OK) {
			atomic_fetch_sub(&r->in_flight, 1);
			free(c);
			pthread_mutex_lock(&r->mtx);
			if (r->failed++ == 0) {
				rill_bench_errf(r->first_error,
				    sizeof(r->first_error), "rill put: %s: %s",
				    rill_status_name(rv), rill_last_message());
			}
			pthread_mutex_unlock(&r->mtx);
			rill_bench_sleep_ms(1);
		}
		i++;
	}
	free(key);
	return i;
}

static int
fig_lag(rill_bench_follow *f)
{
	static lag_run     r; // holds histograms: not on the stack
	static fetcher     fe;
	rill_bench_hist   *lag = NULL;
	rill_bench_config *cfg = f->cfg;
	node               nodes[2], *leader = &nodes[0], *fol = &nodes[1];
	pthread_t          tid;
	bool               fetching = false;
	uint64_t           t0, end, missing = 0, matched = 0, drain_end;
	double             window = cfg->duration_s;
	int                ret    = -1;
	char               b1[32], b2[32];

	memset(&r, 0, sizeof(r));
	memset(&fe, 0, sizeof(fe));
	memset(nodes, 0, sizeof(nodes));
	pthread_mutex_init(&r.mtx, NULL);
	atomic_init(&r.in_flight, 0);
	atomic_init(&r.max_seq, 0);
	r.cfg = cfg;
	if (node_init(f, leader, "lag-leader", NULL) != 0 ||
	    node_init(f, fol, "lag-follower", leader->url) != 0 ||
	    node_start(f, leader) != 0 || node_start(f, fol) != 0 ||
	    open_client(&r.client, leader->url) != 0 ||
	    settle(leader, r.client, fol, 1) != 0 ||
	    last_seq_of(r.client, leader->name, &r.base) != 0) {
		goto out;
	}
	// Room for every seq of the run and then some.
	r.cap =
	    (uint64_t) (f->rate * (cfg->warmup_s + cfg->duration_s) * 1.25) +
	    10000;
	r.ack_ns  = calloc(r.cap, sizeof(*r.ack_ns));
	r.seen_ns = calloc(r.cap, sizeof(*r.seen_ns));
	lag       = calloc(1, sizeof(*lag));
	if (r.ack_ns == NULL || r.seen_ns == NULL || lag == NULL) {
		fprintf(stderr, "rill_bench: lag: out of memory\n");
		goto out;
	}
	fe.run = &r;
	fe.url = fol->url;
	fe.pos = r.base;
	atomic_init(&fe.until, UINT64_MAX);
	atomic_init(&fe.deadline, 0);
	if (pthread_create(&tid, NULL, fetcher_main, &fe) != 0) {
		fprintf(stderr, "rill_bench: cannot create a thread\n");
		goto out;
	}
	fetching = true;
	fprintf(stderr,
	    "rill_bench: lag: %s puts/s to %s for %.1f s, the follower "
	    "long-polled ...\n",
	    rill_bench_fmt_count(b1, sizeof(b1), f->rate), leader->name,
	    cfg->warmup_s + cfg->duration_s);
	t0          = rill_bench_now_ns();
	r.win_start = t0 + (uint64_t) (cfg->warmup_s * 1e9);
	r.win_end   = r.win_start + (uint64_t) (cfg->duration_s * 1e9);
	end         = r.win_end;
	pace(&r, f->rate, t0, end);
	// Every put answered (bounded), then the follower given until it
	// has served the last seq acknowledged.
	drain_end = rill_bench_now_ns() + 15000000000u;
	while (atomic_load(&r.in_flight) > 0 && !rill_bench_interrupted &&
	    rill_bench_now_ns() < drain_end) {
		rill_bench_sleep_ms(1);
	}
	atomic_store(&fe.deadline,
	    rill_bench_now_ns() + (uint64_t) LAG_TAIL_MS * 1000000u);
	atomic_store(&fe.until, atomic_load(&r.max_seq));
	pthread_join(tid, NULL);
	fetching = false;
	// rill_close waits for the callbacks still running.
	rill_close(r.client);
	r.client = NULL;
	if (!node_alive(leader) || !node_alive(fol) ||
	    rill_bench_interrupted) {
		goto out;
	}
	if (fe.failed) {
		fprintf(stderr, "rill_bench: lag: %s\n", fe.err);
		goto out;
	}
	for (uint64_t i = 0; i < r.cap; i++) {
		if (r.ack_ns[i] == 0) {
			continue;
		}
		if (r.seen_ns[i] == 0) {
			missing++;
			continue;
		}
		matched++;
		rill_bench_hist_add(lag,
		    r.seen_ns[i] > r.ack_ns[i] ? r.seen_ns[i] - r.ack_ns[i]
		                               : 0);
	}
	if (r.failed > 0) {
		fprintf(stderr,
		    "rill_bench: lag: %" PRIu64 " puts failed (not counted), "
		    "the first: %s\n",
		    r.failed, r.first_error);
		f->had_errors = true;
	}
	if (missing > 0 || r.beyond > 0) {
		fprintf(stderr,
		    "rill_bench: lag: %" PRIu64
		    " seqs acknowledged were never "
		    "served by the follower, %" PRIu64
		    " were past the table\n",
		    missing, r.beyond);
		f->had_errors = true;
	}
	if (matched == 0) {
		fprintf(stderr, "rill_bench: lag: no seq measured\n");
		f->had_errors = true;
		goto out;
	}
	ret = 0;
	{
		double puts_s = (double) r.acked / window;
		double ack50  = rill_bench_pct_us(&r.ack, 0.5),
		       ack99  = rill_bench_pct_us(&r.ack, 0.99);
		double lag50  = rill_bench_pct_us(lag, 0.5),
		       lag99  = rill_bench_pct_us(lag, 0.99);
		double lagmax = (double) lag->max_ns / 1e3;
		double ackmax = (double) r.ack.max_ns / 1e3;

		if (f->json) {
			printf("{\"workload\":\"follow-lag\",\"rate\":%.1f,"
			       "\"followers\":1,\"value_size\":%zu,"
			       "\"key_order\":\"%s\"",
			    f->rate, cfg->value_size,
			    rill_bench_key_order_name(cfg->key_order));
			rill_bench_json_num(
			    "puts_per_s", true, puts_s, "%.1f");
			printf(",\"records\":%" PRIu64 ",\"missing\":%" PRIu64,
			    matched, missing);
			rill_bench_json_num("p50_us", true, lag50, "%.1f");
			rill_bench_json_num("p99_us", true, lag99, "%.1f");
			rill_bench_json_num("max_us", true, lagmax, "%.1f");
			rill_bench_json_num("ack_p50_us", true, ack50, "%.1f");
			rill_bench_json_num("ack_p99_us", true, ack99, "%.1f");
			rill_bench_json_num(
			    "ack_max_us", true, ackmax, "%.1f");
			rill_bench_json_num("ratio_ack_p50", ack50 > 0,
			    ack50 > 0 ? lag50 / ack50 : 0, "%.4f");
			rill_bench_json_num("ratio_ack_p99", ack99 > 0,
			    ack99 > 0 ? lag99 / ack99 : 0, "%.4f");
			printf("}\n");
		} else {
			printf("\n== follow-lag: replication lag at %s puts/s "
			       "(%zu B keys, %zu B values, key order %s), "
			       "sync %s, 1 follower, %.1f s measured after "
			       "%.1f s warm-up\n",
			    rill_bench_fmt_count(b1, sizeof(b1), f->rate),
			    cfg->key_size, cfg->value_size,
			    rill_bench_key_order_name(cfg->key_order), f->sync,
			    cfg->duration_s, cfg->warmup_s);
			printf(
			    "   (async puts on 1 connection, each started at "
			    "its due time; the follower long-polled with "
			    "FetchLog;\n    lag = when the follower's answer "
			    "carried the seq - when the leader acknowledged "
			    "it, one clock, at least 0)\n");
			printf("  %-12s %12s %10s %10s %10s\n", "", "puts/s",
			    "p50 us", "p99 us", "max us");
			printf("  %-12s %12s %10.1f %10.1f %10.1f  %s seqs "
			       "(target: p50 < 2000, p99 < 10000)\n",
			    "lag",
			    rill_bench_fmt_count(b1, sizeof(b1), puts_s),
			    lag50, lag99, lagmax,
			    rill_bench_fmt_count(
			        b2, sizeof(b2), (double) matched));
			printf("  %-12s %12s %10.1f %10.1f %10.1f  the "
			       "leader's put latency\n",
			    "leader ack",
			    rill_bench_fmt_count(b1, sizeof(b1), puts_s),
			    ack50, ack99, ackmax);
			printf("  %-12s %12s %10.3f %10.3f\n", "lag/ack", "",
			    ack50 > 0 ? lag50 / ack50 : 0,
			    ack99 > 0 ? lag99 / ack99 : 0);
		}
		fflush(stdout);
	}
out:
	if (fetching) {
		atomic_store(&fe.until, 0);
		pthread_join(tid, NULL);
	}
	rill_close(r.client);
	if (node_stop(fol) != 0 || node_stop(leader) != 0) {
		ret = -1;
	}
	node_remove(f, fol);
	node_remove(f, leader);
	free(r.ack_ns);
	free(r.seen_ns);
	free(lag);
	pthread_mutex_destroy(&r.mtx);
	return ret;
}

// Figure: catch-up ----------------------------------------------------------

// record_bytes returns the bytes a single-put record takes in a FetchLog
// reply: its LogRecord, packed, and the field's tag and length.
static size_t
record_bytes(const rill_bench_config *cfg)
{
	Rill__V1__Op        op  = RILL__V1__OP__INIT;
	Rill__V1__Op       *ops = &op;
	Rill__V1__Batch     b   = RILL__V1__BATCH__INIT;
	Rill__V1__LogRecord rec = RILL__V1__LOG_RECORD__INIT;
	size_t              n;

	op.type        = RILL__V1__OP__TYPE__PUT;
	op.key.len     = cfg->key_size;
	op.key.data    = (uint8_t *) cfg->value_pool;
	op.value.len   = cfg->value_size;
	op.value.data  = (uint8_t *) cfg->value_pool;
	b.n_ops        = 1;
	b.ops          = &ops;
	rec.seq        = 1000000;
	rec.time_us    = (uint64_t) time(NULL) * 1000000u;
	rec.client_id  = UINT64_MAX;
	rec.request_id = 100000;
	rec.batch.len  = rill__v1__batch__get_packed_size(&b);
	rec.batch.data = (uint8_t *) cfg->value_pool;
	n              = rill__v1__log_record__get_packed_size(&rec);
	return n + 1 + (n < 128 ? 1 : n < 16384 ? 2 : 3);
}

static int
write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w <= 0) {
			return -1;
		}
		p += w;
		len -= (size_t) w;
	}
	return 0;
}

// catchup_baseline applies n single-put records in this process as a
// follower applies them, in groups of group: each record (a 32-byte
// header of seq, time, client and request id, then key and value) is
// appended to a file, the file fdatasync'd, then the group's puts written
// to a LevelDB with rilld's store settings (8 MiB block cache, 16 MiB
// memtable, snappy, bloom filter) as one unsynced write batch. The keys
// and values are those the leader got. *secondsp gets the time from the
// first group to the last (the LevelDB opened before, closed after).
static int
catchup_baseline(const rill_bench_config *cfg, const char *dir, uint64_t n,
    size_t group, double *secondsp)
{
	leveldb_options_t      *o   = leveldb_options_create();
	leveldb_cache_t        *ca  = leveldb_cache_create_lru(8u << 20);
	leveldb_filterpolicy_t *fp  = leveldb_filterpolicy_create_bloom(10);
	leveldb_writeoptions_t *wo  = leveldb_writeoptions_create();
	leveldb_writebatch_t   *wb  = leveldb_writebatch_create();
	leveldb_t              *db  = NULL;
	size_t                  rec = 32 + cfg->key_size + cfg->value_size;
	uint8_t                *buf = malloc(group * rec);
	char                    path[PATH_MAX + 16], *lerr = NULL;
	uint64_t                rng = rill_bench_seed(5), t0;
	int                     fd = -1, ret = -1;

	leveldb_options_set_create_if_missing(o, 1);
	leveldb_options_set_error_if_exists(o, 1);
	leveldb_options_set_cache(o, ca);
	leveldb_options_set_filter_policy(o, fp);
	leveldb_options_set_write_buffer_size(o, 16u << 20);
	leveldb_options_set_compression(o, leveldb_snappy_compression);
	leveldb_writeoptions_set_sync(wo, 0);
	if (buf == NULL || mkdir(dir, 0755) != 0) {
		fprintf(stderr, "rill_bench: catchup: baseline %s: %s\n", dir,
		    buf == NULL ? "out of memory" : strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/store", dir);
	if ((db = leveldb_open(o, path, &lerr)) == NULL || lerr != NULL) {
		fprintf(stderr, "rill_bench: catchup: leveldb %s: %s\n", path,
		    lerr != NULL ? lerr : "?");
		goto out;
	}
	snprintf(path, sizeof(path), "%s/log", dir);
	if ((fd = open(
	         path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) {
		fprintf(stderr, "rill_bench: catchup: %s: %s\n", path,
		    strerror(errno));
		goto out;
	}
	t0 = rill_bench_now_ns();
	for (uint64_t i = 0; i < n && !rill_bench_interrupted;) {
		size_t len = 0;

		leveldb_writebatch_clear(wb);
		for (size_t j = 0; j < group && i < n; j++, i++) {
			uint8_t       *p      = buf + len;
			const uint8_t *v      = rill_bench_value(cfg, &rng);
			uint64_t       hdr[4] = { i + 1, t0 / 1000, 7, i + 1 };

			memcpy(p, hdr, sizeof(hdr));
			rill_bench_key(p + 32, cfg->key_size, i);
			memcpy(p + 32 + cfg->key_size, v, cfg->value_size);
			leveldb_writebatch_put(wb, (const char *) p + 32,
			    cfg->key_size, (const char *) v, cfg->value_size);
			len += rec;
		}
		if (write_all(fd, buf, len) != 0 || fdatasync(fd) != 0) {
			fprintf(stderr, "rill_bench: catchup: %s: %s\n", path,
			    strerror(errno));
			goto out;
		}
		leveldb_write(db, wo, wb, &lerr);
		if (lerr != NULL) {
			fprintf(stderr, "rill_bench: catchup: leveldb: %s\n",
			    lerr);
			goto out;
		}
	}
	*secondsp = rill_bench_secs_since(t0);
	ret       = rill_bench_interrupted ? -1 : 0;
out:
	if (fd >= 0) {
		close(fd);
	}
	if (db != NULL) {
		leveldb_close(db);
	}
	leveldb_free(lerr);
	leveldb_writebatch_destroy(wb);
	leveldb_writeoptions_destroy(wo);
	leveldb_options_destroy(o);
	leveldb_filterpolicy_destroy(fp);
	leveldb_cache_destroy(ca);
	free(buf);
	rill_bench_remove_tree(dir);
	return ret;
}

static int
fig_catchup(rill_bench_follow *f)
{
	rill_bench_config *cfg = f->cfg;
	node               nodes[2], *leader = &nodes[0], *fol = &nodes[1];
	rill_client       *lc = NULL, *fc = NULL;
	rill_node_status   st;
	char               err[512], dir[PATH_MAX + 16], b1[32], b2[32];
	uint64_t           from = 0, last = 0, t0, t1 = 0;
	double             load_s = 0, catch_s, base_s = 0;
	size_t             group = FOLLOW_FETCH_BYTES / record_bytes(cfg);
	int                boots, ret = -1, rv;
	bool               base = f->baselines;

	memset(nodes, 0, sizeof(nodes));
	if (group == 0) {
		group = 1;
	}
	if (node_init(f, leader, "catchup-leader", NULL) != 0 ||
	    node_init(f, fol, "catchup-follower", leader->url) != 0 ||
	    node_start(f, leader) != 0 || node_start(f, fol) != 0 ||
	    open_client(&lc, leader->url) != 0 ||
	    settle(leader, lc, fol, 1) != 0 ||
	    open_client(&fc, fol->url) != 0) {
		goto out;
	}
	rv = status_of(fc, &st, 5000);
	// A client of its own after the restart: this one's reconnect
	// back-off grows while the follower is down.
	rill_close(fc);
	fc = NULL;
	if (rv != RILL_OK) {
		fprintf(stderr, "rill_bench: Status of %s: %s: %s\n",
		    fol->name, rill_status_name(rv), rill_last_message());
		goto out;
	}
	from = st.applied_seq;
	fprintf(stderr,
	    "rill_bench: catchup: %s at seq %" PRIu64 ", stopping it\n",
	    fol->name, from);
	if (node_stop(fol) != 0) {
		goto out;
	}
	boots = count_lines(fol->log, "FOLLOW-BOOTSTRAP");
	fprintf(stderr,
	    "rill_bench: catchup: %s single-key puts to %s, %d in "
	    "flight\n",
	    rill_bench_fmt_count(b1, sizeof(b1), (double) f->n_records),
	    leader->name, CATCHUP_IN_FLIGHT);
	if (rill_bench_rill_put_count(leader->url, cfg, 0, f->n_records,
	        CATCHUP_IN_FLIGHT, &load_s, err, sizeof(err)) != 0) {
		fprintf(stderr, "rill_bench: catchup: %s\n", err);
		f->had_errors = true;
		goto out;
	}
	if (last_seq_of(lc, leader->name, &last) != 0 || !node_alive(leader)) {
		goto out;
	}
	fprintf(stderr,
	    "rill_bench: catchup: loaded in %.2f s (%s puts/s); restarting "
	    "%s, %s records behind\n",
	    load_s,
	    rill_bench_fmt_count(
	        b1, sizeof(b1), (double) f->n_records / load_s),
	    fol->name,
	    rill_bench_fmt_count(b2, sizeof(b2), (double) (last - from)));
	t0 = rill_bench_now_ns();
	if (node_start(f, fol) != 0 || open_client(&fc, fol->url) != 0 ||
	    wait_applied(fol, fc, last, POLL_MS,
	        FOLLOW_TIMEOUT_MS + f->n_records / 20, &t1) != 0) {
		goto out;
	}
	catch_s = (double) (t1 - t0) / 1e9;
	if (count_lines(fol->log, "FOLLOW-BOOTSTRAP") != boots) {
		fprintf(stderr,
		    "rill_bench: catchup: warning: %s downloaded a snapshot "
		    "on its restart: it did not replay the log alone\n",
		    fol->name);
		f->had_errors = true;
	}
	if (base && !rill_bench_interrupted) {
		snprintf(dir, sizeof(dir), "%s/catchup-baseline", f->tmp);
		fprintf(stderr,
		    "rill_bench: catchup: baseline: %s records into a log "
		    "file and a LevelDB, groups of %zu ...\n",
		    rill_bench_fmt_count(
		        b1, sizeof(b1), (double) (last - from)),
		    group);
		if (catchup_baseline(cfg, dir, last - from, group, &base_s) !=
		    0) {
			goto out;
		}
	}
	if (rill_bench_interrupted) {
		goto out;
	}
	ret = 0;
	{
		uint64_t n     = last - from;
		double   rate  = (double) n / catch_s;
		bool     b     = base && base_s > 0;
		double   brate = b ? (double) n / base_s : 0;

		if (f->json) {
			printf("{\"workload\":\"follow-catchup\",\"records\":"
			       "%" PRIu64
			       ",\"key_size\":%zu,\"value_size\":%zu,"
			       "\"group_records\":%zu",
			    n, cfg->key_size, cfg->value_size, group);
			rill_bench_json_num("seconds", true, catch_s, "%.4f");
			rill_bench_json_num(
			    "records_per_s", true, rate, "%.1f");
			rill_bench_json_num("load_puts_per_s", load_s > 0,
			    load_s > 0 ? (double) f->n_records / load_s : 0,
			    "%.1f");
			rill_bench_json_num(
			    "baseline_seconds", b, base_s, "%.4f");
			rill_bench_json_num(
			    "baseline_records_per_s", b, brate, "%.1f");
			rill_bench_json_num(
			    "ratio_baseline", b, b ? rate / brate : 0, "%.4f");
			printf("}\n");
		} else {
			printf("\n== follow-catchup: a follower %s records "
			       "behind (single-key puts, %zu B keys, %zu B "
			       "values), sync %s\n",
			    rill_bench_fmt_count(b1, sizeof(b1), (double) n),
			    cfg->key_size, cfg->value_size, f->sync);
			printf(
			    "   (put while it was stopped, %d in flight, %s "
			    "puts/s; timed from its restart until its "
			    "Status, polled every %d ms,\n    showed the "
			    "leader's last seq)\n",
			    CATCHUP_IN_FLIGHT,
			    rill_bench_fmt_count(b2, sizeof(b2),
			        (double) f->n_records / load_s),
			    POLL_MS);
			printf("  %-16s %10s %14s %10s\n", "", "seconds",
			    "records/s", "rill/this");
			printf("  %-16s %10.3f %14s %10s  (target >= 300,000 "
			       "records/s)\n",
			    "follower", catch_s,
			    rill_bench_fmt_count(b1, sizeof(b1), rate), "");
			if (b) {
				printf("  %-16s %10.3f %14s %10.3f  groups of "
				       "%s records: append, fdatasync, "
				       "LevelDB write\n",
				    "leveldb + log", base_s,
				    rill_bench_fmt_count(
				        b1, sizeof(b1), brate),
				    rate / brate,
				    rill_bench_fmt_count(
				        b2, sizeof(b2), (double) group));
			}
		}
		fflush(stdout);
	}
out:
	rill_close(fc);
	rill_close(lc);
	if (node_stop(fol) != 0 || node_stop(leader) != 0) {
		ret = -1;
	}
	node_remove(f, fol);
	node_remove(f, leader);
	return ret;
}

// Figure: leader throughput with followers ----------------------------------

typedef struct tp_phase {
	rill_bench_result res;
	uint64_t          lag_max;   // records behind, the window just ended
	double            catchup_s; // then, until every follower had all
	// CPU used during the run (warm-up and measure), in cores: each
	// rilld (the leader first) and this process (the clients).
	double cpu[1 + N_TP_FOLLOWERS];
	double cpu_bench;
} tp_phase;

// proc_cpu_s returns the CPU seconds (user and system) process pid has
// used, or -1 when /proc does not tell.
static double
proc_cpu_s(pid_t pid)
{
	char               path[64], buf[1024];
	const char        *p;
	unsigned long long utime, stime;
	FILE              *fp;
	size_t             n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
	if ((fp = fopen(path, "r")) == NULL) {
		return -1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	// Fields 14 and 15, counted after the ")" that ends the name.
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1,
	        " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
	        &utime, &stime) != 2) {
		return -1;
	}
	return (double) (utime + stime) / (double) sysconf(_SC_CLK_TCK);
}

// self_cpu_s returns the CPU seconds this process has used.
static double
self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double) ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double) ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

// tp_run measures the put workload on a fresh leader with n_followers
// followers streaming from it.
static int
tp_run(rill_bench_follow *f, int n_followers, tp_phase *ph)
{
	rill_bench_config  *cfg  = f->cfg;
	rill_bench_target   t    = rill_bench_rill_target;
	rill_bench_workload w    = cfg->workload;
	rill_bench_mode     m    = cfg->mode;
	uint64_t           *seqs = cfg->key_seq;
	node                nodes[1 + N_TP_FOLLOWERS], *leader = &nodes[0];
	rill_client        *lc = NULL;
	char                name[32];
	uint64_t            last = 0, t0;
	double              cpu0[1 + N_TP_FOLLOWERS], bench0;
	int                 rv, ret = -1;

	memset(nodes, 0, sizeof(nodes));
	snprintf(name, sizeof(name), "tp%d-leader", n_followers);
	if (node_init(f, leader, name, NULL) != 0 ||
	    node_start(f, leader) != 0) {
		goto out;
	}
	for (int i = 1; i <= n_followers; i++) {
		snprintf(
		    name, sizeof(name), "tp%d-follower%d", n_followers, i);
		if (node_init(f, &nodes[i], name, leader->url) != 0 ||
		    node_start(f, &nodes[i]) != 0) {
			goto out;
		}
	}
	if (open_client(&lc, leader->url) != 0 ||
	    (n_followers > 0 &&
	        settle(leader, lc, nodes + 1, n_followers) != 0)) {
		goto out;
	}
	fprintf(stderr, "rill_bench: throughput: puts, %d follower%s ...\n",
	    n_followers, n_followers == 1 ? "" : "s");
	t.arg         = leader->url;
	cfg->workload = RILL_BENCH_PUT;
	cfg->mode     = RILL_BENCH_ASYNC;
	cfg->key_seq  = NULL; // a fresh leader: sequential keys from 0
	for (int i = 0; i <= n_followers; i++) {
		cpu0[i] = proc_cpu_s(nodes[i].pid);
	}
	bench0 = self_cpu_s();
	t0     = rill_bench_now_ns();
	rv     = rill_bench_run(&t, cfg, &ph->res);
	for (int i = 0; i <= n_followers; i++) {
		ph->cpu[i] = (proc_cpu_s(nodes[i].pid) - cpu0[i]) /
		    rill_bench_secs_since(t0);
	}
	ph->cpu_bench = (self_cpu_s() - bench0) / rill_bench_secs_since(t0);
	cfg->workload = w;
	cfg->mode     = m;
	cfg->key_seq  = seqs;
	if (rv != 0) {
		fprintf(stderr, "rill_bench: throughput: %s\n",
		    ph->res.first_error);
		goto out;
	}
	if (ph->res.errors > 0) {
		fprintf(stderr,
		    "rill_bench: throughput: %" PRIu64 " calls failed (not "
		    "counted), the first: %s\n",
		    ph->res.errors, ph->res.first_error);
		f->had_errors = true;
	}
	if (!node_alive(leader) || last_seq_of(lc, leader->name, &last) != 0) {
		goto out;
	}
	// How far behind the followers were as the puts ended, and how long
	// they took to have everything.
	t0 = rill_bench_now_ns();
	for (int i = 1; i <= n_followers; i++) {
		rill_client     *fc;
		rill_node_status st;

		if (open_client(&fc, nodes[i].url) != 0) {
			goto out;
		}
		if (status_of(fc, &st, 5000) == RILL_OK &&
		    st.applied_seq < last &&
		    last - st.applied_seq > ph->lag_max) {
			ph->lag_max = last - st.applied_seq;
		}
		rv = wait_applied(
		    &nodes[i], fc, last, POLL_MS, FOLLOW_TIMEOUT_MS, NULL);
		rill_close(fc);
		if (rv != 0) {
			goto out;
		}
	}
	ph->catchup_s = rill_bench_secs_since(t0);
	ret           = ph->res.ops > 0 ? 0 : -1;
	if (ret != 0) {
		fprintf(stderr, "rill_bench: throughput: no call completed\n");
		f->had_errors = true;
	}
out:
	rill_close(lc);
	for (int i = n_followers; i >= 0; i--) {
		if (node_stop(&nodes[i]) != 0) {
			ret = -1;
		}
		if (nodes[i].name[0] != '\0') {
			node_remove(f, &nodes[i]);
		}
	}
	return ret;
}

static void
print_put_row(const char *name, const rill_bench_result *r)
{
	char rate[32];

	printf("  %-14s %12s %10.1f %10.1f %10.1f\n", name,
	    rill_bench_fmt_count(rate, sizeof(rate), r->ops_per_s),
	    rill_bench_pct_us(&r->hist, 0.5),
	    rill_bench_pct_us(&r->hist, 0.99),
	    rill_bench_pct_us(&r->hist, 0.999));
}

static int
fig_throughput(rill_bench_follow *f)
{
	static tp_phase    none, two; // hold histograms: not on the stack
	rill_bench_config *cfg = f->cfg;
	double             ratio;

	memset(&none, 0, sizeof(none));
	memset(&two, 0, sizeof(two));
	// Each on a fresh leader, so neither inherits the other's store.
	if (tp_run(f, 0, &none) != 0 || rill_bench_interrupted ||
	    tp_run(f, N_TP_FOLLOWERS, &two) != 0 || rill_bench_interrupted) {
		return -1;
	}
	ratio = two.res.ops_per_s / none.res.ops_per_s;
	if (f->json) {
		printf("{\"workload\":\"follow-throughput\",\"clients\":%d,"
		       "\"mode\":\"async\",\"connections\":%d,"
		       "\"value_size\":%zu,\"key_order\":\"%s\","
		       "\"followers\":%d",
		    cfg->clients, cfg->connections, cfg->value_size,
		    rill_bench_key_order_name(cfg->key_order), N_TP_FOLLOWERS);
		rill_bench_json_num(
		    "ops_per_s", true, two.res.ops_per_s, "%.1f");
		rill_bench_json_num("p50_us", true,
		    rill_bench_pct_us(&two.res.hist, 0.5), "%.1f");
		rill_bench_json_num("p99_us", true,
		    rill_bench_pct_us(&two.res.hist, 0.99), "%.1f");
		rill_bench_json_num("p999_us", true,
		    rill_bench_pct_us(&two.res.hist, 0.999), "%.1f");
		rill_bench_json_num(
		    "baseline_ops_per_s", true, none.res.ops_per_s, "%.1f");
		rill_bench_json_num("baseline_p99_us", true,
		    rill_bench_pct_us(&none.res.hist, 0.99), "%.1f");
		printf(",\"follower_lag_records\":%" PRIu64, two.lag_max);
		rill_bench_json_num(
		    "follower_catchup_s", true, two.catchup_s, "%.4f");
		rill_bench_json_num("ratio_no_follower", true, ratio, "%.4f");
		rill_bench_json_num("cpu_leader", true, two.cpu[0], "%.3f");
		rill_bench_json_num(
		    "cpu_followers", true, two.cpu[1] + two.cpu[2], "%.3f");
		rill_bench_json_num(
		    "cpu_clients", true, two.cpu_bench, "%.3f");
		rill_bench_json_num(
		    "baseline_cpu_leader", true, none.cpu[0], "%.3f");
		rill_bench_json_num(
		    "baseline_cpu_clients", true, none.cpu_bench, "%.3f");
		printf("}\n");
	} else {
		printf("\n== follow-throughput: puts, %d clients, %zu B keys, "
		       "%zu B values, key order %s, sync %s, %.1f s measured "
		       "after %.1f s warm-up\n",
		    cfg->clients, cfg->key_size, cfg->value_size,
		    rill_bench_key_order_name(cfg->key_order), f->sync,
		    cfg->duration_s, cfg->warmup_s);
		printf("   (async: %d calls kept in flight over %d "
		       "connection%s; each run on a fresh leader, the "
		       "followers streaming with --follow)\n",
		    cfg->clients, cfg->connections,
		    cfg->connections == 1 ? "" : "s");
		printf("  %-14s %12s %10s %10s %10s\n", "", "ops/s", "p50 us",
		    "p99 us", "p999 us");
		print_put_row("2 followers", &two.res);
		print_put_row("no follower", &none.res);
		printf("  followers/none %.3f (target >= 0.8); the followers "
		       "were at most %" PRIu64 " records behind as the puts "
		       "ended, and had all %.3f s later\n",
		    ratio, two.lag_max, two.catchup_s);
		printf("  CPU in cores: no follower: leader %.2f, clients "
		       "%.2f; 2 followers: leader %.2f, followers %.2f + "
		       "%.2f, clients %.2f\n",
		    none.cpu[0], none.cpu_bench, two.cpu[0], two.cpu[1],
		    two.cpu[2], two.cpu_bench);
	}
	fflush(stdout);
	return 0;
}

int
rill_bench_follow_run(rill_bench_follow *f)
{
	int (*const run[RILL_BENCH_N_FOLLOW])(rill_bench_follow *) = {
		[RILL_BENCH_FOLLOW_LAG]        = fig_lag,
		[RILL_BENCH_FOLLOW_CATCHUP]    = fig_catchup,
		[RILL_BENCH_FOLLOW_THROUGHPUT] = fig_throughput,
	};

	for (int i = 0; i < RILL_BENCH_N_FOLLOW; i++) {
		if (!f->figures[i]) {
			continue;
		}
		if (run[i](f) != 0 || rill_bench_interrupted) {
			return -1;
		}
	}
	return 0;
}
