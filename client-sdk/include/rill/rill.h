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
// Threads: a rill_client may be shared by any number of threads; each call
// is independent. A rill_batch or rill_scan belongs to one thread at a time.
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
	// auth_token is sent with each request (may be NULL). Copied.
	const char *auth_token;
} rill_options;

// rill_callopts adjust one call; pass NULL for the handle's settings.
typedef struct rill_callopts {
	uint32_t deadline_ms; // 0: the handle's deadline_ms
} rill_callopts;

// rill_options_init sets every field of opts to its default.
void rill_options_init(rill_options *opts);

// rill_open connects a client to endpoints, a comma-separated list of nng
// URLs ("tcp://10.0.0.1:7400,tcp://10.0.0.2:7400"). It starts dialing
// every endpoint and does not wait for a connection: calls wait (within
// their deadline) until one is up. Each attempt of a call goes to the
// first endpoint, in the order given, that is connected and has not
// answered UNAVAILABLE in the last second; with none connected, attempts
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
// that long at most, plus the callbacks. NULL is a no-op. Do not call it
// from a callback. Calls that callbacks start while it runs fail with
// RILL_CANCELLED; no other thread may use the handle once it has begun.
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
	uint32_t    deadline_ms; // per page; 0: the handle's deadline_ms
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
} rill_node_status;

// rill_status asks the node the next call would go to for its status.
// Strings are cut to fit and always NUL-terminated.
int rill_status(
    rill_client *client, rill_node_status *status, const rill_callopts *co);

#ifdef __cplusplus
}
#endif

#endif // RILL_RILL_H
