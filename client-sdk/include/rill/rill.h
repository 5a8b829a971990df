// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// rill.h: the C SDK of rill, a replicated key-value service. Link with
// -lrill (pkg-config: rill; CMake: find_package(rill) and rill::rill).
//
//	rill_client *c;
//	if (rill_open(&c, "tcp://127.0.0.1:7400", NULL) != RILL_OK) { ... }
//	rill_put(c, "k", 1, "v", 1, NULL, NULL);
//	void *v; size_t n;
//	if (rill_get(c, "k", 1, &v, &n, NULL) == RILL_OK) { ...; rill_free(v);
//} 	rill_close(c);
//
// Keys and values are byte strings (any bytes, including NUL). Every call
// returns a code of rill/status.h: RILL_OK (0) on success, RILL_NOT_FOUND
// for a missing key, and otherwise the failure, whose message for humans
// rill_last_message() gives on the calling thread.
//
// Retries: a call is retried, within its deadline, when the connection
// drops, an attempt gets no answer, or the server answers UNAVAILABLE
// (after a short back-off, at least the server's retry_after_ms hint); a
// write keeps its request id across retries, so the server applies it
// once and answers a retry with the first result. Calls that fail with a
// final code (INVALID_ARGUMENT, NOT_FOUND, RESOURCE_EXHAUSTED, NOT_LEADER,
// ...) are not retried. When the deadline passes, a call that never got
// onto a connection fails with RILL_UNAVAILABLE ("no connection to ..."),
// one that did with RILL_DEADLINE_EXCEEDED. Other codes the SDK itself
// returns: RILL_CANCELLED (rill_close), RILL_ENOMEM, RILL_EPROTO (a reply
// that cannot be decoded or does not match its request).
//
// Several nodes: give rill_open the leader and its followers. Writes go
// to the leader, found by asking every endpoint for its Status and by
// following NOT_LEADER answers; reads go where the read preference says,
// and rill_watch streams the changes of the log.
//
// Threads: a rill_client may be shared by any number of threads; each call
// is independent. A rill_batch, rill_scan or rill_watch belongs to one
// thread at a time.
#ifndef RILL_RILL_H
#define RILL_RILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rill/status.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rill_client rill_client;
typedef struct rill_batch  rill_batch;
typedef struct rill_scan   rill_scan;
typedef struct rill_watch  rill_watch;

// rill_read_preference chooses the node a read (get, scan, status, watch)
// goes to. Reads go only to the endpoints given to rill_open (writes may
// also follow a NOT_LEADER hint to a leader not in the list).
typedef enum rill_read_preference {
	// RILL_READ_DEFAULT: in rill_callopts, rill_scan_opts and
	// rill_watch_opts, the handle's preference.
	RILL_READ_DEFAULT = 0,
	// RILL_READ_LEADER: the leader, once known. Until then (or when the
	// leader is not among the endpoints), the first endpoint in order
	// that is connected and not known to be a follower, else any.
	RILL_READ_LEADER = 1,
	// RILL_READ_FOLLOWER: a connected follower (the first in order that
	// has not answered UNAVAILABLE lately, else the first); the leader
	// only when no follower is connected.
	RILL_READ_FOLLOWER = 2,
	// RILL_READ_ANY: the first endpoint in order that is connected and
	// has not answered UNAVAILABLE lately, whatever its role.
	RILL_READ_ANY = 3,
} rill_read_preference;

// rill_options are the settings of a client handle. Start from
// rill_options_init, which sets every default, then change what you need.
typedef struct rill_options {
	// deadline_ms bounds each call, retries included (default 10000).
	// Must be above 0.
	uint32_t deadline_ms;
	// attempt_timeout_ms: an attempt with no answer after this is sent
	// again with the same request id (default 2000; 0: each attempt may
	// take what is left of the deadline). An attempt also waits this
	// long for a connection before it counts as failed (with several
	// endpoints, at most 100 ms before the next attempt tries another).
	uint32_t attempt_timeout_ms;
	// reconnect_min_ms, reconnect_max_ms: the reconnect back-off
	// (defaults 20 and 1000; a max of 0 keeps the interval at min).
	uint32_t reconnect_min_ms;
	uint32_t reconnect_max_ms;
	// max_request_bytes: a request whose packed envelope is larger than
	// this fails at once with RILL_RESOURCE_EXHAUSTED and a message that
	// names the limit, instead of being sent (default 16 MiB, the
	// server's default limit; must be above 0). A client that sends the
	// server more than its limit anyway (a raw nng peer, or this SDK with
	// a higher setting) gets RESOURCE_EXHAUSTED for up to twice the
	// limit; past that, nng on the server drops the connection with no
	// error reply at all: a raw client sees its connection close and its
	// request unanswered, and this SDK sees a lost connection, retries,
	// and ends with RILL_DEADLINE_EXCEEDED.
	uint32_t max_request_bytes;
	// auth_token is sent with each request (may be NULL). Copied. A
	// server with rpc_tokens answers a call without one of them
	// RILL_UNAUTHENTICATED (not retried).
	const char *auth_token;
	// read_preference: where reads go (default RILL_READ_LEADER; 0 is
	// taken as RILL_READ_LEADER).
	rill_read_preference read_preference;
} rill_options;

// rill_callopts adjust one call; pass NULL for the handle's settings.
// Zero-initialise it, then set what you need.
typedef struct rill_callopts {
	// deadline_ms: 0 for the handle's deadline_ms; at most 2^31 - 1
	// (a call with more fails at once with RILL_INVALID_ARGUMENT).
	uint32_t deadline_ms;
	// read_preference of a read (get, status); 0: the handle's.
	rill_read_preference read_preference;
	// min_seq (get): the read is served only by a node that has applied
	// this seq, typically the seq a write of this application returned:
	// read-your-writes from a follower. A node that is behind holds the
	// read up to the attempt's time, then answers UNAVAILABLE; the SDK
	// retries (another endpoint if the preference allows) until the
	// deadline, and then fails with RILL_DEADLINE_EXCEEDED. 0: no bound.
	uint64_t min_seq;
} rill_callopts;

// rill_options_init sets every field of opts to its default.
void rill_options_init(rill_options *opts);

// rill_open connects a client to endpoints, a comma-separated list of nng
// URLs ("tcp://10.0.0.1:7400,tcp://10.0.0.2:7400"), at most 56. It starts
// dialing every endpoint and asks each for its Status (its role, and the
// leader's URL) without waiting: calls wait (within their deadline) until
// a connection is up. It asks again when the leader's connection drops,
// when a node answers NOT_LEADER, and when a connection comes back.
//
// Writes go to the known leader. Until one is known, they go to the first
// endpoint in order that is connected and not known to be a follower. A
// NOT_LEADER answer that names the leader sends the write there at once,
// same request id (the URL is dialed if it is not in the list), up to 5
// such hops a call; one without a leader tries the next endpoint. Reads
// go by their read preference (rill_read_preference), to the endpoints
// listed only; just after rill_open, a read whose choice depends on roles
// not yet known waits up to 500 ms for the Status answers. An attempt
// that failed (no connection, no reply in time, UNAVAILABLE) makes its
// endpoint the last choice for a second. With none connected, attempts
// take turns among the endpoints. opts may be NULL for the defaults. On
// success the caller owns *clientp. Returns RILL_INVALID_ARGUMENT for a
// bad URL list or bad options.
int rill_open(
    rill_client **clientp, const char *endpoints, const rill_options *opts);

// rill_close ends the calls still pending, waits for their callbacks to
// return, closes the connections and frees the handle. A call whose
// request is already on the wire gets up to 200 ms more for its answer
// (so a write that was applied is reported as such); every other call,
// and any still unanswered then, fails with RILL_CANCELLED. It blocks for
// that long at most, plus the callbacks, plus up to 5 s for each
// connection's close: the nng library this SDK is built on (1.5.2) can
// hang for good in a close, and one that has not ended by then is given
// up, its memory left behind instead of freed. NULL is a no-op. Do not
// call it from a callback. Calls that callbacks start while it runs fail
// with RILL_CANCELLED; no other thread may use the handle once it has
// begun.
void rill_close(rill_client *client);

// rill_free releases memory the SDK returned (values). NULL is a no-op.
void rill_free(void *p);

// rill_last_message returns the message of the last call on this thread
// that did not return RILL_OK: the server's words or the SDK's ("" if no
// call failed yet). Valid until the next call on this thread. Callbacks
// get their call's message in rill_result instead.
const char *rill_last_message(void);

// rill_get reads key. On RILL_OK, *valuep holds a copy of the value (free
// with rill_free; NUL-terminated for convenience, not counted in *lenp).
// RILL_NOT_FOUND when the key is absent; then *valuep is untouched.
int rill_get(rill_client *client, const void *key, size_t klen, void **valuep,
    size_t *lenp, const rill_callopts *co);

// rill_put stores value under key. *seqp (if not NULL) gets the seq the
// write was committed at; RILL_OK means it is durable per the server's
// sync policy.
int rill_put(rill_client *client, const void *key, size_t klen,
    const void *value, size_t vlen, uint64_t *seqp, const rill_callopts *co);

// rill_delete removes key; deleting a missing key succeeds.
int rill_delete(rill_client *client, const void *key, size_t klen,
    uint64_t *seqp, const rill_callopts *co);

// Batches: puts and deletes applied atomically by rill_write, in order.
int    rill_batch_new(rill_batch **batchp);
void   rill_batch_free(rill_batch *batch); // NULL is a no-op
int    rill_batch_put(rill_batch *batch, const void *key, size_t klen,
       const void *value, size_t vlen);
int    rill_batch_delete(rill_batch *batch, const void *key, size_t klen);
size_t rill_batch_count(const rill_batch *batch);
void   rill_batch_clear(rill_batch *batch);

// rill_write applies batch atomically: every op or none. The batch is not
// changed and may be reused. An empty batch is RILL_INVALID_ARGUMENT.
int rill_write(rill_client *client, const rill_batch *batch, uint64_t *seqp,
    const rill_callopts *co);

// rill_result is what an asynchronous call completes with. Its pointers
// are valid only during the callback.
typedef struct rill_result {
	int         code;    // RILL_OK, RILL_NOT_FOUND, or the failure
	const char *message; // "" on success
	uint64_t    seq;     // writes: the committed seq; get: the seq read at
	const void *value;   // get: the value (NULL if not found)
	size_t      value_len; // get: its length
} rill_result;

// rill_callback runs once per asynchronous call, on an SDK thread (never
// the caller's, and possibly before the call that started it returns),
// when the call completes (also with RILL_CANCELLED from rill_close). It
// must not block for long; it may start new asynchronous calls, but must
// not make sync ones (they wait for the SDK threads it is holding).
typedef void (*rill_callback)(void *arg, const rill_result *result);

// The asynchronous forms: they return RILL_OK once the call is under way
// (and then cb runs exactly once), or a failure with no callback (see
// rill_last_message). key, value and batch are copied before they return.
// Many calls may be in flight from one thread.
int rill_get_async(rill_client *client, const void *key, size_t klen,
    const rill_callopts *co, rill_callback cb, void *arg);
int rill_put_async(rill_client *client, const void *key, size_t klen,
    const void *value, size_t vlen, const rill_callopts *co, rill_callback cb,
    void *arg);
int rill_delete_async(rill_client *client, const void *key, size_t klen,
    const rill_callopts *co, rill_callback cb, void *arg);
int rill_write_async(rill_client *client, const rill_batch *batch,
    const rill_callopts *co, rill_callback cb, void *arg);

// rill_scan_opts choose the range of a scan: keys in [start, end) (an
// empty end: no upper bound), or, with a prefix, the keys that start with
// it (start and end then further narrow the range and must start with
// the prefix if given). reverse walks the same range from its highest
// key down (end stays the exclusive upper bound). limit
// caps the entries returned in all (0: no cap); page_size is the entries
// fetched per round trip (0: 1000). Each page is one call, with the
// retries and deadline of any call.
typedef struct rill_scan_opts {
	const void *start;
	size_t      start_len;
	const void *end;
	size_t      end_len;
	const void *prefix;
	size_t      prefix_len;
	bool        reverse;
	uint64_t    limit;
	uint32_t    page_size;
	uint32_t    deadline_ms; // per page; 0: the handle's; at most 2^31 - 1
	// read_preference: where the pages are read (0: the handle's).
	rill_read_preference read_preference;
	// min_seq: as rill_callopts.min_seq, for every page. Each page also
	// asks for at least the seq the page before was served at, so a scan
	// that moves to another node never goes back in time.
	uint64_t min_seq;
} rill_scan_opts;

// rill_scan_open starts a scan; opts may be NULL for the whole keyspace.
// Pages are fetched as rill_scan_next needs them. When a connection drops,
// the next page resumes after the last key returned: every key in the
// range is returned once, in order. Each page is a consistent view; a
// scan as a whole is not a snapshot. Free it with rill_scan_close, also
// after an error.
int rill_scan_open(
    rill_client *client, const rill_scan_opts *opts, rill_scan **scanp);

// rill_scan_next moves to the next entry and returns true, or returns
// false at the end of the range or on an error (see rill_scan_error; then
// rill_last_message says why). Fetching a page blocks for its round trip.
// The pointers stay valid until the next call on scan. Any of them may be
// NULL.
bool rill_scan_next(rill_scan *scan, const void **keyp, size_t *klenp,
    const void **valuep, size_t *vlenp);

// rill_scan_error returns RILL_OK after a scan that ended normally, or the
// code that stopped it.
int rill_scan_error(const rill_scan *scan);

void rill_scan_close(rill_scan *scan); // NULL is a no-op

// rill_node_status describes the node a client talks to.
typedef struct rill_node_status {
	char     node_id[17];
	char     role[16];       // "leader" or "follower"
	char     generation[17]; // 16 hex digits
	char     version[32];
	uint64_t last_seq;    // last seq in the node's log
	uint64_t applied_seq; // last seq applied to its store
	uint64_t oldest_seq;  // oldest seq its log still holds
	uint64_t uptime_s;
	uint64_t max_request_bytes; // the node's limits
	uint64_t max_key_bytes;
	uint64_t max_value_bytes;
	// leader: on a follower, the URL of the node it follows; on a
	// leader, its own advertised URL ("" when not known).
	char     leader[256];
	uint64_t lag_records; // follower: the leader's last seq - applied
	uint64_t bootstraps;  // follower: snapshot downloads ever made
	// local_leader: for a handle of rill_open_local (rill/local.h), true
	// when this process is the one running the service of the data dir
	// (it leads); false when it is a client of another process, and
	// for a handle of rill_open. Unlike the rest, it describes this
	// process, not the node.
	bool local_leader;
} rill_node_status;

// rill_status asks a node for its status: the node a read with co's read
// preference goes to (the leader by default), and fills local_leader from
// the handle. Strings are cut to fit and always NUL-terminated.
int rill_status(
    rill_client *client, rill_node_status *status, const rill_callopts *co);

// Watching changes. A watch streams every change committed after a seq,
// in commit order, optionally only the keys under a prefix:
//
//	rill_watch_opts wo = { .after_seq = seq };
//	rill_watch     *w;
//	rill_change     ch;
//	if (rill_watch_open(c, &wo, &w) != RILL_OK) { ... }
//	for (;;) {
//		int rv = rill_watch_next(w, &ch, 1000);
//		if (rv == RILL_DEADLINE_EXCEEDED) continue; // nothing new
//		if (rv != RILL_OK) break; // see rill_last_message()
//		... ch.seq, ch.type, ch.key, ch.value ...
//	}
//	rill_watch_close(w);
//
// It reads the log of a node (FetchLog long-polls) chosen by the read
// preference, and survives lost connections, restarts of that node and
// moves to another one: every change after after_seq is returned exactly
// once, in order. The ops of one batch (rill_write) share its seq and
// come in the batch's order. A node that is behind the watch's position
// is waited for (or another one read); a position older than the oldest
// record every endpoint still holds (retention removed it) ends the watch
// with RILL_OUT_OF_RANGE and a message naming the oldest seq retained.
//
// A position is a seq of one history. The watch follows it across
// promotions (a new generation that goes on from the watch's position).
// When the history the node serves left the watch's generation before
// the position, the changes the watch returned after that fork were
// taken back: a failover lost them (a leader acknowledged them and died
// before a follower had them), or the node re-bootstrapped onto the
// history of the new leader. The watch then ends with
// RILL_FAILED_PRECONDITION, and rill_watch_fork_seq says from which seq on
// the changes it returned no longer hold; the seqs after it name other
// changes now. An application that mirrors the keyspace reads it again
// (or the keys it saw change after the fork) and watches on from there.

// RILL_WATCH_FROM_NOW as after_seq starts at the node's last seq when
// the watch opens: only changes committed later are returned.
#define RILL_WATCH_FROM_NOW UINT64_MAX

typedef struct rill_watch_opts {
	uint64_t    after_seq; // return changes with seq > after_seq
	const void *prefix;    // only keys starting with it (may be NULL)
	size_t      prefix_len;
	// read_preference: which node's log is read (0: the handle's).
	rill_read_preference read_preference;
} rill_watch_opts;

typedef enum rill_change_type {
	RILL_CHANGE_PUT    = 1,
	RILL_CHANGE_DELETE = 2,
} rill_change_type;

// rill_change is one op of a committed batch. Its pointers are valid
// until the next call on the watch.
typedef struct rill_change {
	uint64_t         seq;  // the seq of the batch the op belongs to
	rill_change_type type; // RILL_CHANGE_PUT or RILL_CHANGE_DELETE
	const void      *key;  // never NULL
	size_t           key_len;
	const void      *value; // PUT: the value (never NULL); DELETE: NULL
	size_t           value_len;
	uint64_t         time_us; // when the leader committed the batch
} rill_change;

// rill_watch_open starts a watch; opts may be NULL (every change after
// seq 0: the whole history, as long as the node still holds seq 1; once
// retention has dropped it, rill_watch_next fails with RILL_OUT_OF_RANGE,
// and a watch must start at or after the oldest seq retained, which
// rill_status reports). With
// RILL_WATCH_FROM_NOW it asks a node for its last seq, which blocks for
// that round trip. On success the caller owns *watchp; free it with
// rill_watch_close before rill_close.
int rill_watch_open(
    rill_client *client, const rill_watch_opts *opts, rill_watch **watchp);

// rill_watch_next waits up to timeout_ms for the next change and fills
// *change. Returns RILL_OK; RILL_DEADLINE_EXCEEDED when no change came in
// time (also while no node could be reached: rill_last_message says why;
// call again to go on); RILL_OUT_OF_RANGE when the watch's position is no
// longer held anywhere (final); RILL_FAILED_PRECONDITION when the history
// left the watch's before its position (final; see rill_watch_fork_seq);
// or another failure (final: the watch returns it from then on). timeout_ms 0:
// return a change already fetched, or ask a node once without waiting for new
// ones. Blocks.
int rill_watch_next(
    rill_watch *watch, rill_change *change, uint32_t timeout_ms);

// rill_watch_seq returns the watch's position: every change up to this
// seq has been returned. A new watch opened with it as after_seq goes on
// where this one stopped.
uint64_t rill_watch_seq(const rill_watch *watch);

// rill_watch_fork_seq returns, after rill_watch_next returned
// RILL_FAILED_PRECONDITION, the seq where the history left the one the
// watch was reading: the changes it returned with a higher seq were taken
// back. 0 otherwise.
uint64_t rill_watch_fork_seq(const rill_watch *watch);

void rill_watch_close(rill_watch *watch); // NULL is a no-op

#ifdef __cplusplus
}
#endif

#endif // RILL_RILL_H
