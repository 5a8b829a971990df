// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// bench: what the files of rill_bench share. A run drives one target (rill
// over RPC, the nng echo baseline or the in-process LevelDB baseline) with
// N clients, in one of two modes: async, N slots that each keep one call
// in flight and start the next from the completion callback of the last,
// or threads, N client threads doing one synchronous call after another.
// The runner times each call and keeps the completions that fall inside
// the measured window. Targets see the workload through a read-only config.
#ifndef RILL_BENCH_H
#define RILL_BENCH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum rill_bench_workload {
	RILL_BENCH_PUT,
	RILL_BENCH_GET,
	RILL_BENCH_BATCH,
	RILL_BENCH_SCAN,
	RILL_BENCH_N_WORKLOADS,
} rill_bench_workload;

// How a run drives its target. A target without an asynchronous form (the
// LevelDB baseline) runs as threads in either mode.
typedef enum rill_bench_mode {
	RILL_BENCH_ASYNC,   // N calls in flight, driven by their callbacks
	RILL_BENCH_THREADS, // N threads, one synchronous call each at a time
} rill_bench_mode;

// The order of the keys that the write workloads (put, batch) write. Reads
// (get, scan) always pick random preloaded keys.
typedef enum rill_bench_key_order {
	RILL_BENCH_KEYS_RANDOM,     // rill_bench_key of a random index
	RILL_BENCH_KEYS_SEQUENTIAL, // each client its own increasing keys
} rill_bench_key_order;

// rill_bench_config is the workload of one run, read-only while it runs
// (but for the key_seq entries, see there).
typedef struct rill_bench_config {
	rill_bench_workload  workload;
	rill_bench_mode      mode;
	int                  clients;
	int                  connections; // async: handles the slots share
	size_t               key_size;
	rill_bench_key_order key_order; // of put and batch
	size_t               value_size;
	size_t               batch_size;  // keys per request (batch)
	size_t               scan_length; // entries read per scan
	uint64_t             n_keys; // keys preloaded: indices [0, n_keys)
	bool                 sync;   // the server syncs each write
	double               warmup_s;
	double               duration_s;
	// Values are value_size bytes at value_pool + o, o < pool_span: random
	// bytes, so that neither side can compress them away.
	const uint8_t *value_pool;
	size_t         pool_span;
	// Sequential keys: key_seq[i] is the counter of client i's next key
	// in the system run. A client starts from it when it opens and
	// writes its own entry back when it closes, so that the next write
	// run on that system goes on where this one ended instead of
	// rewriting the same keys. NULL for a target that writes no keys.
	uint64_t *key_seq;
} rill_bench_config;

// A latency histogram in nanoseconds, log-linear: exact below 128 ns, then
// 64 buckets per power of two (under 1.6% error).
#define RILL_BENCH_HIST_BUCKETS (128 + 57 * 64)

typedef struct rill_bench_hist {
	uint64_t counts[RILL_BENCH_HIST_BUCKETS];
	uint64_t n;
	uint64_t max_ns;
} rill_bench_hist;

void rill_bench_hist_add(rill_bench_hist *h, uint64_t ns);
void rill_bench_hist_merge(rill_bench_hist *into, const rill_bench_hist *h);
// rill_bench_hist_percentile returns the value (ns) at quantile q (0..1),
// 0 for an empty histogram.
uint64_t rill_bench_hist_percentile(const rill_bench_hist *h, double q);

// rill_bench_result is what a run measured. ops counts the successful
// operations that completed inside the measured window.
typedef struct rill_bench_result {
	bool            done; // the run took place
	uint64_t        ops;
	uint64_t        errors;
	double          elapsed_s;
	double          ops_per_s;
	rill_bench_hist hist;
	char            first_error[320];
} rill_bench_result;

// rill_bench_slot is one client of an asynchronous run: a chain of calls,
// one in flight at a time, each started by the completion callback of the
// one before. The target's callbacks report to the slot:
//
//   READY --rill_bench_slot_start true: start the call--> IN FLIGHT
//     ^                                                       |
//     +-- rill_bench_slot_done true: at once -----------------+
//     +-- rill_bench_slot_done false: after a 1 ms pause -----+
//   READY --rill_bench_slot_start false: the run stops--> RETIRED
//
// Only the slot's own callbacks write it, and they never overlap: a
// callback starts the slot's next call as its last act on the slot. So the
// hot path takes no lock; the runner reads the slot once it has retired.
typedef struct rill_bench_slot {
	struct rill_bench_async *run; // the runner's shared state
	int                      idx;
	uint64_t                 t0; // when the call in flight started
	uint64_t                 ops;
	uint64_t                 errors;
	char                     first_error[256];
	rill_bench_hist          hist;
	char pad[64]; // keeps the next slot's fields off our cache lines
} rill_bench_slot;

// rill_bench_slot_start is called right before a slot starts a call. It
// takes the start time and returns true, or, once the run is stopping,
// retires the slot and returns false: the caller must then not touch the
// slot again (the runner may free everything as soon as all retired).
bool rill_bench_slot_start(rill_bench_slot *s);
// rill_bench_slot_done records how the call in flight ended: a success
// (err NULL) or a failure with its message; either counts only when it
// completes inside the measured window. It returns true when the slot may
// go on at once (to rill_bench_slot_start), false after a failure while
// the run goes on: the slot then pauses 1 ms first, so that a server that
// fails every call at once does not make it spin.
bool rill_bench_slot_done(rill_bench_slot *s, const char *err);

// rill_bench_target is one system under test.
//
// Threads: thread_open prepares the state of client thread idx (it may
// block, e.g. to connect); step does one operation and returns 0, or
// nonzero with a message in err; both run on the client thread.
// thread_close frees the state (NULL is a no-op).
//
// Async (NULL for a target that always runs as threads): async_open
// connects cfg->connections handles and prepares the cfg->clients slots,
// starting nothing; it may block. async_start starts the first call of
// slot idx, on the runner's thread. async_close runs once every slot has
// retired, or the drain gave up: it cancels what is still in flight, waits
// for the callbacks to return and frees everything.
typedef struct rill_bench_target {
	const char *name;
	void       *arg;
	int (*thread_open)(void *arg, const rill_bench_config *cfg, int idx,
	    void **thrp, char *err, size_t n);
	int (*step)(void *thr, char *err, size_t n);
	void (*thread_close)(void *thr);
	int (*async_open)(void *arg, const rill_bench_config *cfg,
	    rill_bench_slot *slots, void **runp, char *err, size_t n);
	void (*async_start)(void *run, int idx);
	void (*async_close)(void *run);
} rill_bench_target;

// rill_bench_run runs target with cfg->clients clients in cfg->mode (as
// threads if the target has no async form): warm-up, then the measured
// window; an async run then stops starting calls and waits (bounded) for
// those in flight. It returns 0 with *res filled, or -1 with a message
// when a client could not start (or when interrupted).
int rill_bench_run(const rill_bench_target *target,
    const rill_bench_config *cfg, rill_bench_result *res);

// Set by SIGINT and SIGTERM: runs stop early and the tool cleans up.
extern volatile sig_atomic_t rill_bench_interrupted;

// Printing the figures (bench_fmt.c).
// rill_bench_fmt_count writes v rounded, with thousands separators
// ("1,234,567"), into buf and returns it.
const char *rill_bench_fmt_count(char *buf, size_t n, double v);
// rill_bench_json_num prints ,"name":v in fmt, or null when not present.
void rill_bench_json_num(
    const char *name, bool present, double v, const char *fmt);
// rill_bench_secs_since returns the seconds since the monotonic time t0.
double rill_bench_secs_since(uint64_t t0);
// rill_bench_pct_us returns the q quantile of h in microseconds.
double rill_bench_pct_us(const rill_bench_hist *h, double q);

// Helpers shared by the targets.
uint64_t rill_bench_now_ns(void);
// rill_bench_sleep_ms sleeps; returns false at once if interrupted.
bool rill_bench_sleep_ms(uint64_t ms);
// rill_bench_rand advances a splitmix64 state and returns its output.
uint64_t rill_bench_rand(uint64_t *state);
// rill_bench_seed returns a fresh per-thread seed.
uint64_t rill_bench_seed(int idx);
// rill_bench_key writes the key_size bytes of key number index: printable,
// derived from a hash of index, so keys spread over the keyspace.
void rill_bench_key(uint8_t *key, size_t key_size, uint64_t index);
// rill_bench_seq_key writes the key_size bytes of key number seq of client
// idx: two bytes for idx (0 to 4095), then seq as key_size - 2 digits, most
// significant first, of an alphabet in ASCII order, so a client's keys
// sort as their numbers do (key_size >= RILL_BENCH_SEQ_MIN_KEY_SIZE).
#define RILL_BENCH_SEQ_MIN_KEY_SIZE 8 // 6 digits: 2^36 keys a client
void rill_bench_seq_key(uint8_t *key, size_t key_size, int idx, uint64_t seq);
// rill_bench_write_key writes the key of the next write of client idx, by
// cfg->key_order: that of a random index drawn from *rng, or the client's
// next sequential key, number *seq (then incremented).
void rill_bench_write_key(const rill_bench_config *cfg, uint8_t *key, int idx,
    uint64_t *rng, uint64_t *seq);
// rill_bench_value returns a random value of cfg->value_size bytes.
const uint8_t *rill_bench_value(const rill_bench_config *cfg, uint64_t *rng);
// rill_bench_load_chunk returns the keys per request for preloading, so a
// request stays near 1 MiB (1 to 1000 keys).
size_t rill_bench_load_chunk(const rill_bench_config *cfg);
void   rill_bench_errf(char *err, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *rill_bench_workload_name(rill_bench_workload w);
const char *rill_bench_mode_name(rill_bench_mode m);
const char *rill_bench_key_order_name(rill_bench_key_order o);

// Child processes (bench_proc.c).
//
// rill_bench_spawn starts argv[0] with argv, stdout and stderr going to
// log_path (appended), and returns its pid, or -1 with a message. The
// child runs in a process group of its own (Ctrl-C does not reach it) and
// gets SIGTERM if this process dies.
pid_t rill_bench_spawn(
    char *const *argv, const char *log_path, char *err, size_t n);
// rill_bench_child_alive returns false once pid has exited (it is then
// reaped: *statusp gets its wait status).
bool rill_bench_child_alive(pid_t pid, int *statusp);
// rill_bench_stop sends SIGTERM to pid and waits up to wait_ms for it, then
// SIGKILL. Returns its wait status, or -1 if it could not be reaped.
int rill_bench_stop(pid_t pid, uint64_t wait_ms);
// rill_bench_describe_status writes "exited with status 3" and the like.
void rill_bench_describe_status(int status, char *buf, size_t n);
// rill_bench_free_port returns a TCP port on 127.0.0.1 that was free a
// moment ago, or -1.
int rill_bench_free_port(void);
// rill_bench_self_path writes the path of this executable.
int rill_bench_self_path(char *buf, size_t n);
// rill_bench_remove_tree removes path and everything under it.
int rill_bench_remove_tree(const char *path);
// rill_bench_is_tmpfs tells whether path lives on a RAM file system
// (where fsync costs nothing).
bool rill_bench_is_tmpfs(const char *path);
// rill_bench_proc_rss reads VmRSS and VmHWM (bytes) of pid.
int rill_bench_proc_rss(pid_t pid, uint64_t *rssp, uint64_t *peakp);
// rill_bench_print_log_tail copies the last lines of path to stderr.
void rill_bench_print_log_tail(const char *path, int n_lines);

// The rill target (bench_rill.c): the SDK against a running rilld.
// arg: the URL, or "local:DIR" for handles of rill_open_local on DIR.
extern const rill_bench_target rill_bench_rill_target;
// rill_bench_rill_wait polls rill_status until url answers (true), pid (if
// > 0) exits or timeout_ms passes.
bool rill_bench_rill_wait(
    const char *url, pid_t pid, uint64_t timeout_ms, char *err, size_t n);
// rill_bench_rill_load writes keys [first, first + count) with batches
// from n_threads clients; *secondsp gets the time it took.
int rill_bench_rill_load(const char *url, const rill_bench_config *cfg,
    uint64_t first, uint64_t count, int n_threads, double *secondsp, char *err,
    size_t n);
// rill_bench_rill_put_count puts keys [first, first + count), one
// rill_put_async each, keeping in_flight calls in flight on one handle
// until all have completed; *secondsp gets the time it took.
int rill_bench_rill_put_count(const char *url, const rill_bench_config *cfg,
    uint64_t first, uint64_t count, int in_flight, double *secondsp, char *err,
    size_t n);

// The nng echo baseline (bench_echo.c).
//
// rill_bench_echo_serve runs the echo server on url until SIGTERM or
// SIGINT; it is what `rill_bench --echo-server URL` does. Returns an exit
// code.
int rill_bench_echo_serve(const char *url);
// rill_bench_echo_wait waits until the echo server at url answers.
bool rill_bench_echo_wait(
    const char *url, pid_t pid, uint64_t timeout_ms, char *err, size_t n);
// rill_bench_echo_size returns the message size that stands for one
// request of cfg's workload.
size_t rill_bench_echo_size(const rill_bench_config *cfg);
extern const rill_bench_target rill_bench_echo_target; // arg: the URL
// rill_bench_echo_transfer moves total bytes from the echo server at url
// in round trips of at most chunk bytes, one at a time on one REQ
// socket (after one untimed round trip): with oneway false each request
// carries the chunk and comes back whole (an echo, the bytes go both
// ways); with oneway true a 16-byte request asks the server for a reply
// of chunk bytes (the bytes go one way, as a download moves them).
// *secondsp gets the time of the measured round trips.
int rill_bench_echo_transfer(const char *url, uint64_t total, size_t chunk,
    bool oneway, double *secondsp, char *err, size_t n);

// The LevelDB baseline (bench_leveldb.c).
typedef struct rill_bench_ldb rill_bench_ldb;

// rill_bench_ldb_open creates a LevelDB in dir (which must not hold one).
int rill_bench_ldb_open(
    rill_bench_ldb **ldbp, const char *dir, char *err, size_t n);
void rill_bench_ldb_close(rill_bench_ldb *ldb); // NULL is a no-op
// rill_bench_ldb_load writes keys [first, first + count), unsynced.
int rill_bench_ldb_load(rill_bench_ldb *ldb, const rill_bench_config *cfg,
    uint64_t first, uint64_t count, char *err, size_t n);
extern const rill_bench_target rill_bench_ldb_target; // arg: the ldb

// The history figures (bench_history.c): snapshot creation, snapshot
// download, restore, and writes while snapshots run, each with a baseline
// measured in the same run. See bench/README.md.
typedef enum rill_bench_figure {
	RILL_BENCH_FIG_SNAPSHOT,        // in-process: snapshot vs bare walk
	RILL_BENCH_FIG_DOWNLOAD,        // GetSnapshot vs nng echo
	RILL_BENCH_FIG_RESTORE,         // rill_restore vs a LevelDB load
	RILL_BENCH_FIG_SNAPSHOT_WRITES, // puts during snapshots vs without
	RILL_BENCH_N_FIGURES,
} rill_bench_figure;

const char *rill_bench_figure_name(rill_bench_figure f);

typedef struct rill_bench_history {
	// The run's config: sizes, clients, durations, value pool. The
	// snapshot-writes figure sets its workload and mode while it runs.
	rill_bench_config *cfg;
	bool               figures[RILL_BENCH_N_FIGURES];
	uint64_t           n_keys;      // keys of the stores measured
	uint64_t           n_records;   // puts after the snapshot (restore)
	size_t             chunk_bytes; // GetSnapshot chunk
	const char        *tmp;         // the run's temporary directory
	// The rilld started (NULL when none: only the snapshot figure).
	const char *rill_url;
	const char *data_dir;   // its --data-dir
	int         admin_port; // its --admin-listen port
	const char *echo_url;   // NULL without baselines
	const char *sync;       // rilld's --sync
	bool        json;
	bool        baselines;
	// In and out: keys [0, rill_loaded) are in rilld.
	uint64_t rill_loaded;
	bool     had_errors; // out: some calls failed (exit status 1)
} rill_bench_history;

// rill_bench_history_run measures and prints the figures asked for, in
// the order of rill_bench_figure. It returns 0, or -1 once a figure could
// not be measured (after saying why on stderr).
int rill_bench_history_run(rill_bench_history *h);

// The follower figures (bench_follow.c): replication lag, catch-up and
// leader throughput with followers, each with a baseline measured in the
// same run. Each figure starts its own rillds. See bench/README.md.
typedef enum rill_bench_follow_figure {
	RILL_BENCH_FOLLOW_LAG,        // ack at the leader -> apply, paced puts
	RILL_BENCH_FOLLOW_CATCHUP,    // a restarted follower vs log + LevelDB
	RILL_BENCH_FOLLOW_THROUGHPUT, // puts with two followers vs none
	RILL_BENCH_N_FOLLOW,
} rill_bench_follow_figure;

// The --rilld-arg arguments a run takes at most.
#define RILL_BENCH_MAX_RILLD_ARGS 32

const char *rill_bench_follow_figure_name(rill_bench_follow_figure f);

typedef struct rill_bench_follow {
	// The run's config: sizes, clients, durations, value pool. The
	// throughput figure sets its workload and mode while it runs.
	rill_bench_config *cfg;
	bool               figures[RILL_BENCH_N_FOLLOW];
	const char        *rilld; // the rilld to start
	char *const       *rilld_args;
	int                n_rilld_args;
	const char        *tmp;       // the run's temporary directory
	const char        *sync;      // every rilld's --sync
	double             rate;      // lag: puts a second
	uint64_t           n_records; // catchup: records behind
	bool               json;
	bool               baselines;
	bool               keep_dir;   // keep the rillds' data
	bool               had_errors; // out: some calls failed (exit 1)
} rill_bench_follow;

// rill_bench_follow_run measures and prints the figures asked for, in
// the order of rill_bench_follow_figure. It returns 0, or -1 once a
// figure could not be measured (after saying why on stderr).
int rill_bench_follow_run(rill_bench_follow *f);

// The local mode figures (bench_local.c): puts of a process that is not
// the leader against the nng ipc echo, and the time a failover after a
// SIGKILL of the leader takes. See bench/README.md.
typedef enum rill_bench_local_figure {
	RILL_BENCH_LOCAL_PUT,      // a client process's puts vs ipc echo
	RILL_BENCH_LOCAL_FAILOVER, // SIGKILL of the leader to a put done
	RILL_BENCH_N_LOCAL,
} rill_bench_local_figure;

const char *rill_bench_local_figure_name(rill_bench_local_figure f);

typedef struct rill_bench_local {
	// The run's config: sizes, clients, durations, value pool. The put
	// figure sets its workload and mode while it runs.
	rill_bench_config *cfg;
	bool               figures[RILL_BENCH_N_LOCAL];
	const char        *tmp;   // the run's temporary directory
	const char        *sync;  // the leaders' sync policy
	int                kills; // failover: the leader is killed this often
	bool               json;
	bool               baselines;
	bool               had_errors; // out: some calls failed (exit 1)
} rill_bench_local;

// rill_bench_local_run measures and prints the figures asked for, in the
// order of rill_bench_local_figure. It returns 0, or -1 once a figure
// could not be measured (after saying why on stderr).
int rill_bench_local_run(rill_bench_local *l);

// rill_bench_local_leader is `rill_bench --local-leader DIR`: a process
// of the figures that opens DIR with rill_open_local (leader or not),
// prints "ready PID" and holds its handle until SIGTERM or SIGINT.
// Returns an exit code.
int rill_bench_local_leader(const char *dir, const char *sync);

// The disk figure (bench_disk.c): what one write + fdatasync costs on the
// disk of the run's directory (latency, CPU time, context switches), the
// price every group commit pays under sync "always". See bench/README.md.
#define RILL_BENCH_DISK_RECORD_BYTES 1024

typedef struct rill_bench_disk {
	const char *tmp; // the run's temporary directory: the file goes here
	double      warmup_s;
	double      duration_s;
	bool        json;
} rill_bench_disk;

// rill_bench_disk_run measures and prints the figure. It returns 0, or -1
// after saying on stderr why it could not.
int rill_bench_disk_run(const rill_bench_disk *d);

#endif // RILL_BENCH_H
