// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// rill_bench: throughput and latency of rill over RPC, set against two
// baselines measured in the same run: an nng echo round trip (the RPC
// ceiling) and an in-process LevelDB (the store alone). For each workload
// (put, get, batch, scan) it runs rill, then the echo, then LevelDB, with
// the same clients, sizes and duration, and prints the rates, the ratios
// and rill's latency percentiles. By default (--mode async) N clients are
// N calls kept in flight by completion callbacks over --connections
// handles; --mode threads runs N threads making synchronous calls. Without
// --url it starts its own rilld on a free port in a fresh directory and
// stops it (by pid) at the end. --history measures the figures of rill's
// history instead (bench_history.c): snapshot creation, snapshot
// download, restore and writes during snapshots, each with its baseline;
// --follow those of followers (bench_follow.c): replication lag, catch-up
// and leader throughput with followers, each with its baseline; --local
// those of the embedded multi-process mode (bench_local.c): puts of a
// process that is not the leader against the ipc echo, and failover
// after a SIGKILL of the leader; --disk what one write + fdatasync costs
// on the disk (bench_disk.c), which every group commit pays under sync
// "always".
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define MAX_RILLD_ARGS RILL_BENCH_MAX_RILLD_ARGS

typedef struct options {
	const char          *url;
	const char          *rilld;
	const char          *sync;
	const char          *dir;
	bool                 workloads[RILL_BENCH_N_WORKLOADS];
	bool                 workload_given;
	int                  clients;
	int                  connections; // async: handles the clients share
	rill_bench_mode      mode;
	size_t               key_size;
	rill_bench_key_order key_order; // of put and batch
	size_t               value_size;
	size_t               batch_size;
	size_t               scan_length;
	uint64_t             n_keys; // 0: chosen from the sizes
	uint64_t             load_keys;
	bool                 history[RILL_BENCH_N_FIGURES];
	bool                 history_given;
	uint64_t             records; // history: puts after the snapshot
	bool                 records_given;
	bool                 follow[RILL_BENCH_N_FOLLOW];
	bool                 follow_given;
	bool                 local[RILL_BENCH_N_LOCAL];
	bool                 local_given;
	bool                 disk;  // the disk figure
	int                  kills; // local failover: SIGKILLs of the leader
	bool                 clients_given;
	double               rate; // follow lag: puts a second
	double               duration_s;
	double               warmup_s;
	bool                 json;
	bool                 baselines;
	bool                 rill;
	bool                 keep_dir;
	int                  n_rilld_args;
	char                *rilld_args[MAX_RILLD_ARGS];
} options;

// What one run of the tool holds: the processes it started and the
// directory it made, undone by teardown() in every case.
typedef struct bench {
	options           opt;
	rill_bench_config cfg;
	char              tmp[PATH_MAX];
	char              rill_url[128];
	char              data_dir[PATH_MAX + 16]; // the rilld's --data-dir
	int               admin_port;              // its --admin-listen port
	char              echo_url[128];
	char              rilld_log[PATH_MAX + 16];
	char              echo_log[PATH_MAX + 16];
	pid_t             rilld_pid;
	pid_t             echo_pid;
	rill_bench_ldb   *ldb;
	rill_bench_ldb   *ldb_nosync; // writes unsynced: the store's ceiling
	uint8_t          *pool;
	uint64_t          rill_loaded; // keys [0, rill_loaded) are in rilld
	uint64_t          ldb_loaded;  // and in the LevelDB baseline
	uint64_t         *rill_seq;    // each client's next sequential key
	uint64_t         *ldb_seq;     // the same in LevelDB
	bool              need_rilld;  // start a rilld (without --url)
	bool              need_echo;   // start the echo server
	bool              need_ldb;    // open the LevelDB baseline
	bool              need_ldb_nosync; // and the unsynced one
	bool              failed;          // stop: the setup or a system broke
	bool              had_errors; // some calls failed: exit 1 at the end
} bench;

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: rill_bench [options]\n"
	    "\n"
	    "Runs put, get, batch and scan workloads against rill over RPC "
	    "with N\n"
	    "concurrent clients, and the same workload against an nng echo "
	    "server and an\n"
	    "in-process LevelDB, then prints the rates, ratios and rill's "
	    "latencies.\n"
	    "\n"
	    "  --url URL          use the rilld at URL (default: start one)\n"
	    "  --rilld PATH       the rilld to start (default: "
	    "../service/rilld next to\n"
	    "                     this binary)\n"
	    "  --rilld-arg ARG    one more argument for the rilld started "
	    "(repeatable)\n"
	    "  --sync POLICY      always|interval|none: passed to the rilld "
	    "started; with\n"
	    "                     --url, the policy of that server (default "
	    "always);\n"
	    "                     LevelDB syncs its writes when it is always\n"
	    "  --workload W       put|get|batch|scan|all, or a comma list "
	    "(default all)\n"
	    "  --clients N        concurrent clients (default 32): calls in "
	    "flight in async\n"
	    "                     mode, threads in threads mode\n"
	    "  --mode M           async: N calls in flight, started by "
	    "completion\n"
	    "                     callbacks (default); threads: N threads, "
	    "one synchronous\n"
	    "                     call and one connection each (scan and "
	    "LevelDB always\n"
	    "                     run as threads)\n"
	    "  --connections C    async: rill handles and echo sockets the "
	    "clients share\n"
	    "                     (default 1, at most N)\n"
	    "  --value-size V     value bytes (default 100)\n"
	    "  --key-size K       key bytes (default 16)\n"
	    "  --key-order O      random|sequential: the keys put and batch "
	    "write (default\n"
	    "                     random); sequential: each client its own "
	    "increasing keys,\n"
	    "                     like a bulk load (get and scan read random "
	    "keys either way)\n"
	    "  --batch-size B     keys per batch request (default 100)\n"
	    "  --scan-length L    entries read per scan (default 100)\n"
	    "  --keys K           keys preloaded for get and scan (default "
	    "100000, fewer\n"
	    "                     for big values); with --history, the keys "
	    "of the stores\n"
	    "                     measured (default 1000000)\n"
	    "  --duration S       seconds measured per workload and system "
	    "(default 5)\n"
	    "  --warmup S         seconds run before measuring (default 0.5)\n"
	    "  --load-keys N      load N keys in batches into the rilld "
	    "started and\n"
	    "                     print its RSS (then run only the workloads "
	    "given)\n"
	    "  --history[=LIST]   measure the history figures (then run only "
	    "the workloads\n"
	    "                     given): snapshot, download, restore, "
	    "snapshot-writes,\n"
	    "                     or a comma list (default all four)\n"
	    "  --records N        history: single-key puts after the "
	    "snapshot, replayed\n"
	    "                     by the restore (default 100000); with "
	    "--follow, the records\n"
	    "                     a follower catches up on (default "
	    "1000000)\n"
	    "  --follow[=LIST]    measure the follower figures (then run "
	    "only the workloads\n"
	    "                     given): lag, catchup, throughput, or a "
	    "comma list\n"
	    "                     (default all three)\n"
	    "  --rate R           follow lag: puts a second (default "
	    "10000)\n"
	    "  --local[=LIST]     measure the local mode figures "
	    "(rill_open_local; then run\n"
	    "                     only the workloads given): put, failover, "
	    "or a comma\n"
	    "                     list (default both); --clients defaults to "
	    "8 there\n"
	    "  --kills N          local failover: SIGKILLs of the leader "
	    "(default 10)\n"
	    "  --disk             measure what a write + fdatasync costs on "
	    "the disk of\n"
	    "                     --dir (then run only the workloads given)\n"
	    "  --dir DIR          where the temporary directory goes "
	    "(default $TMPDIR\n"
	    "                     or /tmp)\n"
	    "  --keep-dir         keep it (data, rilld.log) at the end\n"
	    "  --no-baselines     skip the echo and LevelDB baselines\n"
	    "  --json             one JSON object per workload and line\n"
	    "  --help             this text\n");
}

enum {
	OPT_URL = 256,
	OPT_RILLD,
	OPT_RILLD_ARG,
	OPT_SYNC,
	OPT_WORKLOAD,
	OPT_CLIENTS,
	OPT_MODE,
	OPT_CONNECTIONS,
	OPT_VALUE_SIZE,
	OPT_KEY_SIZE,
	OPT_KEY_ORDER,
	OPT_BATCH_SIZE,
	OPT_SCAN_LENGTH,
	OPT_KEYS,
	OPT_DURATION,
	OPT_WARMUP,
	OPT_LOAD_KEYS,
	OPT_HISTORY,
	OPT_RECORDS,
	OPT_FOLLOW,
	OPT_RATE,
	OPT_DIR,
	OPT_KEEP_DIR,
	OPT_NO_BASELINES,
	OPT_NO_RILL,
	OPT_JSON,
	OPT_ECHO_SERVER,
	OPT_LOCAL,
	OPT_KILLS,
	OPT_LOCAL_LEADER,
	OPT_DISK,
	OPT_HELP,
};

static const struct option long_options[] = {
	{ "url", required_argument, NULL, OPT_URL },
	{ "rilld", required_argument, NULL, OPT_RILLD },
	{ "rilld-arg", required_argument, NULL, OPT_RILLD_ARG },
	{ "sync", required_argument, NULL, OPT_SYNC },
	{ "workload", required_argument, NULL, OPT_WORKLOAD },
	{ "clients", required_argument, NULL, OPT_CLIENTS },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "connections", required_argument, NULL, OPT_CONNECTIONS },
	{ "value-size", required_argument, NULL, OPT_VALUE_SIZE },
	{ "key-size", required_argument, NULL, OPT_KEY_SIZE },
	{ "key-order", required_argument, NULL, OPT_KEY_ORDER },
	{ "batch-size", required_argument, NULL, OPT_BATCH_SIZE },
	{ "scan-length", required_argument, NULL, OPT_SCAN_LENGTH },
	{ "keys", required_argument, NULL, OPT_KEYS },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "load-keys", required_argument, NULL, OPT_LOAD_KEYS },
	{ "history", optional_argument, NULL, OPT_HISTORY },
	{ "records", required_argument, NULL, OPT_RECORDS },
	{ "follow", optional_argument, NULL, OPT_FOLLOW },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "dir", required_argument, NULL, OPT_DIR },
	{ "keep-dir", no_argument, NULL, OPT_KEEP_DIR },
	{ "no-baselines", no_argument, NULL, OPT_NO_BASELINES },
	{ "no-rill", no_argument, NULL, OPT_NO_RILL }, // baselines alone
	{ "json", no_argument, NULL, OPT_JSON },
	{ "echo-server", required_argument, NULL, OPT_ECHO_SERVER },
	{ "local", optional_argument, NULL, OPT_LOCAL },
	{ "disk", no_argument, NULL, OPT_DISK },
	{ "kills", required_argument, NULL, OPT_KILLS },
	// A process of the local figures (bench_local.c), not for users.
	{ "local-leader", required_argument, NULL, OPT_LOCAL_LEADER },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

// parse_u64 reads a whole decimal number in [min, max] or fails.
static int
parse_u64(
    const char *flag, const char *s, uint64_t min, uint64_t max, uint64_t *vp)
{
	char              *end;
	unsigned long long v;

	errno = 0;
	v     = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < min ||
	    v > max) {
		fprintf(stderr,
		    "rill_bench: --%s: want a whole number from %llu to "
		    "%llu, not \"%s\"\n",
		    flag, (unsigned long long) min, (unsigned long long) max,
		    s);
		return -1;
	}
	*vp = v;
	return 0;
}

static int
parse_seconds(const char *flag, const char *s, double min, double *vp)
{
	char  *end;
	double v;

	errno = 0;
	v     = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= min) ||
	    v > 86400) {
		fprintf(stderr,
		    "rill_bench: --%s: bad number of seconds \"%s\"\n", flag,
		    s);
		return -1;
	}
	*vp = v;
	return 0;
}

static int
parse_workloads(options *o, const char *s)
{
	char *copy = strdup(s), *save = NULL, *w;
	int   rv = 0;

	if (copy == NULL) {
		return -1;
	}
	memset(o->workloads, 0, sizeof(o->workloads));
	for (w = strtok_r(copy, ",", &save); w != NULL;
	     w = strtok_r(NULL, ",", &save)) {
		int found = 0;

		if (strcmp(w, "all") == 0) {
			for (int i = 0; i < RILL_BENCH_N_WORKLOADS; i++) {
				o->workloads[i] = true;
			}
			continue;
		}
		for (int i = 0; i < RILL_BENCH_N_WORKLOADS; i++) {
			if (strcmp(w, rill_bench_workload_name(i)) == 0) {
				o->workloads[i] = true;
				found           = 1;
			}
		}
		if (!found) {
			fprintf(stderr,
			    "rill_bench: --workload: \"%s\" is none of put, "
			    "get, batch, scan, all\n",
			    w);
			rv = -1;
		}
	}
	free(copy);
	o->workload_given = true;
	return rv;
}

// parse_history reads the figures of --history: a comma list, or all.
static int
parse_history(options *o, const char *s)
{
	char *copy, *save = NULL, *w;
	int   rv = 0;

	o->history_given = true;
	if (s == NULL) {
		for (int i = 0; i < RILL_BENCH_N_FIGURES; i++) {
			o->history[i] = true;
		}
		return 0;
	}
	if ((copy = strdup(s)) == NULL) {
		return -1;
	}
	memset(o->history, 0, sizeof(o->history));
	for (w = strtok_r(copy, ",", &save); w != NULL;
	     w = strtok_r(NULL, ",", &save)) {
		bool found = false;

		for (int i = 0; i < RILL_BENCH_N_FIGURES; i++) {
			if (strcmp(w, rill_bench_figure_name(i)) == 0 ||
			    strcmp(w, "all") == 0) {
				o->history[i] = true;
				found         = true;
			}
		}
		if (!found) {
			fprintf(stderr,
			    "rill_bench: --history: \"%s\" is none of "
			    "snapshot, download, restore, snapshot-writes, "
			    "all\n",
			    w);
			rv = -1;
		}
	}
	free(copy);
	if (rv == 0 && memchr(o->history, true, sizeof(o->history)) == NULL) {
		fprintf(stderr, "rill_bench: --history=: no figure named\n");
		rv = -1;
	}
	return rv;
}

// parse_follow reads the figures of --follow: a comma list, or all.
static int
parse_follow(options *o, const char *s)
{
	char *copy, *save = NULL, *w;
	int   rv = 0;

	o->follow_given = true;
	memset(o->follow, 0, sizeof(o->follow));
	if ((copy = strdup(s != NULL ? s : "all")) == NULL) {
		return -1;
	}
	for (w = strtok_r(copy, ",", &save); w != NULL;
	     w = strtok_r(NULL, ",", &save)) {
		bool found = false;

		for (int i = 0; i < RILL_BENCH_N_FOLLOW; i++) {
			if (strcmp(w, rill_bench_follow_figure_name(i)) == 0 ||
			    strcmp(w, "all") == 0) {
				o->follow[i] = true;
				found        = true;
			}
		}
		if (!found) {
			fprintf(stderr,
			    "rill_bench: --follow: \"%s\" is none of lag, "
			    "catchup, throughput, all\n",
			    w);
			rv = -1;
		}
	}
	free(copy);
	if (rv == 0 && memchr(o->follow, true, sizeof(o->follow)) == NULL) {
		fprintf(stderr, "rill_bench: --follow=: no figure named\n");
		rv = -1;
	}
	return rv;
}

// parse_local reads the figures of --local: a comma list, or all.
static int
parse_local(options *o, const char *s)
{
	char *copy, *save = NULL, *w;
	int   rv = 0;

	o->local_given = true;
	memset(o->local, 0, sizeof(o->local));
	if ((copy = strdup(s != NULL ? s : "all")) == NULL) {
		return -1;
	}
	for (w = strtok_r(copy, ",", &save); w != NULL;
	     w = strtok_r(NULL, ",", &save)) {
		bool found = false;

		for (int i = 0; i < RILL_BENCH_N_LOCAL; i++) {
			if (strcmp(w, rill_bench_local_figure_name(i)) == 0 ||
			    strcmp(w, "all") == 0) {
				o->local[i] = true;
				found       = true;
			}
		}
		if (!found) {
			fprintf(stderr,
			    "rill_bench: --local: \"%s\" is none of put, "
			    "failover, all\n",
			    w);
			rv = -1;
		}
	}
	free(copy);
	if (rv == 0 && memchr(o->local, true, sizeof(o->local)) == NULL) {
		fprintf(stderr, "rill_bench: --local=: no figure named\n");
		rv = -1;
	}
	return rv;
}

// needs_rilld tells whether figure f uses the rilld (all but snapshot).
static bool
needs_rilld(rill_bench_figure f)
{
	return f != RILL_BENCH_FIG_SNAPSHOT;
}

// parse_args fills o; returns 0, 1 for --help, -1 on a bad flag. An echo
// server URL, if asked for, goes to *echo_serverp.
static int
parse_args(options *o, int argc, char **argv, const char **echo_serverp,
    const char **local_leaderp)
{
	uint64_t v;
	int      c;

	memset(o, 0, sizeof(*o));
	o->sync        = "always";
	o->clients     = 32;
	o->connections = 1;
	o->mode        = RILL_BENCH_ASYNC;
	o->key_size    = 16;
	o->value_size  = 100;
	o->batch_size  = 100;
	o->scan_length = 100;
	o->duration_s  = 5;
	o->warmup_s    = 0.5;
	o->records     = 100000;
	o->rate        = 10000;
	o->kills       = 10;
	o->baselines   = true;
	o->rill        = true;
	for (int i = 0; i < RILL_BENCH_N_WORKLOADS; i++) {
		o->workloads[i] = true;
	}
	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		int rv = 0;

		switch (c) {
		case OPT_URL:
			o->url = optarg;
			break;
		case OPT_RILLD:
			o->rilld = optarg;
			break;
		case OPT_RILLD_ARG:
			if (o->n_rilld_args == MAX_RILLD_ARGS) {
				fprintf(stderr,
				    "rill_bench: too many "
				    "--rilld-arg\n");
				return -1;
			}
			o->rilld_args[o->n_rilld_args++] = optarg;
			break;
		case OPT_SYNC:
			if (strcmp(optarg, "always") != 0 &&
			    strcmp(optarg, "interval") != 0 &&
			    strcmp(optarg, "none") != 0) {
				fprintf(stderr,
				    "rill_bench: --sync: always, interval or "
				    "none, not \"%s\"\n",
				    optarg);
				return -1;
			}
			o->sync = optarg;
			break;
		case OPT_WORKLOAD:
			rv = parse_workloads(o, optarg);
			break;
		case OPT_CLIENTS:
			rv         = parse_u64("clients", optarg, 1, 4096, &v);
			o->clients = (int) v;
			o->clients_given = true;
			break;
		case OPT_MODE:
			if (strcmp(optarg, "async") == 0) {
				o->mode = RILL_BENCH_ASYNC;
			} else if (strcmp(optarg, "threads") == 0) {
				o->mode = RILL_BENCH_THREADS;
			} else {
				fprintf(stderr,
				    "rill_bench: --mode: async or threads, "
				    "not \"%s\"\n",
				    optarg);
				return -1;
			}
			break;
		case OPT_CONNECTIONS:
			rv = parse_u64("connections", optarg, 1, 4096, &v);
			o->connections = (int) v;
			break;
		case OPT_VALUE_SIZE:
			rv = parse_u64("value-size", optarg, 0, 8u << 20, &v);
			o->value_size = v;
			break;
		case OPT_KEY_SIZE:
			rv = parse_u64("key-size", optarg, 1, 64u << 10, &v);
			o->key_size = v;
			break;
		case OPT_KEY_ORDER:
			if (strcmp(optarg, "random") == 0) {
				o->key_order = RILL_BENCH_KEYS_RANDOM;
			} else if (strcmp(optarg, "sequential") == 0) {
				o->key_order = RILL_BENCH_KEYS_SEQUENTIAL;
			} else {
				fprintf(stderr,
				    "rill_bench: --key-order: random or "
				    "sequential, not \"%s\"\n",
				    optarg);
				return -1;
			}
			break;
		case OPT_BATCH_SIZE:
			rv = parse_u64("batch-size", optarg, 1, 1000000, &v);
			o->batch_size = v;
			break;
		case OPT_SCAN_LENGTH:
			rv = parse_u64("scan-length", optarg, 1, 1000000, &v);
			o->scan_length = v;
			break;
		case OPT_KEYS:
			rv = parse_u64("keys", optarg, 1, UINT64_MAX / 2, &v);
			o->n_keys = v;
			break;
		case OPT_LOAD_KEYS:
			rv = parse_u64("load-keys", optarg, 1, UINT64_MAX / 2,
			    &o->load_keys);
			break;
		case OPT_HISTORY:
			rv = parse_history(o, optarg);
			break;
		case OPT_RECORDS:
			rv = parse_u64(
			    "records", optarg, 1, UINT64_MAX / 4, &o->records);
			o->records_given = true;
			break;
		case OPT_FOLLOW:
			rv = parse_follow(o, optarg);
			break;
		case OPT_RATE:
			rv      = parse_u64("rate", optarg, 1, 10000000, &v);
			o->rate = (double) v;
			break;
		case OPT_DURATION:
			rv = parse_seconds(
			    "duration", optarg, 0.001, &o->duration_s);
			break;
		case OPT_WARMUP:
			rv = parse_seconds("warmup", optarg, 0, &o->warmup_s);
			break;
		case OPT_DIR:
			o->dir = optarg;
			break;
		case OPT_KEEP_DIR:
			o->keep_dir = true;
			break;
		case OPT_NO_BASELINES:
			o->baselines = false;
			break;
		case OPT_NO_RILL:
			o->rill = false;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_ECHO_SERVER:
			*echo_serverp = optarg;
			break;
		case OPT_LOCAL:
			rv = parse_local(o, optarg);
			break;
		case OPT_KILLS:
			rv       = parse_u64("kills", optarg, 1, 1000, &v);
			o->kills = (int) v;
			break;
		case OPT_LOCAL_LEADER:
			*local_leaderp = optarg;
			break;
		case OPT_DISK:
			o->disk = true;
			break;
		case OPT_HELP:
			return 1;
		default:
			return -1;
		}
		if (rv != 0) {
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "rill_bench: unexpected argument \"%s\"%s\n",
		    argv[optind],
		    o->history_given || o->follow_given || o->local_given
		        ? " (figures go as --history=LIST, --follow=LIST, "
		          "--local=LIST)"
		        : "");
		return -1;
	}
	if ((o->load_keys > 0 || o->history_given || o->follow_given ||
	        o->local_given || o->disk) &&
	    !o->workload_given) {
		memset(o->workloads, 0, sizeof(o->workloads));
	}
	for (int i = 0; i < RILL_BENCH_N_FIGURES; i++) {
		if (o->history[i] && needs_rilld(i) &&
		    (o->url != NULL || !o->rill)) {
			fprintf(stderr,
			    "rill_bench: --history=%s needs the rilld this "
			    "tool starts (its data dir and admin API): not "
			    "with --url or --no-rill\n",
			    rill_bench_figure_name(i));
			return -1;
		}
	}
	if (o->local_given && (o->url != NULL || !o->rill)) {
		fprintf(stderr,
		    "rill_bench: --local starts its own processes: not with "
		    "--url or --no-rill\n");
		return -1;
	}
	// The local figures are stated for 8 callers.
	if (o->local_given && !o->clients_given) {
		o->clients = 8;
	}
	if (o->follow_given && (o->url != NULL || !o->rill)) {
		fprintf(stderr,
		    "rill_bench: --follow starts its own leader and "
		    "followers: not with --url or --no-rill\n");
		return -1;
	}
	if (o->key_order == RILL_BENCH_KEYS_SEQUENTIAL &&
	    o->key_size < RILL_BENCH_SEQ_MIN_KEY_SIZE) {
		// 2 bytes of client and at least 6 digits of counter.
		fprintf(stderr,
		    "rill_bench: --key-order sequential needs --key-size %d "
		    "or more, not %zu\n",
		    RILL_BENCH_SEQ_MIN_KEY_SIZE, o->key_size);
		return -1;
	}
	if (o->load_keys > 0 && !o->rill) {
		fprintf(stderr, "rill_bench: --load-keys needs rill\n");
		return -1;
	}
	return 0;
}

// on_signal asks the run to stop and clean up; a second signal, for a call
// that hangs, ends the process at once (the children die with it).
static void
on_signal(int sig)
{
	if (rill_bench_interrupted) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	rill_bench_interrupted = 1;
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

// warn_if_busy says so when other work competes for the CPUs: the figures
// of such a run are not to be trusted.
static void
warn_if_busy(void)
{
	FILE  *f = fopen("/proc/loadavg", "r");
	double load;
	long   n_cpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (f == NULL) {
		return;
	}
	if (fscanf(f, "%lf", &load) == 1 && n_cpu > 0 &&
	    load > 0.25 * (double) n_cpu) {
		fprintf(stderr,
		    "rill_bench: warning: load average %.2f on %ld CPUs: "
		    "this machine is busy, the figures will be low and "
		    "noisy\n",
		    load, n_cpu);
	}
	fclose(f);
}

// cpu_times are the machine's CPU time counters (/proc/stat, in clock
// ticks): all of them, and steal, the time the hypervisor ran something
// else while a virtual CPU wanted to run.
typedef struct cpu_times {
	unsigned long long total;
	unsigned long long steal;
} cpu_times;

// read_cpu_times fills *t; false when /proc/stat cannot be read.
static bool
read_cpu_times(cpu_times *t)
{
	unsigned long long v[8] = { 0 };
	FILE              *f    = fopen("/proc/stat", "r");
	int                n;

	if (f == NULL) {
		return false;
	}
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
	    &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n < 4) {
		return false;
	}
	t->total = 0;
	for (int i = 0; i < 8; i++) {
		t->total += v[i];
	}
	t->steal = v[7];
	return true;
}

// warn_if_stolen says how much of the CPUs' time the hypervisor took
// since *start, when it is enough to lower the figures: a virtual machine
// whose host is busy measures low, whatever the code.
static void
warn_if_stolen(const cpu_times *start)
{
	cpu_times end;
	double    share;

	if (start->total == 0 || !read_cpu_times(&end) ||
	    end.total <= start->total) {
		return;
	}
	share = (double) (end.steal - start->steal) /
	    (double) (end.total - start->total);
	if (share >= 0.02) {
		fprintf(stderr,
		    "rill_bench: warning: the hypervisor took %.0f%% of the "
		    "CPUs' time during the run (steal): the figures are low "
		    "by about that much, more for the latencies\n",
		    100.0 * share);
	}
}

// find_rilld picks the rilld to start: --rilld, else ../service/rilld
// beside this binary (the build tree's layout).
static int
find_rilld(bench *b, char *path, size_t n)
{
	char  self[PATH_MAX];
	char *slash;

	if (b->opt.rilld != NULL) {
		snprintf(path, n, "%s", b->opt.rilld);
	} else {
		if (rill_bench_self_path(self, sizeof(self)) != 0) {
			fprintf(stderr,
			    "rill_bench: cannot read "
			    "/proc/self/exe: use --rilld\n");
			return -1;
		}
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
		}
		snprintf(path, n, "%s/../service/rilld", self);
	}
	if (access(path, X_OK) != 0) {
		fprintf(stderr,
		    "rill_bench: no rilld at %s (%s): build it, or give "
		    "--rilld PATH or --url URL\n",
		    path, strerror(errno));
		return -1;
	}
	return 0;
}

// forget_if_gone clears *pidp when that child has exited: the waits
// reap a child that dies while they poll it, and teardown must then not
// signal the pid (another process may have it by now) nor wait for it.
static void
forget_if_gone(pid_t *pidp)
{
	int status;

	if (*pidp > 0 && waitpid(*pidp, &status, WNOHANG) != 0) {
		*pidp = 0; // reaped now, or already (ECHILD)
	}
}

static int
start_rilld(bench *b)
{
	char  path[PATH_MAX + 32], data[PATH_MAX + 16], err[512], admin[32];
	char *argv[12 + MAX_RILLD_ARGS];
	int   port = rill_bench_free_port(), n = 0;

	if (find_rilld(b, path, sizeof(path)) != 0) {
		return -1;
	}
	if (port < 0) {
		fprintf(stderr, "rill_bench: no free TCP port\n");
		return -1;
	}
	snprintf(b->rill_url, sizeof(b->rill_url), "tcp://127.0.0.1:%d", port);
	// The admin API on a port of its own, known: the history figures
	// ask it for snapshots.
	if ((b->admin_port = rill_bench_free_port()) < 0 ||
	    b->admin_port == port) {
		fprintf(stderr, "rill_bench: no free TCP port\n");
		return -1;
	}
	snprintf(admin, sizeof(admin), "127.0.0.1:%d", b->admin_port);
	snprintf(data, sizeof(data), "%s/rilld-data", b->tmp);
	snprintf(b->data_dir, sizeof(b->data_dir), "%s", data);
	snprintf(b->rilld_log, sizeof(b->rilld_log), "%s/rilld.log", b->tmp);
	argv[n++] = path;
	argv[n++] = "--data-dir";
	argv[n++] = data;
	argv[n++] = "--listen";
	argv[n++] = b->rill_url;
	argv[n++] = "--sync";
	argv[n++] = (char *) b->opt.sync;
	argv[n++] = "--admin-listen";
	argv[n++] = admin;
	for (int i = 0; i < b->opt.n_rilld_args; i++) {
		argv[n++] = b->opt.rilld_args[i];
	}
	argv[n] = NULL;
	if ((b->rilld_pid = rill_bench_spawn(
	         argv, b->rilld_log, err, sizeof(err))) < 0) {
		fprintf(stderr, "rill_bench: start rilld: %s\n", err);
		b->rilld_pid = 0;
		return -1;
	}
	fprintf(stderr, "rill_bench: rilld %s (pid %d) on %s, sync %s\n", path,
	    (int) b->rilld_pid, b->rill_url, b->opt.sync);
	if (!rill_bench_rill_wait(
	        b->rill_url, b->rilld_pid, 20000, err, sizeof(err))) {
		fprintf(stderr, "rill_bench: %s\n", err);
		rill_bench_print_log_tail(b->rilld_log, 20);
		forget_if_gone(&b->rilld_pid);
		return -1;
	}
	return 0;
}

static int
start_echo(bench *b)
{
	char  self[PATH_MAX], err[512];
	char *argv[4];
	int   port = rill_bench_free_port();

	if (rill_bench_self_path(self, sizeof(self)) != 0 || port < 0) {
		fprintf(stderr, "rill_bench: cannot start the echo server\n");
		return -1;
	}
	snprintf(b->echo_url, sizeof(b->echo_url), "tcp://127.0.0.1:%d", port);
	snprintf(b->echo_log, sizeof(b->echo_log), "%s/echo.log", b->tmp);
	argv[0] = self;
	argv[1] = "--echo-server";
	argv[2] = b->echo_url;
	argv[3] = NULL;
	if ((b->echo_pid = rill_bench_spawn(
	         argv, b->echo_log, err, sizeof(err))) < 0) {
		fprintf(stderr, "rill_bench: start echo server: %s\n", err);
		b->echo_pid = 0;
		return -1;
	}
	if (!rill_bench_echo_wait(
	        b->echo_url, b->echo_pid, 10000, err, sizeof(err))) {
		fprintf(stderr, "rill_bench: %s\n", err);
		rill_bench_print_log_tail(b->echo_log, 20);
		forget_if_gone(&b->echo_pid);
		return -1;
	}
	return 0;
}

static int
setup(bench *b)
{
	const char *base = b->opt.dir;
	char        path[PATH_MAX + 16], err[512];
	uint64_t    rng = rill_bench_seed(0);
	size_t      pool_len;

	if (base == NULL && (base = getenv("TMPDIR")) == NULL) {
		base = "/tmp";
	}
	snprintf(b->tmp, sizeof(b->tmp), "%s/rill-bench-XXXXXX", base);
	if (mkdtemp(b->tmp) == NULL) {
		fprintf(stderr, "rill_bench: mkdtemp %s: %s\n", b->tmp,
		    strerror(errno));
		b->tmp[0] = '\0';
		return -1;
	}
	if ((strcmp(b->opt.sync, "always") == 0 || b->opt.disk) &&
	    rill_bench_is_tmpfs(b->tmp)) {
		fprintf(stderr,
		    "rill_bench: warning: %s is on tmpfs, where fsync costs "
		    "nothing: durable writes will look fast (use --dir)\n",
		    b->tmp);
	}

	// Values are cut from 1 MiB of random bytes at random offsets.
	b->cfg.pool_span = 1u << 20;
	pool_len         = b->cfg.pool_span + b->opt.value_size;
	if ((b->pool = malloc(pool_len)) == NULL) {
		fprintf(stderr, "rill_bench: out of memory\n");
		return -1;
	}
	for (size_t i = 0; i < pool_len; i += 8) {
		uint64_t r = rill_bench_rand(&rng);

		memcpy(b->pool + i, &r, pool_len - i < 8 ? pool_len - i : 8);
	}
	b->cfg.value_pool = b->pool;
	b->rill_seq = calloc((size_t) b->opt.clients, sizeof(*b->rill_seq));
	b->ldb_seq  = calloc((size_t) b->opt.clients, sizeof(*b->ldb_seq));
	if (b->rill_seq == NULL || b->ldb_seq == NULL) {
		fprintf(stderr, "rill_bench: out of memory\n");
		return -1;
	}

	if (b->need_rilld && start_rilld(b) != 0) {
		return -1;
	}
	if (b->opt.url != NULL) {
		snprintf(b->rill_url, sizeof(b->rill_url), "%s", b->opt.url);
		if (b->opt.rill &&
		    !rill_bench_rill_wait(
		        b->rill_url, 0, 5000, err, sizeof(err))) {
			fprintf(stderr, "rill_bench: %s\n", err);
			return -1;
		}
	}
	if (b->need_echo && start_echo(b) != 0) {
		return -1;
	}
	if (b->need_ldb) {
		snprintf(path, sizeof(path), "%s/leveldb", b->tmp);
		if (rill_bench_ldb_open(&b->ldb, path, err, sizeof(err)) !=
		    0) {
			fprintf(stderr, "rill_bench: %s\n", err);
			return -1;
		}
	}
	if (b->need_ldb_nosync) {
		snprintf(path, sizeof(path), "%s/leveldb-nosync", b->tmp);
		if (rill_bench_ldb_open(
		        &b->ldb_nosync, path, err, sizeof(err)) != 0) {
			fprintf(stderr, "rill_bench: %s\n", err);
			return -1;
		}
	}
	return 0;
}

// check_rilld reports a rilld that died under the load.
static int
check_rilld(bench *b)
{
	char why[128];
	int  status;

	if (b->rilld_pid > 0 &&
	    !rill_bench_child_alive(b->rilld_pid, &status)) {
		rill_bench_describe_status(status, why, sizeof(why));
		fprintf(stderr, "rill_bench: rilld %s during the run\n", why);
		rill_bench_print_log_tail(b->rilld_log, 30);
		b->rilld_pid = 0;
		b->failed    = true;
		return -1;
	}
	return 0;
}

static void
teardown(bench *b)
{
	char why[128];
	int  status;

	rill_bench_ldb_close(b->ldb);
	rill_bench_ldb_close(b->ldb_nosync);
	if (b->echo_pid > 0) {
		rill_bench_stop(b->echo_pid, 5000);
	}
	if (b->rilld_pid > 0) {
		status = rill_bench_stop(b->rilld_pid, 10000);
		// rilld ends with 0 on SIGTERM; a crash on the way out is a
		// finding too.
		if (status < 0 ||
		    !((WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
		        (WIFSIGNALED(status) &&
		            WTERMSIG(status) == SIGTERM))) {
			rill_bench_describe_status(status, why, sizeof(why));
			fprintf(
			    stderr, "rill_bench: rilld %s on SIGTERM\n", why);
			rill_bench_print_log_tail(b->rilld_log, 20);
		}
	}
	if (b->tmp[0] != '\0') {
		if (b->opt.keep_dir) {
			fprintf(stderr, "rill_bench: kept %s\n", b->tmp);
		} else {
			rill_bench_remove_tree(b->tmp);
		}
	}
	free(b->pool);
	free(b->rill_seq);
	free(b->ldb_seq);
}

static void
print_row(const char *name, const rill_bench_result *r, double rill_rate,
    const char *extra)
{
	char rate[32];

	if (!r->done) {
		printf("  %-10s %14s\n", name, "-");
		return;
	}
	printf("  %-10s %14s %10.1f %10.1f %10.1f", name,
	    rill_bench_fmt_count(rate, sizeof(rate), r->ops_per_s),
	    (double) rill_bench_hist_percentile(&r->hist, 0.5) / 1e3,
	    (double) rill_bench_hist_percentile(&r->hist, 0.99) / 1e3,
	    (double) rill_bench_hist_percentile(&r->hist, 0.999) / 1e3);
	if (rill_rate >= 0 && r->ops_per_s > 0) {
		printf(" %10.3f", rill_rate / r->ops_per_s);
	} else if (extra != NULL) {
		printf(" %10s", "");
	}
	if (extra != NULL) {
		printf("  %s", extra);
	}
	printf("\n");
}

// writes_keys tells whether workload w writes keys in --key-order; the
// others read random preloaded keys.
static bool
writes_keys(rill_bench_workload w)
{
	return w == RILL_BENCH_PUT || w == RILL_BENCH_BATCH;
}

static void
print_human(const bench *b, const rill_bench_result *rill,
    const rill_bench_result *echo, const rill_bench_result *ldb,
    const rill_bench_result *ldb_nosync)
{
	const rill_bench_config *cfg = &b->cfg;
	char                     rate[32], note[96];
	double rill_rate = rill->done && rill->ops > 0 ? rill->ops_per_s : -1;

	printf("\n== %s: %d clients, %zu B keys, %zu B values",
	    rill_bench_workload_name(cfg->workload), cfg->clients,
	    cfg->key_size, cfg->value_size);
	if (writes_keys(cfg->workload)) {
		printf(", key order %s",
		    rill_bench_key_order_name(cfg->key_order));
	}
	if (cfg->workload == RILL_BENCH_BATCH) {
		printf(", %zu keys a request", cfg->batch_size);
	}
	printf(", sync %s, %.1f s measured after %.1f s warm-up\n",
	    b->opt.sync, cfg->duration_s, cfg->warmup_s);
	if (cfg->mode == RILL_BENCH_ASYNC) {
		printf("   (async: %d calls kept in flight over %d "
		       "connection%s by completion callbacks",
		    cfg->clients, cfg->connections,
		    cfg->connections == 1 ? "" : "s");
		if (b->opt.baselines) {
			printf(";\n    leveldb: %d threads", cfg->clients);
		}
		printf(")\n");
	} else if (b->opt.mode == RILL_BENCH_ASYNC) {
		printf("   (threads: scans have no async API, so rill and the "
		       "echo run %d threads,\n    one connection and one "
		       "synchronous call each)\n",
		    cfg->clients);
	} else {
		printf("   (threads: %d client threads, one connection and "
		       "one synchronous call each)\n",
		    cfg->clients);
	}
	if (cfg->workload == RILL_BENCH_BATCH) {
		printf("   (ops are requests of %zu keys)\n", cfg->batch_size);
	} else if (cfg->workload == RILL_BENCH_SCAN) {
		printf("   (ops are scans: open at a random key, read %zu "
		       "entries, close)\n",
		    cfg->scan_length);
	} else if (cfg->workload == RILL_BENCH_GET) {
		printf("   (gets of random keys among %llu preloaded)\n",
		    (unsigned long long) cfg->n_keys);
	}
	printf("  %-10s %14s %10s %10s %10s %10s\n", "", "ops/s", "p50 us",
	    "p99 us", "p999 us", "rill/this");
	note[0] = '\0';
	if (cfg->workload == RILL_BENCH_BATCH && rill->done) {
		snprintf(note, sizeof(note), "%s keys/s",
		    rill_bench_fmt_count(rate, sizeof(rate),
		        rill->ops_per_s * (double) cfg->batch_size));
	}
	print_row("rill", rill, -1, note[0] != '\0' ? note : NULL);
	if (b->opt.baselines) {
		snprintf(note, sizeof(note), "%zu B each way",
		    rill_bench_echo_size(cfg));
		print_row("nng echo", echo, rill_rate, note);
		print_row("leveldb", ldb, rill_rate,
		    cfg->sync && writes_keys(cfg->workload) ? "synced writes"
		                                            : NULL);
		if (ldb_nosync->done) {
			print_row("leveldb", ldb_nosync, rill_rate,
			    "not synced: the store's ceiling");
		}
	}
	fflush(stdout);
}

static void
print_json(const bench *b, const rill_bench_result *rill,
    const rill_bench_result *echo, const rill_bench_result *ldb,
    const rill_bench_result *ldb_nosync)
{
	const rill_bench_config *cfg = &b->cfg;
	bool r = rill->done, e = echo->done && echo->ops_per_s > 0,
	     l  = ldb->done && ldb->ops_per_s > 0,
	     ln = ldb_nosync->done && ldb_nosync->ops_per_s > 0;

	// key_order: that of the keys the workload used; reads always pick
	// random preloaded keys.
	printf("{\"workload\":\"%s\",\"clients\":%d,\"mode\":\"%s\","
	       "\"connections\":%d,\"value_size\":%zu,\"key_order\":\"%s\"",
	    rill_bench_workload_name(cfg->workload), cfg->clients,
	    rill_bench_mode_name(cfg->mode),
	    cfg->mode == RILL_BENCH_ASYNC ? cfg->connections : cfg->clients,
	    cfg->value_size,
	    rill_bench_key_order_name(writes_keys(cfg->workload)
	            ? cfg->key_order
	            : RILL_BENCH_KEYS_RANDOM));
	rill_bench_json_num("ops_per_s", r, rill->ops_per_s, "%.1f");
	rill_bench_json_num("p50_us", r,
	    (double) rill_bench_hist_percentile(&rill->hist, 0.5) / 1e3,
	    "%.1f");
	rill_bench_json_num("p99_us", r,
	    (double) rill_bench_hist_percentile(&rill->hist, 0.99) / 1e3,
	    "%.1f");
	rill_bench_json_num("p999_us", r,
	    (double) rill_bench_hist_percentile(&rill->hist, 0.999) / 1e3,
	    "%.1f");
	rill_bench_json_num(
	    "echo_ops_per_s", echo->done, echo->ops_per_s, "%.1f");
	rill_bench_json_num(
	    "leveldb_ops_per_s", ldb->done, ldb->ops_per_s, "%.1f");
	rill_bench_json_num("ratio_echo", r && e,
	    e ? rill->ops_per_s / echo->ops_per_s : 0, "%.4f");
	rill_bench_json_num("ratio_leveldb", r && l,
	    l ? rill->ops_per_s / ldb->ops_per_s : 0, "%.4f");
	if (ldb_nosync->done) {
		rill_bench_json_num("leveldb_nosync_ops_per_s", true,
		    ldb_nosync->ops_per_s, "%.1f");
		rill_bench_json_num("ratio_leveldb_nosync", r && ln,
		    ln ? rill->ops_per_s / ldb_nosync->ops_per_s : 0, "%.4f");
	}
	if (cfg->workload == RILL_BENCH_BATCH) {
		rill_bench_json_num("keys_per_s", r,
		    rill->ops_per_s * (double) cfg->batch_size, "%.1f");
	}
	printf("}\n");
	fflush(stdout);
}

// report_errors tells of failed calls, which the rates leave out.
static void
report_errors(bench *b, const char *who, const rill_bench_result *r)
{
	if (r->done && r->errors > 0) {
		fprintf(stderr,
		    "rill_bench: %s %s: %llu calls failed "
		    "(not counted), the first: %s\n",
		    who, rill_bench_workload_name(b->cfg.workload),
		    (unsigned long long) r->errors, r->first_error);
		b->had_errors = true;
	}
	if (r->done && r->ops == 0) {
		fprintf(stderr, "rill_bench: %s %s: no call completed\n", who,
		    rill_bench_workload_name(b->cfg.workload));
		b->had_errors = true;
	}
}

// preload puts keys [0, n_keys) into each system that lacks them.
static int
preload(bench *b)
{
	rill_bench_config *cfg = &b->cfg;
	char               err[512];
	double             s;
	int                n_threads = cfg->clients < 8 ? cfg->clients : 8;

	if (b->opt.rill && b->rill_loaded < cfg->n_keys) {
		fprintf(stderr, "rill_bench: preloading %llu keys into rill\n",
		    (unsigned long long) (cfg->n_keys - b->rill_loaded));
		if (rill_bench_rill_load(b->rill_url, cfg, b->rill_loaded,
		        cfg->n_keys - b->rill_loaded, n_threads, &s, err,
		        sizeof(err)) != 0) {
			fprintf(stderr, "rill_bench: preload: %s\n", err);
			return -1;
		}
		b->rill_loaded = cfg->n_keys;
	}
	if (b->ldb != NULL && b->ldb_loaded < cfg->n_keys) {
		if (rill_bench_ldb_load(b->ldb, cfg, b->ldb_loaded,
		        cfg->n_keys - b->ldb_loaded, err, sizeof(err)) != 0) {
			fprintf(stderr, "rill_bench: preload: %s\n", err);
			return -1;
		}
		b->ldb_loaded = cfg->n_keys;
	}
	return 0;
}

static int
run_one(bench *b, const rill_bench_target *proto, void *arg,
    rill_bench_result *res)
{
	rill_bench_target t = *proto;

	t.arg = arg;
	fprintf(stderr, "rill_bench: %s %s ...\n",
	    rill_bench_workload_name(b->cfg.workload), t.name);
	if (rill_bench_run(&t, &b->cfg, res) != 0) {
		fprintf(stderr, "rill_bench: %s %s: %s\n", t.name,
		    rill_bench_workload_name(b->cfg.workload),
		    res->first_error);
		b->failed = true;
		return -1;
	}
	report_errors(b, t.name, res);
	return 0;
}

static int
run_workload(bench *b, rill_bench_workload w)
{
	// Large: not on the stack.
	static rill_bench_result rill, echo, ldb, ldb_nosync;

	b->cfg.workload = w;
	// Scans have no async API: rill scans as threads, and so does its
	// echo, so that the ratio compares like with like.
	b->cfg.mode = w == RILL_BENCH_SCAN ? RILL_BENCH_THREADS : b->opt.mode;
	memset(&rill, 0, sizeof(rill));
	memset(&echo, 0, sizeof(echo));
	memset(&ldb, 0, sizeof(ldb));
	memset(&ldb_nosync, 0, sizeof(ldb_nosync));
	if ((w == RILL_BENCH_GET || w == RILL_BENCH_SCAN) && preload(b) != 0) {
		b->failed = true;
		return -1;
	}
	// Each system writes its own sequential keys, on from its last run.
	if (b->opt.rill) {
		b->cfg.key_seq = b->rill_seq;
		run_one(b, &rill_bench_rill_target, b->rill_url, &rill);
		if (check_rilld(b) != 0) {
			return -1;
		}
	}
	if (b->opt.baselines && !rill_bench_interrupted) {
		b->cfg.key_seq = NULL;
		run_one(b, &rill_bench_echo_target, b->echo_url, &echo);
	}
	if (b->opt.baselines && !rill_bench_interrupted) {
		b->cfg.key_seq = b->ldb_seq;
		run_one(b, &rill_bench_ldb_target, b->ldb, &ldb);
	}
	// Synced writes (ldb_nosync is opened only for them): the same
	// writes unsynced, into a LevelDB of their own, tell what the store
	// alone could take with no durability.
	if (b->ldb_nosync != NULL && writes_keys(w) &&
	    !rill_bench_interrupted) {
		b->cfg.key_seq = b->ldb_seq;
		b->cfg.sync    = false;
		run_one(b, &rill_bench_ldb_target, b->ldb_nosync, &ldb_nosync);
		b->cfg.sync = true;
	}
	b->cfg.key_seq = NULL;
	if (rill_bench_interrupted) {
		return -1;
	}
	if (b->opt.json) {
		print_json(b, &rill, &echo, &ldb, &ldb_nosync);
	} else {
		print_human(b, &rill, &echo, &ldb, &ldb_nosync);
	}
	return 0;
}

// load_and_measure loads opt.load_keys keys into rilld and reads its RSS:
// the memory figure.
static int
load_and_measure(bench *b)
{
	rill_bench_config *cfg = &b->cfg;
	char               err[512], rate[32];
	double             s;
	uint64_t           rss = 0, peak = 0;
	bool               have_rss;
	int                n_threads = cfg->clients < 8 ? cfg->clients : 8;

	fprintf(stderr, "rill_bench: loading %llu keys into rill\n",
	    (unsigned long long) b->opt.load_keys);
	if (rill_bench_rill_load(b->rill_url, cfg, 0, b->opt.load_keys,
	        n_threads, &s, err, sizeof(err)) != 0) {
		fprintf(stderr, "rill_bench: load: %s\n", err);
		b->failed = true;
		return -1;
	}
	b->rill_loaded = b->opt.load_keys;
	if (check_rilld(b) != 0) {
		return -1;
	}
	have_rss = b->rilld_pid > 0 &&
	    rill_bench_proc_rss(b->rilld_pid, &rss, &peak) == 0;
	if (!have_rss) {
		fprintf(stderr,
		    "rill_bench: the RSS is known only for the "
		    "rilld this tool starts (no --url)\n");
	}
	if (b->opt.json) {
		printf("{\"workload\":\"load\",\"keys\":%llu,\"key_size\":%zu,"
		       "\"value_size\":%zu,\"seconds\":%.3f,"
		       "\"keys_per_s\":%.1f",
		    (unsigned long long) b->opt.load_keys, cfg->key_size,
		    cfg->value_size, s, (double) b->opt.load_keys / s);
		rill_bench_json_num(
		    "rss_bytes", have_rss, (double) rss, "%.0f");
		rill_bench_json_num(
		    "rss_peak_bytes", have_rss, (double) peak, "%.0f");
		printf("}\n");
	} else {
		printf("\n== load: %llu keys of %zu B with %zu B values, "
		       "batches of %zu, sync %s\n",
		    (unsigned long long) b->opt.load_keys, cfg->key_size,
		    cfg->value_size, rill_bench_load_chunk(cfg), b->opt.sync);
		printf("  %.2f s, %s keys/s\n", s,
		    rill_bench_fmt_count(
		        rate, sizeof(rate), (double) b->opt.load_keys / s));
		if (have_rss) {
			printf("  rilld VmRSS %.1f MiB (%llu bytes), peak "
			       "%.1f MiB\n",
			    (double) rss / (1 << 20), (unsigned long long) rss,
			    (double) peak / (1 << 20));
		}
	}
	fflush(stdout);
	return 0;
}

// run_history measures the history figures asked for (bench_history.c).
static int
run_history(bench *b)
{
	rill_bench_history h;
	int                rv;

	memset(&h, 0, sizeof(h));
	h.cfg         = &b->cfg;
	h.n_keys      = b->cfg.n_keys;
	h.n_records   = b->opt.records;
	h.chunk_bytes = 4u << 20;
	h.tmp         = b->tmp;
	h.sync        = b->opt.sync;
	h.json        = b->opt.json;
	h.baselines   = b->opt.baselines;
	h.rill_loaded = b->rill_loaded;
	memcpy(h.figures, b->opt.history, sizeof(h.figures));
	if (b->rilld_pid > 0) {
		h.rill_url   = b->rill_url;
		h.data_dir   = b->data_dir;
		h.admin_port = b->admin_port;
	}
	if (b->echo_pid > 0) {
		h.echo_url = b->echo_url;
	}
	b->cfg.key_seq = b->rill_seq; // the puts of snapshot-writes
	rv             = rill_bench_history_run(&h);
	b->cfg.key_seq = NULL;
	b->rill_loaded = h.rill_loaded;
	if (h.had_errors) {
		b->had_errors = true;
	}
	if (check_rilld(b) != 0 || (rv != 0 && !rill_bench_interrupted)) {
		b->failed = true;
		return -1;
	}
	return rv;
}

// run_local measures the local mode figures asked for (bench_local.c).
static int
run_local(bench *b)
{
	rill_bench_local l;
	int              rv;

	memset(&l, 0, sizeof(l));
	l.cfg       = &b->cfg;
	l.tmp       = b->tmp;
	l.sync      = b->opt.sync;
	l.kills     = b->opt.kills;
	l.json      = b->opt.json;
	l.baselines = b->opt.baselines;
	memcpy(l.figures, b->opt.local, sizeof(l.figures));
	rv = rill_bench_local_run(&l);
	if (l.had_errors) {
		b->had_errors = true;
	}
	if (rv != 0 && !rill_bench_interrupted) {
		b->failed = true;
		return -1;
	}
	return rv;
}

// run_disk measures the disk figure (bench_disk.c).
static int
run_disk(bench *b)
{
	rill_bench_disk d = {
		.tmp        = b->tmp,
		.warmup_s   = b->opt.warmup_s,
		.duration_s = b->opt.duration_s,
		.json       = b->opt.json,
	};

	if (rill_bench_disk_run(&d) != 0 && !rill_bench_interrupted) {
		b->failed = true;
		return -1;
	}
	return 0;
}

// run_follow measures the follower figures asked for (bench_follow.c).
static int
run_follow(bench *b)
{
	rill_bench_follow f;
	char              path[PATH_MAX + 32];
	int               rv;

	if (find_rilld(b, path, sizeof(path)) != 0) {
		b->failed = true;
		return -1;
	}
	memset(&f, 0, sizeof(f));
	f.cfg          = &b->cfg;
	f.rilld        = path;
	f.rilld_args   = b->opt.rilld_args;
	f.n_rilld_args = b->opt.n_rilld_args;
	f.tmp          = b->tmp;
	f.sync         = b->opt.sync;
	f.rate         = b->opt.rate;
	// A million records behind unless --records says otherwise.
	f.n_records = b->opt.records_given ? b->opt.records : 1000000;
	f.json      = b->opt.json;
	f.baselines = b->opt.baselines;
	f.keep_dir  = b->opt.keep_dir;
	memcpy(f.figures, b->opt.follow, sizeof(f.figures));
	rv = rill_bench_follow_run(&f);
	if (f.had_errors) {
		b->had_errors = true;
	}
	if (rv != 0 && !rill_bench_interrupted) {
		b->failed = true;
		return -1;
	}
	return rv;
}

int
main(int argc, char **argv)
{
	static bench b; // big, and zeroed
	const char  *echo_server = NULL, *local_leader = NULL;
	uint64_t     budget;
	bool         any_workload, any_write, history_rilld;
	cpu_times    cpu_start;
	int          rv;

	if ((rv = parse_args(
	         &b.opt, argc, argv, &echo_server, &local_leader)) > 0) {
		usage(stdout);
		return 0;
	}
	if (rv < 0) {
		fprintf(stderr, "Try 'rill_bench --help'.\n");
		return 2;
	}
	if (echo_server != NULL) {
		return rill_bench_echo_serve(echo_server);
	}
	if (local_leader != NULL) {
		return rill_bench_local_leader(local_leader, b.opt.sync);
	}
	install_signals();
	warn_if_busy();
	if (!read_cpu_times(&cpu_start)) {
		cpu_start = (cpu_times) { 0 };
	}

	b.cfg.clients     = b.opt.clients;
	b.cfg.mode        = b.opt.mode;
	b.cfg.connections = b.opt.connections < b.opt.clients
	    ? b.opt.connections
	    : b.opt.clients;
	b.cfg.key_size    = b.opt.key_size;
	b.cfg.key_order   = b.opt.key_order;
	b.cfg.value_size  = b.opt.value_size;
	b.cfg.batch_size  = b.opt.batch_size;
	b.cfg.scan_length = b.opt.scan_length;
	b.cfg.sync        = strcmp(b.opt.sync, "always") == 0;
	b.cfg.warmup_s    = b.opt.warmup_s;
	b.cfg.duration_s  = b.opt.duration_s;
	// Preload 100,000 keys, or fewer so that they stay under 256 MiB.
	budget       = (256u << 20) / (b.opt.key_size + b.opt.value_size);
	b.cfg.n_keys = b.opt.n_keys > 0 ? b.opt.n_keys
	    : budget < 1000             ? 1000
	    : budget < 100000           ? budget
	                                : 100000;
	// The history figures measure stores of a million keys by default.
	if (b.opt.history_given && b.opt.n_keys == 0) {
		b.cfg.n_keys = 1000000;
	}

	// What the run needs: a rilld (unless --url), the echo server and
	// the LevelDB baseline for the workloads, the rilld and the echo for
	// the history figures but the in-process snapshot one.
	any_workload = any_write = false;
	for (int w = 0; w < RILL_BENCH_N_WORKLOADS; w++) {
		any_workload = any_workload || b.opt.workloads[w];
		any_write    = any_write ||
		    (b.opt.workloads[w] &&
		        writes_keys((rill_bench_workload) w));
	}
	history_rilld = false;
	for (int f = 0; f < RILL_BENCH_N_FIGURES; f++) {
		history_rilld = history_rilld ||
		    (b.opt.history[f] && needs_rilld((rill_bench_figure) f));
	}
	b.need_rilld = b.opt.rill && b.opt.url == NULL &&
	    (any_workload || b.opt.load_keys > 0 || history_rilld);
	b.need_echo = b.opt.baselines &&
	    (any_workload || b.opt.history[RILL_BENCH_FIG_DOWNLOAD]);
	b.need_ldb        = b.opt.baselines && any_workload;
	b.need_ldb_nosync = b.need_ldb && b.cfg.sync && any_write;

	if (setup(&b) == 0) {
		if (b.opt.load_keys > 0) {
			load_and_measure(&b);
		}
		for (int w = 0; w < RILL_BENCH_N_WORKLOADS && !b.failed; w++) {
			if (b.opt.workloads[w] &&
			    run_workload(&b, (rill_bench_workload) w) != 0) {
				break;
			}
		}
		if (b.opt.history_given && !b.failed &&
		    !rill_bench_interrupted) {
			run_history(&b);
		}
		if (b.opt.follow_given && !b.failed &&
		    !rill_bench_interrupted) {
			run_follow(&b);
		}
		if (b.opt.local_given && !b.failed &&
		    !rill_bench_interrupted) {
			run_local(&b);
		}
		if (b.opt.disk && !b.failed && !rill_bench_interrupted) {
			run_disk(&b);
		}
	} else {
		b.failed = true;
	}
	teardown(&b);
	warn_if_stolen(&cpu_start);
	if (rill_bench_interrupted) {
		fprintf(stderr, "rill_bench: interrupted\n");
		return 130;
	}
	return b.failed || b.had_errors ? 1 : 0;
}
