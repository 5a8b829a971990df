// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// client: the handle, its connections and the call state machine with its
// retries. Every endpoint has its own nng REQ socket, dialed at open
// without waiting; pick_endpoint alone chooses where an attempt goes, from
// what probes (Status calls of the SDK's own) and NOT_LEADER answers told
// about each endpoint's role. A call owns an nng_ctx and two nng_aio (I/O
// and back-off) and moves on their callbacks, so any number of calls are
// in flight at once and nothing here blocks except rill_close and the sync
// waiters.
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>

#include "client.h"
#include "ext.h"
#include "nng_close.h"

// The call state machine. io_cb and backoff_cb run the transitions;
// exactly one aio operation is pending while a call is in SEND, RECV or
// BACKOFF (on c->aio in SEND and RECV, on c->backoff_aio in BACKOFF).
//
//   rill__call_start
//          |  attempt_start: pick an endpoint, send a copy of the request
//          v  (attempt > 0 appended), aio timeout = the attempt's time
//   +--> SEND ----------- failed: no connection before the attempt ended,
//   |      | sent         |        pipe lost, ...
//   |      v              |
//   |    RECV ------------+------ failed: no reply in time, pipe lost
//   |      | reply        v
//   |      v          on_error --- closing, or not retryable ---> finish
//   |  on_reply --- UNAVAILABLE --> retry --- deadline passed --> finish
//   |      |                         |
//   |      +-- final code ---------> finish (completion runs once)
//   |                                | backoff > 0
//   +--- attempt_start <------- BACKOFF (nng_sleep_aio on backoff_aio)
//
// Invariants: a call sits on client->calls (counted by n_calls) from
// rill__call_start until its completion has returned; then it goes to the
// idle list, aio and ctx kept for the next call. A retry keeps request_id
// and counts attempt up. nng's own resend is off, so an attempt is sent
// once; when its connection drops, nng 1.5.2 fails the pending receive at
// once with NNG_ECONNRESET (it does not resend by itself with the resend
// time infinite), and on_error retries it.
//
// The back-off sleeps on an aio of its own: in nng 1.5.2 an aio that
// once ran nng_sleep_aio completes a later operation's timeout with
// result 0 instead of NNG_ETIMEDOUT, so a send that found no connection
// looked sent (its message left in the aio, the receive then failing
// with NNG_ESTATE).
//
// Endpoints and roles. The endpoint array has a fixed capacity (those
// given plus EXTRA_ENDPOINTS learnt from NOT_LEADER hints or a follower's
// Status), so an endpoint's address never changes; n_eps only grows, and
// an endpoint is complete before n_eps counts it. Each endpoint has a role
// (unknown, leader, follower) set by its probe and by NOT_LEADER answers,
// and client->leader_ep names the leader (-1: unknown):
//
//   rill_open ----> probe every endpoint (pinned Status calls, internal)
//   probe_done ---- role "leader": leader_ep = it (a leader whose lineage
//                   holds the current one's generation wins a tie)
//               \-- role "follower": its leader URL is found or added, and
//                   becomes leader_ep unless a confirmed leader is known
//   NOT_LEADER ---- the endpoint is a follower; leader_ep = the hint (the
//                   call hops there at once, same request id), else -1
//   NOT_LEADER from leader_ep -> reprobe all
//   leader's pipe removed, or an attempt finds no connection to it ----
//                   its role is unknown, leader_ep = -1, reprobe all (at
//                   most every REPROBE_MIN_MS): a follower promoted
//                   meanwhile is found, and a write that met it as a
//                   follower goes back to it
//   a pipe added ------ probe (after the first one, a restart: the role
//                       is unknown until the probe answers)
//
// Probes start lazily (maybe_probe, at each attempt) because pipe_event
// runs under nng's locks and may only set atomic flags. A read whose
// choice depends on a role still unknown waits for its probe, if that
// probe is young (see undecided).
//
// Long polls. Get and Scan with a min_seq, and FetchLog, carry wait_ms as
// the last field on the wire: the packed request holds a 5-byte varint
// there, rewritten for each attempt to the attempt's time less a margin,
// so the node answers before the attempt gives up.
//
// Closing: rill_close cancels every call at once except those in RECV,
// whose request is on the wire: they get CLOSE_GRACE_MS for their answer
// before they are cancelled too. nng 1.5.2 can hang for good in nng_close
// when a connection closes while replies are still arriving (seen with a
// plain nng program too; waiting for the replies made it go away), and a
// write that was applied is better reported as such than as cancelled.
// The sockets close last, each bounded (nng_close.h): a close that still
// does not end leaves the client's memory behind rather than the caller
// blocked for good.

#define DEFAULT_DEADLINE_MS 10000
#define DEFAULT_ATTEMPT_TIMEOUT_MS 2000
#define DEFAULT_RECONNECT_MIN_MS 20
#define DEFAULT_RECONNECT_MAX_MS 1000
#define DEFAULT_MAX_REQUEST_BYTES (16u << 20)
// RECV_MAX_BYTES caps a reply; nng drops a connection that sends more.
#define RECV_MAX_BYTES ((size_t) 64 << 20)
// AVOID_MS: an endpoint that answered UNAVAILABLE is passed over this long
// when another one is connected.
#define AVOID_MS 1000
// CONNECT_WAIT_MS: with several endpoints, an attempt sent to one that is
// not connected waits this long for it before the next attempt tries
// another (a single endpoint waits the attempt's full time).
#define CONNECT_WAIT_MS 100
// CLOSE_GRACE_MS: how long rill_close waits for the answers to requests
// already sent before it cancels them.
#define CLOSE_GRACE_MS 200
// FIRST_DIAL_MS: how long rill_close lets an endpoint's first connection
// finish (nng 1.5.2 leaks the dialer of a socket closed while its
// connection is being set up; seen with a plain nng program too).
#define FIRST_DIAL_MS 200
#define BACKOFF_MIN_MS 10
#define BACKOFF_MAX_MS 640
// ATTEMPT_TAG is the key of Request.attempt (field 4, varint) on the wire.
#define ATTEMPT_TAG ((4u << 3) | 0u)
// MAX_ENDPOINTS bounds the endpoint array (a call's skip mask is 64 bits);
// EXTRA_ENDPOINTS of it are kept for leaders learnt from hints.
#define MAX_ENDPOINTS 64
#define EXTRA_ENDPOINTS 8
// MAX_HOPS: NOT_LEADER answers a write follows before it fails with it.
#define MAX_HOPS 5
// DISCOVERY_WAIT_MS: how long after its start a read whose endpoint
// depends on roles still unknown waits for the probes, polling every
// DISCOVERY_POLL_MS.
#define DISCOVERY_WAIT_MS 500
#define DISCOVERY_POLL_MS 5
// REPROBE_MIN_MS: the least time between two probes of every endpoint, so
// that many calls failing at once (a leader gone) ask once.
#define REPROBE_MIN_MS 100
// READ_WAIT_MAX_MS: the most a min_seq read asks a node to wait (the
// server's cap).
#define READ_WAIT_MAX_MS 30000
// WAIT_PLACEHOLDER is packed as wait_ms and found again as the last five
// bytes of the message (UINT32_MAX as a varint).
#define WAIT_PLACEHOLDER UINT32_MAX
#define WAIT_VARINT_LEN 5

// PICK_WAIT: pick_endpoint's answer when the call should wait for the
// probes before choosing.
#define PICK_WAIT (-1)

typedef enum ep_role {
	ROLE_UNKNOWN,
	ROLE_LEADER,
	ROLE_FOLLOWER,
} ep_role;

typedef struct endpoint {
	rill_client *client;
	int          index;
	char        *url;
	nng_socket   sock;
	nng_dialer   dialer; // replaced only by rill__ext_redial
	bool         sock_open;
	// pipe_id is the live connection (0: none). A dialer holds at most
	// one connection at a time; pipe_event keeps this.
	_Atomic uint32_t pipe_id;
	_Atomic nng_time avoid_until;
	_Atomic int      role;       // ep_role
	_Atomic uint64_t generation; // from its last Status (0: unknown)
	_Atomic bool     probing;    // a probe of it is under way
	_Atomic bool     need_probe; // a probe is due (maybe_probe starts it)
	_Atomic bool     connected_once;
	_Atomic nng_time probe_started; // of the last probe
	nng_time         opened_at;     // when its dialer started
} endpoint;

typedef enum call_state {
	CALL_IDLE,
	CALL_SEND,
	CALL_RECV,
	CALL_BACKOFF,
} call_state;

typedef struct call call;
struct call {
	rill_client       *client;
	call              *prev;
	call              *next;
	nng_aio           *aio;         // sends and receives
	nng_aio           *backoff_aio; // the pause before a retry only
	nng_ctx            ctx;
	int                ctx_ep; // endpoint ctx belongs to; -1: no ctx open
	_Atomic call_state state;  // written by callbacks, read by rill_close
	// req is the packed request as first sent (attempt 0), owned here.
	nng_msg                     *req;
	uint64_t                     request_id;
	Rill__V1__Response__BodyCase expect;
	rill__completion             comp;
	nng_time                     deadline;
	nng_time                     attempt_end;
	uint32_t                     deadline_ms;
	uint32_t                     attempt;
	int                          ep; // endpoint of the current attempt
	bool                         reached; // an attempt got on a connection
	bool                         is_write;  // Put, Delete or Write
	bool                         internal;  // a probe: cancelled at close
	bool                         long_poll; // cancelled at close too
	rill_read_preference         pref;      // reads: resolved
	int                          pin_ep;  // >= 0: every attempt goes there
	int                          hint_ep; // >= 0: a NOT_LEADER hint
	uint32_t                     hops;    // NOT_LEADER answers followed
	uint64_t                     skip; // endpoints this call passes over
	nng_time                     start;
	bool                         wait_patch; // see "Long polls" above
	uint32_t                     wait_max_ms;
	bool                         is_fetch; // FetchLog: after fetch_after
	uint64_t                     fetch_after;
	uint32_t                     rng;
	char                         why[RILL__MSG_MAX / 2]; // last failure
	char                         msg[RILL__MSG_MAX];     // final message
};

struct rill_client {
	rill_options     opts;
	char            *auth_token; // "" when none
	char            *endpoints;  // as given, for messages
	uint64_t         client_id;
	_Atomic uint64_t next_request_id;
	endpoint        *eps;     // cap_eps of them; n_eps in use
	_Atomic size_t   n_eps;   // grows under mu, read without it
	size_t           cap_eps; // fixed at open
	size_t       n_listed;    // eps[0..n_listed): those given to rill_open
	_Atomic int  leader_ep;   // -1: no leader known
	_Atomic bool reprobe;     // probe every endpoint at the next attempt
	_Atomic nng_time reprobe_after; // ... but not before this time
	pthread_mutex_t  mu;
	pthread_cond_t   cv; // n_calls reached 0 while closing (monotonic)
	bool             closing;
	bool             grace_over; // closing cancels calls in RECV too
	call            *calls;      // pending calls
	call            *idle;       // finished calls kept for reuse
	size_t           n_calls;
	// ext: librill-local's hooks (ext.h); NULL for a handle of
	// rill_open. local_leader is what rill_status reports of it.
	_Atomic(const rill__ext *) ext;
	_Atomic bool               local_leader;
};

static _Thread_local char last_message[RILL__MSG_MAX];

static void io_cb(void *arg);
static void backoff_cb(void *arg);
static int  attempt_start(call *c);
static void maybe_probe(rill_client *client);
static int  call_start(rill_client *client, Rill__V1__Request *req,
     Rill__V1__Response__BodyCase expect, const rill_callopts *co,
     const rill__completion *comp, int pin_ep);

// n_endpoints returns how many endpoints are in use; each of them is
// complete. Any thread.
static size_t
n_endpoints(rill_client *client)
{
	return atomic_load_explicit(&client->n_eps, memory_order_acquire);
}

// ep_bit is endpoint i's bit in a call's skip mask.
static uint64_t
ep_bit(int i)
{
	return (uint64_t) 1 << (unsigned) i;
}

void
rill_options_init(rill_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->deadline_ms        = DEFAULT_DEADLINE_MS;
	opts->attempt_timeout_ms = DEFAULT_ATTEMPT_TIMEOUT_MS;
	opts->reconnect_min_ms   = DEFAULT_RECONNECT_MIN_MS;
	opts->reconnect_max_ms   = DEFAULT_RECONNECT_MAX_MS;
	opts->max_request_bytes  = DEFAULT_MAX_REQUEST_BYTES;
	opts->auth_token         = NULL;
	opts->read_preference    = RILL_READ_LEADER;
}

const char *
rill_last_message(void)
{
	return last_message;
}

void
rill__set_last_message(const char *message)
{
	snprintf(last_message, sizeof(last_message), "%s", message);
}

int
rill__fail(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_message, sizeof(last_message), fmt, ap);
	va_end(ap);
	return code;
}

void
rill_free(void *p)
{
	free(p);
}

void
rill__waiter_init(rill__waiter *w)
{
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->done       = false;
	w->code       = RILL_OK;
	w->message[0] = '\0';
}

void
rill__waiter_fini(rill__waiter *w)
{
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
}

void
rill__waiter_wake(rill__waiter *w, int code, const char *message)
{
	pthread_mutex_lock(&w->mu);
	w->code = code;
	snprintf(w->message, sizeof(w->message), "%s", message);
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

int
rill__waiter_wait(rill__waiter *w)
{
	int code;

	pthread_mutex_lock(&w->mu);
	while (!w->done) {
		pthread_cond_wait(&w->cv, &w->mu);
	}
	code = w->code;
	pthread_mutex_unlock(&w->mu);
	if (code != RILL_OK) {
		rill__set_last_message(w->message);
	}
	rill__waiter_fini(w);
	return code;
}

// forget_leader makes endpoint i, the leader it was, a node of unknown
// role and probes every endpoint (as soon as REPROBE_MIN_MS allows): its
// connection is gone, or an attempt found none. A follower promoted
// meanwhile is found by its probe. Any thread; atomics only (pipe_event
// calls it under nng's locks).
static void
forget_leader(rill_client *client, int i)
{
	atomic_store(&client->eps[i].role, ROLE_UNKNOWN);
	atomic_compare_exchange_strong(&client->leader_ep, &i, -1);
	atomic_store(&client->reprobe, true);
}

// pipe_event keeps endpoint.pipe_id, and asks for probes when a node may
// have changed: a connection that comes back (the node restarted), or the
// leader's connection lost. It runs on nng's threads with an nng lock
// held, so it touches only atomics: never the client's mutex.
static void
pipe_event(nng_pipe pipe, nng_pipe_ev ev, void *arg)
{
	endpoint        *ep  = arg;
	uint32_t         id  = (uint32_t) nng_pipe_id(pipe);
	const rill__ext *ext = atomic_load(&ep->client->ext);

	if (ev == NNG_PIPE_EV_ADD_POST) {
		atomic_store(&ep->pipe_id, id);
		if (atomic_exchange(&ep->connected_once, true)) {
			atomic_store(&ep->role, ROLE_UNKNOWN);
		}
		// A probe under way goes over this connection.
		if (!atomic_load(&ep->probing)) {
			atomic_store(&ep->need_probe, true);
		}
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		int me = ep->index;
		if (atomic_compare_exchange_strong(&ep->pipe_id, &id, 0) &&
		    atomic_load(&ep->client->leader_ep) == me) {
			// The leader is gone, maybe for good: a follower may
			// be promoted. Its role is unknown until a probe says.
			forget_leader(ep->client, me);
		}
	}
	if (ext != NULL && ext->pipe_event != NULL) {
		ext->pipe_event(ext->arg, ev == NNG_PIPE_EV_ADD_POST);
	}
}

// open_endpoint opens ep's socket and starts dialing ep->url without
// waiting for a connection. Returns RILL_INVALID_ARGUMENT for a URL nng
// refuses; on error nothing stays open.
static int
open_endpoint(rill_client *client, endpoint *ep)
{
	const rill_options *o = &client->opts;
	int                 rv;

	if ((rv = nng_req0_open(&ep->sock)) != 0) {
		return rill__fail(RILL_INTERNAL,
		    "cannot open a REQ socket: %s", nng_strerror(rv));
	}
	// The SDK owns retries (same request id, counted attempts): nng's
	// blind resend stays off.
	if ((rv = nng_socket_set_ms(ep->sock, NNG_OPT_REQ_RESENDTIME,
	         NNG_DURATION_INFINITE)) != 0 ||
	    (rv = nng_socket_set_ms(ep->sock, NNG_OPT_RECONNMINT,
	         (nng_duration) o->reconnect_min_ms)) != 0 ||
	    (rv = nng_socket_set_ms(ep->sock, NNG_OPT_RECONNMAXT,
	         (nng_duration) o->reconnect_max_ms)) != 0 ||
	    (rv = nng_socket_set_size(
	         ep->sock, NNG_OPT_RECVMAXSZ, RECV_MAX_BYTES)) != 0 ||
	    (rv = nng_pipe_notify(
	         ep->sock, NNG_PIPE_EV_ADD_POST, pipe_event, ep)) != 0 ||
	    (rv = nng_pipe_notify(
	         ep->sock, NNG_PIPE_EV_REM_POST, pipe_event, ep)) != 0) {
		rv = rill__fail(RILL_INTERNAL, "cannot set up a socket: %s",
		    nng_strerror(rv));
		goto out_close;
	}
	if ((rv = nng_dialer_create(&ep->dialer, ep->sock, ep->url)) != 0 ||
	    (rv = nng_dialer_start(ep->dialer, NNG_FLAG_NONBLOCK)) != 0) {
		rv = rill__fail(RILL_INVALID_ARGUMENT,
		    "bad endpoint URL \"%s\": %s", ep->url, nng_strerror(rv));
		goto out_close;
	}
	ep->sock_open = true;
	ep->opened_at = nng_clock();
	return RILL_OK;

out_close:
	nng_close(ep->sock);
	return rv;
}

// parse_endpoints splits client->endpoints at commas into client->eps
// (URLs copied, blanks around them dropped). Opens nothing.
static int
parse_endpoints(rill_client *client)
{
	const char *p = client->endpoints;
	size_t      n = 1;

	for (const char *q = p; *q != '\0'; q++) {
		n += *q == ',';
	}
	if (n > MAX_ENDPOINTS - EXTRA_ENDPOINTS) {
		return rill__fail(RILL_INVALID_ARGUMENT,
		    "%zu endpoints given; at most %d", n,
		    MAX_ENDPOINTS - EXTRA_ENDPOINTS);
	}
	client->cap_eps = n + EXTRA_ENDPOINTS;
	if ((client->eps = calloc(client->cap_eps, sizeof(endpoint))) ==
	    NULL) {
		return rill__fail(RILL_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		const char *end = strchr(p, ',');
		size_t      len = end != NULL ? (size_t) (end - p) : strlen(p);

		while (len > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t')) {
			len--;
		}
		if (len == 0) {
			return rill__fail(RILL_INVALID_ARGUMENT,
			    "empty URL in endpoint list \"%s\"",
			    client->endpoints);
		}
		if ((client->eps[i].url = strndup(p, len)) == NULL) {
			return rill__fail(RILL_ENOMEM, "out of memory");
		}
		client->eps[i].client = client;
		client->eps[i].index  = (int) i;
		atomic_store(&client->n_eps, i + 1);
		p += len;
		p += strspn(p, " \t");
		p += *p == ',';
	}
	return RILL_OK;
}

// settle_dials waits until every endpoint dialed less than FIRST_DIAL_MS
// ago has its first connection, or that time is over. Blocks.
static void
settle_dials(rill_client *client)
{
	for (size_t i = 0; i < n_endpoints(client); i++) {
		endpoint *ep = &client->eps[i];
		while (ep->sock_open && !atomic_load(&ep->connected_once) &&
		    nng_clock() < ep->opened_at + FIRST_DIAL_MS) {
			nng_msleep(2);
		}
	}
}

// free_endpoints closes every socket opened and frees the endpoints. It
// returns false when a close did not end in time (see nng_close.h): then
// the endpoints and the client, which nng may still touch, are left.
static bool
free_endpoints(rill_client *client)
{
	bool closed = true;

	for (size_t i = 0; i < n_endpoints(client); i++) {
		endpoint *ep = &client->eps[i];
		if (ep->sock_open) {
			// No new pipe event reaches ep once closing starts.
			nng_pipe_notify(
			    ep->sock, NNG_PIPE_EV_ADD_POST, NULL, NULL);
			nng_pipe_notify(
			    ep->sock, NNG_PIPE_EV_REM_POST, NULL, NULL);
			closed &= rill__nng_close_bounded(
			    ep->sock, RILL_NNG_CLOSE_WAIT_MS, client);
		}
	}
	if (!closed) {
		return false;
	}
	for (size_t i = 0; i < n_endpoints(client); i++) {
		free(client->eps[i].url);
	}
	free(client->eps);
	return true;
}

// check_options returns RILL_INVALID_ARGUMENT, with a message, for
// options rill_open cannot honour.
static int
check_options(const rill_options *opts)
{
	if (opts->deadline_ms == 0) {
		return rill__fail(
		    RILL_INVALID_ARGUMENT, "deadline_ms must be above 0");
	}
	if (opts->max_request_bytes == 0) {
		return rill__fail(RILL_INVALID_ARGUMENT,
		    "max_request_bytes must be above 0");
	}
	if ((int) opts->read_preference < RILL_READ_DEFAULT ||
	    (int) opts->read_preference > RILL_READ_ANY) {
		return rill__fail(RILL_INVALID_ARGUMENT,
		    "read_preference %d is not a rill_read_preference",
		    (int) opts->read_preference);
	}
	if (opts->reconnect_min_ms > INT32_MAX ||
	    opts->reconnect_max_ms > INT32_MAX ||
	    opts->deadline_ms > INT32_MAX ||
	    opts->attempt_timeout_ms > INT32_MAX) {
		return rill__fail(RILL_INVALID_ARGUMENT,
		    "a duration in rill_options is above 2^31 ms");
	}
	return RILL_OK;
}

int
rill_open(
    rill_client **clientp, const char *endpoints, const rill_options *opts)
{
	rill_options       defaults;
	rill_client       *client;
	pthread_condattr_t cattr;
	int                rv;

	if (clientp == NULL || endpoints == NULL) {
		return rill__fail(RILL_INVALID_ARGUMENT,
		    "rill_open needs clientp and endpoints");
	}
	if (opts == NULL) {
		rill_options_init(&defaults);
		opts = &defaults;
	}
	if ((rv = check_options(opts)) != RILL_OK) {
		return rv;
	}
	if ((client = calloc(1, sizeof(*client))) == NULL) {
		return rill__fail(RILL_ENOMEM, "out of memory");
	}
	client->opts       = *opts;
	client->auth_token = strdup(opts->auth_token ? opts->auth_token : "");
	client->endpoints  = strdup(endpoints);
	if (client->auth_token == NULL || client->endpoints == NULL) {
		rv = rill__fail(RILL_ENOMEM, "out of memory");
		goto out_free_client;
	}
	client->opts.auth_token = client->auth_token;
	if (client->opts.read_preference == RILL_READ_DEFAULT) {
		client->opts.read_preference = RILL_READ_LEADER;
	}
	atomic_init(&client->leader_ep, -1);
	atomic_init(&client->reprobe_after, 0);
	atomic_init(&client->ext, NULL);
	atomic_init(&client->local_leader, false);
	if ((rv = parse_endpoints(client)) != RILL_OK) {
		goto out_free_endpoints;
	}
	client->n_listed = n_endpoints(client);
	// client_id names this handle to the servers' de-duplication table:
	// it must not repeat across processes, hence the kernel's randomness.
	if (getrandom(&client->client_id, sizeof(client->client_id), 0) !=
	    (ssize_t) sizeof(client->client_id)) {
		client->client_id = ((uint64_t) nng_random() << 32) ^
		    nng_random() ^ (uint64_t) nng_clock();
	}
	atomic_init(&client->next_request_id, 1);
	pthread_mutex_init(&client->mu, NULL);
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
	pthread_cond_init(&client->cv, &cattr);
	pthread_condattr_destroy(&cattr);
	for (size_t i = 0; i < client->n_listed; i++) {
		if ((rv = open_endpoint(client, &client->eps[i])) != RILL_OK) {
			goto out_fini_sync;
		}
	}
	// Learn the roles at once; calls that need them wait a little.
	for (size_t i = 0; i < client->n_listed; i++) {
		atomic_store(&client->eps[i].need_probe, true);
	}
	maybe_probe(client);
	*clientp = client;
	return RILL_OK;

out_fini_sync:
	pthread_cond_destroy(&client->cv);
	pthread_mutex_destroy(&client->mu);
out_free_endpoints:
	if (!free_endpoints(client)) {
		return rv;
	}
out_free_client:
	free(client->endpoints);
	free(client->auth_token);
	free(client);
	return rv;
}

// must_cancel tells whether a closing client cancels c's operation now:
// a call waiting for its answer keeps waiting until the grace is over.
// Call with client->mu held.
static bool
must_cancel(const call *c)
{
	return c->client->closing &&
	    (c->state != CALL_RECV || c->client->grace_over || c->internal ||
	        c->long_poll);
}

// cancel_calls cancels the operation of every call must_cancel picks.
// Called with client->mu held, so no call can finish and be reused while
// the list is walked (nng_aio_cancel does not wait for callbacks).
static void
cancel_calls(rill_client *client)
{
	for (call *c = client->calls; c != NULL; c = c->next) {
		if (must_cancel(c)) {
			nng_aio_cancel(c->aio);
			nng_aio_cancel(c->backoff_aio);
		}
	}
}

void
rill_close(rill_client *client)
{
	struct timespec  grace_end;
	call            *c;
	const rill__ext *ext;

	if (client == NULL) {
		return;
	}
	ext = atomic_load(&client->ext);
	if (ext != NULL && ext->before_close != NULL) {
		ext->before_close(ext->arg);
	}
	clock_gettime(CLOCK_MONOTONIC, &grace_end);
	grace_end.tv_nsec += (long) CLOSE_GRACE_MS * 1000000;
	grace_end.tv_sec += grace_end.tv_nsec / 1000000000;
	grace_end.tv_nsec %= 1000000000;

	// A call that starts an operation after a sweep sees closing and
	// cancels it itself (cancel_if_closing).
	pthread_mutex_lock(&client->mu);
	client->closing = true;
	cancel_calls(client);
	while (client->n_calls > 0 && !client->grace_over) {
		if (pthread_cond_timedwait(
		        &client->cv, &client->mu, &grace_end) != 0) {
			client->grace_over = true;
			cancel_calls(client);
		}
	}
	while (client->n_calls > 0) {
		pthread_cond_wait(&client->cv, &client->mu);
	}
	pthread_mutex_unlock(&client->mu);

	// Every call is idle now, but a callback may still be returning: a
	// backoff_cb that started an attempt may yet cancel it on c->aio,
	// after io_cb released the call. Stopping each call's back-off aio,
	// then its aio, waits for both callbacks before anything is freed.
	// The sockets close last, with nothing in flight (closing a REQ
	// socket under in-flight requests can hang).
	for (c = client->idle; c != NULL; c = c->next) {
		nng_aio_stop(c->backoff_aio);
		nng_aio_stop(c->aio);
	}
	while ((c = client->idle) != NULL) {
		client->idle = c->next;
		nng_aio_free(c->aio);
		nng_aio_free(c->backoff_aio);
		if (c->ctx_ep >= 0) {
			nng_ctx_close(c->ctx);
		}
		free(c);
	}
	settle_dials(client);
	if (free_endpoints(client)) {
		pthread_cond_destroy(&client->cv);
		pthread_mutex_destroy(&client->mu);
		free(client->endpoints);
		free(client->auth_token);
		free(client);
	}
	if (ext != NULL && ext->after_close != NULL) {
		ext->after_close(ext->arg);
	}
}

void
rill__ext_attach(rill_client *client, const rill__ext *ext)
{
	atomic_store(&client->ext, ext);
}

void
rill__ext_set_leader(rill_client *client, bool leader)
{
	atomic_store(&client->local_leader, leader);
}

bool
rill__ext_is_leader(const rill_client *client)
{
	return atomic_load(&client->local_leader);
}

void
rill__ext_set_message(const char *message)
{
	rill__set_last_message(message);
}

int
rill__ext_redial(rill_client *client)
{
	int n = 0;

	for (size_t i = 0; i < n_endpoints(client); i++) {
		endpoint  *ep = &client->eps[i];
		nng_dialer d;

		if (!ep->sock_open || atomic_load(&ep->pipe_id) != 0 ||
		    nng_dialer_create(&d, ep->sock, ep->url) != 0) {
			continue;
		}
		// The new dialer first, so that the socket always has one.
		if (nng_dialer_start(d, NNG_FLAG_NONBLOCK) != 0) {
			nng_dialer_close(d);
			continue;
		}
		nng_dialer_close(ep->dialer);
		ep->dialer = d;
		n++;
	}
	return n;
}

// is_closing tells whether rill_close has begun. Any thread.
static bool
is_closing(rill_client *client)
{
	bool closing;

	pthread_mutex_lock(&client->mu);
	closing = client->closing;
	pthread_mutex_unlock(&client->mu);
	return closing;
}

// cancel_if_closing runs after each operation a call starts: rill_close
// cancels only what is pending when it sweeps the calls, so an operation
// started after that would otherwise run to its timeout.
static void
cancel_if_closing(call *c)
{
	bool cancel;

	pthread_mutex_lock(&c->client->mu);
	cancel = must_cancel(c);
	pthread_mutex_unlock(&c->client->mu);
	if (cancel) {
		nng_aio_cancel(c->aio);
		nng_aio_cancel(c->backoff_aio);
	}
}

// Endpoint choice ---------------------------------------------------------

// Flags of find_ep: what an endpoint must be to match.
#define EP_CONNECTED 1u
#define EP_FRESH 2u        // has not failed an attempt lately
#define EP_FOLLOWER 4u     // known to be a follower
#define EP_NOT_FOLLOWER 8u // not known to be a follower

// find_ep returns the first of eps[0..n) that c does not skip and that is
// all flags says, or -1.
static int
find_ep(
    rill_client *client, const call *c, size_t n, nng_time now, unsigned flags)
{
	for (size_t i = 0; i < n; i++) {
		endpoint *ep   = &client->eps[i];
		int       role = atomic_load(&ep->role);

		if ((c->skip & ep_bit((int) i)) != 0 ||
		    ((flags & EP_CONNECTED) != 0 &&
		        atomic_load(&ep->pipe_id) == 0) ||
		    ((flags & EP_FRESH) != 0 &&
		        atomic_load(&ep->avoid_until) > now) ||
		    ((flags & EP_FOLLOWER) != 0 && role != ROLE_FOLLOWER) ||
		    ((flags & EP_NOT_FOLLOWER) != 0 &&
		        role == ROLE_FOLLOWER)) {
			continue;
		}
		return (int) i;
	}
	return -1;
}

// pick_in_order is the choice among eps[0..n) when roles do not decide:
// the first connected endpoint that has not failed lately (one not known
// to be a follower first, with not_follower), else the first connected
// one; with none connected, the endpoints take turns by attempt, so one
// dead address does not hold every retry. Skipped endpoints come last.
static int
pick_in_order(rill_client *client, const call *c, size_t n, nng_time now,
    bool not_follower)
{
	size_t n_free = 0, k;
	int    i;

	if ((not_follower &&
	        (i = find_ep(client, c, n, now,
	             EP_CONNECTED | EP_FRESH | EP_NOT_FOLLOWER)) >= 0) ||
	    (i = find_ep(client, c, n, now, EP_CONNECTED | EP_FRESH)) >= 0 ||
	    (i = find_ep(client, c, n, now, EP_CONNECTED)) >= 0) {
		return i;
	}
	for (size_t j = 0; j < n; j++) {
		n_free += (c->skip & ep_bit((int) j)) == 0;
	}
	if (n_free == 0) {
		return (int) (c->attempt % n);
	}
	k = c->attempt % n_free;
	for (size_t j = 0; j < n; j++) {
		if ((c->skip & ep_bit((int) j)) == 0 && k-- == 0) {
			return (int) j;
		}
	}
	return 0;
}

// undecided tells whether endpoint i, which c does not skip, has a probe
// out that started less than DISCOVERY_WAIT_MS ago and no role yet: a
// choice that depends on roles waits for it (c itself waits at most
// DISCOVERY_WAIT_MS in all). An endpoint that does not answer holds no
// choice for long: its probe ages, and a failed probe is sent again only
// over a new connection.
static bool
undecided(rill_client *client, const call *c, int i, nng_time now)
{
	endpoint *ep = &client->eps[i];

	return now < c->start + DISCOVERY_WAIT_MS &&
	    (c->skip & ep_bit(i)) == 0 && atomic_load(&ep->probing) &&
	    atomic_load(&ep->role) == ROLE_UNKNOWN &&
	    now < atomic_load(&ep->probe_started) + DISCOVERY_WAIT_MS;
}

// discovering tells whether c should wait for the probes before it picks
// among eps[0..n): there is a choice and one of them is undecided.
static bool
discovering(rill_client *client, const call *c, size_t n, nng_time now)
{
	for (size_t i = 0; n > 1 && i < n; i++) {
		if (undecided(client, c, (int) i, now)) {
			return true;
		}
	}
	return false;
}

// undecided_before tells whether an endpoint listed before endpoint i is
// undecided: it may be a better choice, and waiting for it keeps the
// choice the same from one call to the next.
static bool
undecided_before(rill_client *client, const call *c, int i, nng_time now)
{
	for (int j = 0; j < i; j++) {
		if (undecided(client, c, j, now)) {
			return true;
		}
	}
	return false;
}

// usable tells whether endpoint i may take c's attempt: it exists, c does
// not skip it, and a read goes only to the endpoints listed (n_read).
static bool
usable(const call *c, int i, size_t n_read)
{
	return i >= 0 && (c->skip & ep_bit(i)) == 0 &&
	    (c->is_write || (size_t) i < n_read);
}

// pick_endpoint chooses the endpoint of c's next attempt: the one place
// that does. A probe goes where it is pinned. A write goes to the leader a
// NOT_LEADER hint named, else the known leader, else in order (followers
// last). A read goes to the endpoints listed at open only, by preference:
// LEADER, the known leader, else in order (followers last); FOLLOWER, a
// connected follower (one that has not failed lately first), else the
// known leader, else in order; ANY, in order. Returns PICK_WAIT while a
// read whose choice depends on roles should wait for the probes.
static int
pick_endpoint(rill_client *client, const call *c)
{
	nng_time now    = nng_clock();
	size_t   n_read = client->n_listed;
	int      leader = atomic_load(&client->leader_ep);
	int      i;

	if (c->pin_ep >= 0) {
		return c->pin_ep;
	}
	if (c->is_write) {
		if (usable(c, c->hint_ep, n_read)) {
			return c->hint_ep;
		}
		if (usable(c, leader, n_read)) {
			return leader;
		}
		// A leader c passed over (it answered NOT_LEADER) that a probe
		// has since found leading: promoted meanwhile.
		if (leader >= 0 &&
		    atomic_load(&client->eps[leader].role) == ROLE_LEADER) {
			return leader;
		}
		return pick_in_order(
		    client, c, n_endpoints(client), now, true);
	}
	switch (c->pref) {
	case RILL_READ_FOLLOWER:
		if ((i = find_ep(client, c, n_read, now,
		         EP_CONNECTED | EP_FRESH | EP_FOLLOWER)) >= 0 ||
		    (i = find_ep(client, c, n_read, now,
		         EP_CONNECTED | EP_FOLLOWER)) >= 0) {
			return undecided_before(client, c, i, now) ? PICK_WAIT
			                                           : i;
		}
		if (discovering(client, c, n_read, now)) {
			return PICK_WAIT;
		}
		if (usable(c, leader, n_read)) {
			return leader;
		}
		return pick_in_order(client, c, n_read, now, false);
	case RILL_READ_ANY:
		return pick_in_order(client, c, n_read, now, false);
	default:
		if (usable(c, leader, n_read)) {
			return leader;
		}
		if (discovering(client, c, n_read, now)) {
			return PICK_WAIT;
		}
		return pick_in_order(client, c, n_read, now, true);
	}
}

// Probes ------------------------------------------------------------------

// find_or_add_endpoint returns the index of the endpoint with url, adding
// and dialing it when it is not there yet; -1 when the array is full, the
// client closes, or the URL cannot be dialed. Any thread; takes mu.
static int
find_or_add_endpoint(rill_client *client, const char *url)
{
	endpoint *ep;
	size_t    n;
	int       idx = -1;

	pthread_mutex_lock(&client->mu);
	n = n_endpoints(client);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(client->eps[i].url, url) == 0) {
			idx = (int) i;
			goto out;
		}
	}
	if (client->closing || n == client->cap_eps || url[0] == '\0') {
		goto out;
	}
	ep         = &client->eps[n];
	ep->client = client;
	ep->index  = (int) n;
	if ((ep->url = strdup(url)) == NULL) {
		goto out;
	}
	if (open_endpoint(client, ep) != RILL_OK) {
		free(ep->url);
		ep->url = NULL;
		goto out;
	}
	atomic_store(&ep->need_probe, true);
	atomic_store_explicit(&client->n_eps, n + 1, memory_order_release);
	idx = (int) n;
out:
	pthread_mutex_unlock(&client->mu);
	return idx;
}

uint64_t
rill__parse_gen(const char *s)
{
	uint64_t v = 0;

	if (s == NULL || strlen(s) != 16) {
		return 0;
	}
	for (int i = 0; i < 16; i++) {
		char     ch = s[i];
		uint64_t d;
		if (ch >= '0' && ch <= '9') {
			d = (uint64_t) (ch - '0');
		} else if (ch >= 'a' && ch <= 'f') {
			d = (uint64_t) (ch - 'a' + 10);
		} else if (ch >= 'A' && ch <= 'F') {
			d = (uint64_t) (ch - 'A' + 10);
		} else {
			return 0;
		}
		v = v << 4 | d;
	}
	return v;
}

// lineage_holds tells whether gen is an ancestor in r's lineage.
static bool
lineage_holds(const Rill__V1__StatusResponse *r, uint64_t gen)
{
	for (size_t i = 1; gen != 0 && i < r->n_lineage; i++) {
		if (rill__parse_gen(r->lineage[i]->id) == gen) {
			return true;
		}
	}
	return false;
}

// set_leader makes endpoint i, which says it leads, the leader, unless
// another endpoint already confirmed as leader has a history that i's
// lineage does not descend from (two leaders: the newer one wins).
static void
set_leader(rill_client *client, int i, const Rill__V1__StatusResponse *r)
{
	int cur = atomic_load(&client->leader_ep);

	for (;;) {
		if (cur >= 0 && cur != i &&
		    atomic_load(&client->eps[cur].role) == ROLE_LEADER &&
		    !lineage_holds(
		        r, atomic_load(&client->eps[cur].generation))) {
			return;
		}
		if (atomic_compare_exchange_weak(
		        &client->leader_ep, &cur, i)) {
			return;
		}
	}
}

// learn_leader records url as the leader a follower (endpoint from)
// names, unless a confirmed leader is known. Returns its index or -1.
static int
learn_leader(rill_client *client, int from, const char *url)
{
	int j, cur;

	if (url == NULL || url[0] == '\0' ||
	    (j = find_or_add_endpoint(client, url)) < 0 || j == from) {
		return -1;
	}
	cur = atomic_load(&client->leader_ep);
	while (cur < 0 || cur == from ||
	    atomic_load(&client->eps[cur].role) != ROLE_LEADER) {
		if (atomic_compare_exchange_weak(
		        &client->leader_ep, &cur, j)) {
			break;
		}
	}
	return j;
}

// probe_done records what a probe of endpoint comp->arg learnt: its role
// and generation, and the leader. A failed probe is tried again at the
// next attempt of any call.
static void
probe_done(const rill__completion *comp, rill__outcome *out)
{
	endpoint                       *ep     = comp->arg;
	rill_client                    *client = ep->client;
	const Rill__V1__StatusResponse *r;
	int                             me = ep->index;

	if (out->code != RILL_OK) {
		// Probe again when a connection is there, now or later
		// (pipe_event asks then).
		atomic_store(&ep->probing, false);
		if (out->code != RILL_CANCELLED &&
		    atomic_load(&ep->pipe_id) != 0) {
			atomic_store(&ep->need_probe, true);
		}
		return;
	}
	r = out->resp->status;
	atomic_store(&ep->generation, rill__parse_gen(r->generation));
	if (strcmp(r->role, "leader") == 0) {
		atomic_store(&ep->role, ROLE_LEADER);
		set_leader(client, me, r);
	} else {
		atomic_store(&ep->role, ROLE_FOLLOWER);
		atomic_compare_exchange_strong(&client->leader_ep, &me, -1);
		learn_leader(client, ep->index, r->leader);
	}
	atomic_store(&ep->probing, false);
}

// start_probe sends endpoint i a Status call of the SDK's own, unless one
// is under way. Any thread; does not block.
static void
start_probe(rill_client *client, int i)
{
	Rill__V1__Request       req  = RILL__V1__REQUEST__INIT;
	Rill__V1__StatusRequest body = RILL__V1__STATUS_REQUEST__INIT;
	endpoint               *ep   = &client->eps[i];
	rill__completion        comp = { .fn = probe_done, .arg = ep };
	char                    saved[RILL__MSG_MAX];

	if (atomic_exchange(&ep->probing, true)) {
		return;
	}
	atomic_store(&ep->probe_started, nng_clock());
	req.body_case = RILL__V1__REQUEST__BODY_STATUS;
	req.status    = &body;
	// A probe that cannot start must not leave its message to the
	// caller's thread.
	snprintf(saved, sizeof(saved), "%s", last_message);
	if (call_start(client, &req, RILL__V1__RESPONSE__BODY_STATUS, NULL,
	        &comp, i) != RILL_OK) {
		atomic_store(&ep->probing, false);
	}
	snprintf(last_message, sizeof(last_message), "%s", saved);
}

// maybe_probe starts the probes that are due. Any thread without an SDK
// lock; does not block.
static void
maybe_probe(rill_client *client)
{
	size_t   n   = n_endpoints(client);
	nng_time now = nng_clock();

	if (atomic_load(&client->reprobe) &&
	    now >= atomic_load(&client->reprobe_after) &&
	    atomic_exchange(&client->reprobe, false)) {
		atomic_store(&client->reprobe_after, now + REPROBE_MIN_MS);
		for (size_t i = 0; i < n; i++) {
			atomic_store(&client->eps[i].need_probe, true);
		}
	}
	for (size_t i = 0; i < n; i++) {
		endpoint *ep = &client->eps[i];
		if (atomic_load(&ep->need_probe) &&
		    !atomic_load(&ep->probing) &&
		    atomic_exchange(&ep->need_probe, false)) {
			start_probe(client, (int) i);
		}
	}
}

// deadline_failure writes c->msg for a call whose deadline has passed and
// returns its code: RILL_UNAVAILABLE if no attempt ever got onto a
// connection, else RILL_DEADLINE_EXCEEDED.
static int
deadline_failure(call *c)
{
	if (!c->reached) {
		snprintf(c->msg, sizeof(c->msg),
		    "no connection to %s within the deadline of %" PRIu32
		    " ms",
		    c->client->endpoints, c->deadline_ms);
		return RILL_UNAVAILABLE;
	}
	snprintf(c->msg, sizeof(c->msg),
	    "deadline of %" PRIu32 " ms exceeded after %" PRIu32
	    " attempt%s; last: %s",
	    c->deadline_ms, c->attempt, c->attempt == 1 ? "" : "s", c->why);
	return RILL_DEADLINE_EXCEEDED;
}

// put_wait writes wait_ms as the 5-byte varint at the end of msg (a
// varint may carry continuation bits it does not need).
static void
put_wait(nng_msg *msg, uint32_t wait_ms)
{
	uint8_t *p =
	    (uint8_t *) nng_msg_body(msg) + nng_msg_len(msg) - WAIT_VARINT_LEN;

	for (int i = 0; i < WAIT_VARINT_LEN - 1; i++) {
		p[i] = (uint8_t) ((wait_ms & 0x7f) | 0x80);
		wait_ms >>= 7;
	}
	p[WAIT_VARINT_LEN - 1] = (uint8_t) wait_ms;
}

// has_wait_placeholder tells whether msg ends with WAIT_PLACEHOLDER as a
// varint: the wait_ms field packed last.
static bool
has_wait_placeholder(nng_msg *msg)
{
	static const uint8_t ph[WAIT_VARINT_LEN] = { 0xff, 0xff, 0xff, 0xff,
		0x0f };
	size_t               len                 = nng_msg_len(msg);

	return len > WAIT_VARINT_LEN &&
	    memcmp((uint8_t *) nng_msg_body(msg) + len - WAIT_VARINT_LEN, ph,
	        WAIT_VARINT_LEN) == 0;
}

// attempt_wait_ms is how long a node may hold an attempt of timeout ms:
// a tenth less (at least 10 ms, at most 100 ms; half of a short attempt),
// so its answer arrives in time, and at most what the caller asked for.
static uint32_t
attempt_wait_ms(const call *c, nng_duration timeout)
{
	nng_duration margin = timeout / 10;
	nng_duration wait;

	if (margin > 100) {
		margin = 100;
	} else if (margin < 10) {
		margin = timeout / 2 < 10 ? timeout / 2 : 10;
	}
	wait = timeout - margin;

	if (wait < 0) {
		wait = 0;
	}
	return (uint64_t) wait < c->wait_max_ms ? (uint32_t) wait
	                                        : c->wait_max_ms;
}

// attempt_msg returns a copy of the request for c's current attempt of
// timeout ms. A retry appends its attempt number to the packed envelope:
// protobuf lets the last value of a scalar field win, so this equals
// repacking with the new value and spares the call from keeping the
// request's parts alive.
static int
attempt_msg(call *c, nng_duration timeout, nng_msg **msgp)
{
	uint8_t  field[8];
	size_t   n = 0;
	nng_msg *msg;

	if (nng_msg_dup(&msg, c->req) != 0) {
		return RILL_ENOMEM;
	}
	if (c->wait_patch) {
		put_wait(msg, attempt_wait_ms(c, timeout));
	}
	if (c->attempt > 0) {
		uint32_t v = c->attempt;
		field[n++] = ATTEMPT_TAG;
		for (; v >= 0x80; v >>= 7) {
			field[n++] = (uint8_t) (v | 0x80);
		}
		field[n++] = (uint8_t) v;
		if (nng_msg_append(msg, field, n) != 0) {
			nng_msg_free(msg);
			return RILL_ENOMEM;
		}
	}
	*msgp = msg;
	return RILL_OK;
}

// attempt_start sends c's next attempt (SEND). Returns RILL_OK once the
// send is under way, or the final code with c->msg written.
static int
attempt_start(call *c)
{
	rill_client *client = c->client;
	nng_time     now    = nng_clock();
	nng_duration timeout, send_timeout;
	nng_msg     *msg;
	int          ep, rv;

	if (now >= c->deadline) {
		return deadline_failure(c);
	}
	if (is_closing(client)) {
		snprintf(
		    c->msg, sizeof(c->msg), "cancelled: the client closed");
		return RILL_CANCELLED;
	}
	if (!c->internal) {
		maybe_probe(client);
	}
	if ((ep = pick_endpoint(client, c)) == PICK_WAIT) {
		c->state = CALL_BACKOFF;
		nng_sleep_aio(DISCOVERY_POLL_MS, c->backoff_aio);
		cancel_if_closing(c);
		return RILL_OK;
	}
	if (ep != c->ctx_ep) {
		if (c->ctx_ep >= 0) {
			nng_ctx_close(c->ctx);
			c->ctx_ep = -1;
		}
		if ((rv = nng_ctx_open(&c->ctx, client->eps[ep].sock)) != 0) {
			snprintf(c->msg, sizeof(c->msg),
			    "cannot open a context on %s: %s",
			    client->eps[ep].url, nng_strerror(rv));
			return rv == NNG_ENOMEM ? RILL_ENOMEM : RILL_INTERNAL;
		}
		c->ctx_ep = ep;
	}
	c->ep   = ep;
	timeout = (nng_duration) (c->deadline - now);
	if (client->opts.attempt_timeout_ms > 0 &&
	    (nng_duration) client->opts.attempt_timeout_ms < timeout) {
		timeout = (nng_duration) client->opts.attempt_timeout_ms;
	}
	if (attempt_msg(c, timeout, &msg) != RILL_OK) {
		snprintf(c->msg, sizeof(c->msg), "out of memory");
		return RILL_ENOMEM;
	}
	send_timeout = timeout;
	if (c->pin_ep < 0 && n_endpoints(client) > 1 &&
	    atomic_load(&client->eps[ep].pipe_id) == 0 &&
	    send_timeout > CONNECT_WAIT_MS) {
		send_timeout = CONNECT_WAIT_MS;
	}
	c->attempt_end = now + (nng_time) timeout;
	c->state       = CALL_SEND;
	nng_aio_set_msg(c->aio, msg);
	nng_aio_set_timeout(c->aio, send_timeout);
	nng_ctx_send(c->ctx, c->aio);
	cancel_if_closing(c);
	return RILL_OK;
}

// release returns a finished call to the idle list and wakes rill_close
// when it was the last. The call must not be touched after this.
static void
release(call *c)
{
	rill_client *client = c->client;

	nng_msg_free(c->req);
	c->req   = NULL;
	c->state = CALL_IDLE;
	pthread_mutex_lock(&client->mu);
	if (c->prev != NULL) {
		c->prev->next = c->next;
	} else {
		client->calls = c->next;
	}
	if (c->next != NULL) {
		c->next->prev = c->prev;
	}
	c->prev      = NULL;
	c->next      = client->idle;
	client->idle = c;
	client->n_calls--;
	if (client->closing && client->n_calls == 0) {
		pthread_cond_broadcast(&client->cv);
	}
	pthread_mutex_unlock(&client->mu);
}

// finish runs c's completion once with the outcome, frees the reply unless
// the completion took it, and releases c.
static void
finish(call *c, int code, const char *message, Rill__V1__Response *resp)
{
	rill__outcome out = {
		.code    = code,
		.message = message != NULL ? message : "",
		.resp    = resp,
	};

	c->comp.fn(&c->comp, &out);
	if (out.resp != NULL) {
		rill__v1__response__free_unpacked(out.resp, NULL);
	}
	release(c);
}

// backoff_ms is the pause before retry number c->attempt: 10 ms doubling
// to 640 ms, each drawn from its upper half so that many clients that
// lost one server do not come back in step.
static uint32_t
backoff_ms(call *c)
{
	uint32_t shift = c->attempt > 7 ? 6 : c->attempt - 1;
	uint32_t base  = BACKOFF_MIN_MS << shift;

	if (base > BACKOFF_MAX_MS) {
		base = BACKOFF_MAX_MS;
	}
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 17;
	c->rng ^= c->rng << 5;
	return base / 2 + c->rng % (base / 2 + 1);
}

// retry starts the next attempt of c after delay_ms (0: at once), or
// finishes c if its deadline has passed. Called from the callbacks only.
static void
retry(call *c, uint32_t hint_ms, bool pause)
{
	nng_time now = nng_clock();
	uint32_t delay;
	int      code;

	c->attempt++;
	if (now >= c->deadline) {
		code = deadline_failure(c);
		finish(c, code, c->msg, NULL);
		return;
	}
	delay = pause ? backoff_ms(c) : 0;
	if (hint_ms > delay) {
		delay = hint_ms;
	}
	if (delay == 0) {
		if ((code = attempt_start(c)) != RILL_OK) {
			finish(c, code, c->msg, NULL);
		}
		return;
	}
	if (delay > c->deadline - now) {
		delay = (uint32_t) (c->deadline - now);
	}
	c->state = CALL_BACKOFF;
	nng_sleep_aio((nng_duration) delay, c->backoff_aio);
	cancel_if_closing(c);
}

// on_error handles a failed send, receive or back-off: retry what a new
// attempt may fix, finish the rest.
static void
on_error(call *c, int rv)
{
	const char *url = c->client->eps[c->ep].url;

	if (is_closing(c->client) || rv == NNG_ECANCELED) {
		snprintf(
		    c->msg, sizeof(c->msg), "cancelled: the client closed");
		finish(c, RILL_CANCELLED, c->msg, NULL);
		return;
	}
	switch (rv) {
	case NNG_ETIMEDOUT:
		if (c->state == CALL_SEND) {
			snprintf(c->why, sizeof(c->why), "no connection to %s",
			    url);
			// A hinted leader that cannot be reached: the next
			// attempt goes where the probes say. The known leader
			// unreachable: it may be gone for good, and a follower
			// promoted (its probe will say).
			if (c->hint_ep == c->ep) {
				c->hint_ep = -1;
			}
			if (atomic_load(&c->client->leader_ep) == c->ep &&
			    atomic_load(&c->client->eps[c->ep].pipe_id) == 0) {
				forget_leader(c->client, c->ep);
			}
		} else {
			// A long-poll cut short at the deadline keeps the
			// node's word on why it waited (min_seq not applied).
			if (!c->wait_patch || c->why[0] == '\0') {
				snprintf(c->why, sizeof(c->why),
				    "no reply from %s in time", url);
			}
			atomic_store(&c->client->eps[c->ep].avoid_until,
			    nng_clock() + AVOID_MS);
		}
		// The attempt has waited its time: go again at once.
		retry(c, 0, false);
		return;
	case NNG_ESTATE:
		// A receive with no request: nng dropped it with its
		// connection. Send it again.
	case NNG_ECONNRESET:
	case NNG_ECONNSHUT:
	case NNG_ECONNREFUSED:
	case NNG_ECONNABORTED:
	case NNG_ECLOSED:
		snprintf(c->why, sizeof(c->why), "connection to %s lost: %s",
		    url, nng_strerror(rv));
		retry(c, 0, true);
		return;
	default:
		snprintf(c->msg, sizeof(c->msg), "call to %s failed: %s", url,
		    nng_strerror(rv));
		finish(c, rv == NNG_ENOMEM ? RILL_ENOMEM : RILL_INTERNAL,
		    c->msg, NULL);
		return;
	}
}

// retry_elsewhere handles the answers that say another node should have
// had c (resp stays the caller's). A NOT_LEADER write: the endpoint is a
// follower; the write hops at once to the leader the answer names, or to
// the next endpoint after a pause, MAX_HOPS times at most. A FetchLog
// OUT_OF_RANGE: a node behind the position (details.last_seq below it) is
// waited for like an UNAVAILABLE one; a node that no longer holds it is
// passed over while another connected endpoint may. A FetchLog
// FAILED_PRECONDITION for a generation the node does not hold
// (details.generation_unknown: a follower yet to move to the generation,
// or one that bootstrapped past it) is waited for the same way; one that
// says where the node's history left the generation is final (the
// watch's to judge). Returns true when c goes on (retried), false when
// resp is its final answer.
static bool
retry_elsewhere(call *c, int code, const Rill__V1__Response *resp)
{
	rill_client             *client = c->client;
	endpoint                *ep     = &client->eps[c->ep];
	const Rill__V1__Details *d      = resp->details;
	int                      me     = c->ep, j;

	if (code == RILL_NOT_LEADER) {
		atomic_store(&ep->role, ROLE_FOLLOWER);
		if (atomic_compare_exchange_strong(
		        &client->leader_ep, &me, -1)) {
			atomic_store(&client->reprobe, true);
		}
		if (c->hops >= MAX_HOPS) {
			return false;
		}
		c->hops++;
		c->skip |= ep_bit(c->ep);
		j = learn_leader(client, c->ep, d != NULL ? d->leader : NULL);
		if (j >= 0) {
			c->hint_ep = j;
			c->skip &= ~ep_bit(j);
			snprintf(c->why, sizeof(c->why),
			    "%s is not the leader; it names %s", ep->url,
			    client->eps[j].url);
			retry(c, 0, false);
		} else {
			snprintf(c->why, sizeof(c->why),
			    "%s is not the leader and names none", ep->url);
			atomic_store(&client->reprobe, true);
			retry(c, 0, true);
		}
		return true;
	}
	if (d == NULL) {
		return false;
	}
	if (code == RILL_FAILED_PRECONDITION) {
		if (!d->generation_unknown) {
			return false;
		}
		atomic_store(&ep->avoid_until, nng_clock() + AVOID_MS);
		snprintf(
		    c->why, sizeof(c->why), "%s: %s", ep->url, resp->message);
		retry(c, d->retry_after_ms, true);
		return true;
	}
	if (d->last_seq < c->fetch_after) {
		atomic_store(&ep->avoid_until, nng_clock() + AVOID_MS);
		snprintf(c->why, sizeof(c->why),
		    "%s is behind: its last seq is %" PRIu64
		    ", not yet %" PRIu64,
		    ep->url, d->last_seq, c->fetch_after);
		retry(c, d->retry_after_ms, true);
		return true;
	}
	if (d->oldest_seq > c->fetch_after + 1) {
		c->skip |= ep_bit(c->ep);
		for (size_t i = 0; i < client->n_listed; i++) {
			if ((c->skip & ep_bit((int) i)) == 0 &&
			    atomic_load(&client->eps[i].pipe_id) != 0) {
				snprintf(c->why, sizeof(c->why),
				    "%s holds seqs from %" PRIu64 " only",
				    ep->url, d->oldest_seq);
				retry(c, 0, false);
				return true;
			}
		}
	}
	return false;
}

// on_reply decodes msg (consumed) and finishes c with the server's answer,
// or retries on UNAVAILABLE.
static void
on_reply(call *c, nng_msg *msg)
{
	endpoint           *ep = &c->client->eps[c->ep];
	Rill__V1__Response *resp;
	int                 code;

	resp = rill__v1__response__unpack(
	    NULL, nng_msg_len(msg), nng_msg_body(msg));
	nng_msg_free(msg);
	if (resp == NULL) {
		snprintf(c->msg, sizeof(c->msg), "undecodable reply from %s",
		    ep->url);
		finish(c, RILL_EPROTO, c->msg, NULL);
		return;
	}
	if (resp->request_id != c->request_id) {
		snprintf(c->msg, sizeof(c->msg),
		    "reply from %s answers request %" PRIu64 ", not %" PRIu64,
		    ep->url, resp->request_id, c->request_id);
		rill__v1__response__free_unpacked(resp, NULL);
		finish(c, RILL_EPROTO, c->msg, NULL);
		return;
	}
	code = (int) resp->code;
	if (code < 0 || code > RILL_WIRE_CODE_MAX) {
		code = RILL_UNKNOWN;
	}
	if ((code == RILL_NOT_LEADER && c->is_write) ||
	    ((code == RILL_OUT_OF_RANGE || code == RILL_FAILED_PRECONDITION) &&
	        c->is_fetch)) {
		if (retry_elsewhere(c, code, resp)) {
			rill__v1__response__free_unpacked(resp, NULL);
			return;
		}
	}
	if (code == RILL_UNAVAILABLE) {
		uint32_t hint =
		    resp->details ? resp->details->retry_after_ms : 0;

		atomic_store(&ep->avoid_until, nng_clock() + AVOID_MS);
		snprintf(c->why, sizeof(c->why), "%s is unavailable: %s",
		    ep->url, resp->message);
		rill__v1__response__free_unpacked(resp, NULL);
		retry(c, hint, true);
		return;
	}
	if (code == RILL_OK && resp->body_case != c->expect) {
		snprintf(c->msg, sizeof(c->msg),
		    "reply from %s carries body %d, not %d", ep->url,
		    (int) resp->body_case, (int) c->expect);
		rill__v1__response__free_unpacked(resp, NULL);
		finish(c, RILL_EPROTO, c->msg, NULL);
		return;
	}
	finish(c, code,
	    code == RILL_OK        ? ""
	        : resp->message[0] ? resp->message
	                           : rill_strerror(code),
	    resp);
}

// io_cb is the callback of c->aio: the end of a send or a receive.
static void
io_cb(void *arg)
{
	call    *c  = arg;
	int      rv = nng_aio_result(c->aio);
	nng_time now;

	switch ((call_state) c->state) {
	case CALL_SEND:
		if (rv == 0 && nng_aio_get_msg(c->aio) != NULL) {
			// nng kept no message: nothing was sent, whatever the
			// result says (see the back-off note above).
			rv = NNG_ETIMEDOUT;
		}
		if (rv != 0) {
			// A failed send leaves the message with us.
			nng_msg_free(nng_aio_get_msg(c->aio));
			nng_aio_set_msg(c->aio, NULL);
			on_error(c, rv);
			return;
		}
		c->reached = true;
		c->state   = CALL_RECV;
		now        = nng_clock();
		nng_aio_set_timeout(c->aio,
		    c->attempt_end > now
		        ? (nng_duration) (c->attempt_end - now)
		        : 1);
		nng_ctx_recv(c->ctx, c->aio);
		cancel_if_closing(c);
		return;
	case CALL_RECV:
		if (rv != 0) {
			on_error(c, rv);
			return;
		}
		on_reply(c, nng_aio_get_msg(c->aio));
		return;
	case CALL_BACKOFF:
	case CALL_IDLE:
		break;
	}
}

// backoff_cb is the callback of c->backoff_aio: the pause is over (or
// rill_close cancelled it).
static void
backoff_cb(void *arg)
{
	call *c  = arg;
	int   rv = nng_aio_result(c->backoff_aio);
	int   code;

	if (rv != 0) {
		on_error(c, rv);
		return;
	}
	if ((code = attempt_start(c)) != RILL_OK) {
		finish(c, code, c->msg, NULL);
	}
}

// take_call returns an idle call linked on client->calls, or NULL when
// closing (RILL_CANCELLED) or out of memory (RILL_ENOMEM) in *codep.
static call *
take_call(rill_client *client, int *codep)
{
	call *c;

	pthread_mutex_lock(&client->mu);
	if (client->closing) {
		pthread_mutex_unlock(&client->mu);
		*codep = rill__fail(RILL_CANCELLED, "the client is closing");
		return NULL;
	}
	if ((c = client->idle) != NULL) {
		client->idle = c->next;
	} else if ((c = calloc(1, sizeof(*c))) != NULL) {
		c->client = client;
		c->ctx_ep = -1;
		if (nng_aio_alloc(&c->aio, io_cb, c) != 0) {
			free(c);
			c = NULL;
		} else if (nng_aio_alloc(&c->backoff_aio, backoff_cb, c) !=
		    0) {
			nng_aio_free(c->aio);
			free(c);
			c = NULL;
		}
	}
	if (c == NULL) {
		pthread_mutex_unlock(&client->mu);
		*codep = rill__fail(RILL_ENOMEM, "out of memory");
		return NULL;
	}
	c->prev = NULL;
	c->next = client->calls;
	if (client->calls != NULL) {
		client->calls->prev = c;
	}
	client->calls = c;
	client->n_calls++;
	pthread_mutex_unlock(&client->mu);
	return c;
}

// wait_field returns the wait_ms of a request that long-polls (a Get or
// Scan with a min_seq, a FetchLog with a wait), and in *maxp how long the
// caller lets it wait; NULL for the others.
static uint32_t *
wait_field(Rill__V1__Request *req, uint32_t *maxp)
{
	uint32_t *w = NULL;

	switch (req->body_case) {
	case RILL__V1__REQUEST__BODY_GET:
		if (req->get->min_seq > 0) {
			w = &req->get->wait_ms;
		}
		break;
	case RILL__V1__REQUEST__BODY_SCAN:
		if (req->scan->min_seq > 0) {
			w = &req->scan->wait_ms;
		}
		break;
	case RILL__V1__REQUEST__BODY_FETCH_LOG:
		if (req->fetch_log->wait_ms > 0) {
			w = &req->fetch_log->wait_ms;
		}
		break;
	default:
		break;
	}
	if (w != NULL) {
		*maxp = *w > 0 ? *w : READ_WAIT_MAX_MS;
	}
	return w;
}

// pack_request packs req into a new message. A long-poll gets the wait
// placeholder, found again at the end of the message so that each attempt
// can set its own wait (*patchp); if it is not there (some field after
// it), the caller's wait is packed instead. req is left as it came.
static int
pack_request(rill_client *client, Rill__V1__Request *req, nng_msg **msgp,
    bool *patchp, uint32_t *wait_maxp)
{
	uint32_t *wait = wait_field(req, wait_maxp);
	uint32_t  saved;
	size_t    size;
	nng_msg  *msg;

	*patchp = false;
	if (wait != NULL) {
		saved = *wait;
		*wait = WAIT_PLACEHOLDER;
	}
	for (;;) {
		size = rill__v1__request__get_packed_size(req);
		if (size > client->opts.max_request_bytes) {
			if (wait != NULL) {
				*wait = saved;
			}
			return rill__fail(RILL_RESOURCE_EXHAUSTED,
			    "request of %zu bytes exceeds max_request_bytes "
			    "(%" PRIu32 " bytes)",
			    size, client->opts.max_request_bytes);
		}
		if (nng_msg_alloc(&msg, size) != 0) {
			if (wait != NULL) {
				*wait = saved;
			}
			return rill__fail(RILL_ENOMEM, "out of memory");
		}
		rill__v1__request__pack(req, nng_msg_body(msg));
		if (wait == NULL || *wait != WAIT_PLACEHOLDER ||
		    has_wait_placeholder(msg)) {
			break;
		}
		nng_msg_free(msg);
		*wait = *wait_maxp;
	}
	if (wait != NULL) {
		*patchp = *wait == WAIT_PLACEHOLDER;
		*wait   = saved;
	}
	*msgp = msg;
	return RILL_OK;
}

// call_start is rill__call_start, and starts probes too: pin_ep >= 0
// sends every attempt to that endpoint, and marks the call internal.
static int
call_start(rill_client *client, Rill__V1__Request *req,
    Rill__V1__Response__BodyCase expect, const rill_callopts *co,
    const rill__completion *comp, int pin_ep)
{
	uint32_t             deadline_ms, wait_max = 0;
	rill_read_preference pref;
	bool                 patch;
	nng_msg             *msg = NULL;
	call                *c;
	int                  code;

	if (client == NULL) {
		return rill__fail(RILL_INVALID_ARGUMENT, "client is NULL");
	}
	deadline_ms = co != NULL && co->deadline_ms > 0
	    ? co->deadline_ms
	    : client->opts.deadline_ms;
	if (deadline_ms > INT32_MAX) {
		// nng's durations are signed 32 bits: a longer deadline
		// would turn each attempt's timeout negative.
		return rill__fail(RILL_INVALID_ARGUMENT,
		    "deadline_ms %" PRIu32 " is above 2^31 ms", deadline_ms);
	}
	pref = co != NULL ? co->read_preference : RILL_READ_DEFAULT;
	if ((int) pref < RILL_READ_DEFAULT || (int) pref > RILL_READ_ANY) {
		return rill__fail(RILL_INVALID_ARGUMENT,
		    "read_preference %d is not a rill_read_preference",
		    (int) pref);
	}
	if (pref == RILL_READ_DEFAULT) {
		pref = client->opts.read_preference;
	}
	req->request_id = atomic_fetch_add(&client->next_request_id, 1);
	req->client_id  = client->client_id;
	req->auth_token = client->auth_token;
	req->attempt    = 0;
	if ((code = pack_request(client, req, &msg, &patch, &wait_max)) !=
	    RILL_OK) {
		return code;
	}
	if ((c = take_call(client, &code)) == NULL) {
		nng_msg_free(msg);
		return code;
	}
	c->req         = msg;
	c->request_id  = req->request_id;
	c->expect      = expect;
	c->comp        = *comp;
	c->deadline_ms = deadline_ms;
	c->start       = nng_clock();
	c->deadline    = c->start + deadline_ms;
	c->attempt     = 0;
	c->ep          = 0;
	c->reached     = false;
	c->is_write    = req->body_case == RILL__V1__REQUEST__BODY_PUT ||
	    req->body_case == RILL__V1__REQUEST__BODY_DELETE ||
	    req->body_case == RILL__V1__REQUEST__BODY_WRITE;
	c->is_fetch    = req->body_case == RILL__V1__REQUEST__BODY_FETCH_LOG;
	c->fetch_after = c->is_fetch ? req->fetch_log->after_seq : 0;
	c->internal    = pin_ep >= 0;
	c->long_poll   = c->is_fetch && wait_max > 0;
	c->pref        = pref;
	c->pin_ep      = pin_ep;
	c->hint_ep     = -1;
	c->hops        = 0;
	c->skip        = 0;
	c->wait_patch  = patch;
	c->wait_max_ms = wait_max;
	c->rng         = (uint32_t) (client->client_id ^ c->request_id) | 1;
	c->why[0]      = '\0';
	c->msg[0]      = '\0';
	if ((code = attempt_start(c)) != RILL_OK) {
		rill__set_last_message(c->msg);
		release(c);
		return code;
	}
	return RILL_OK;
}

int
rill__call_start(rill_client *client, Rill__V1__Request *req,
    Rill__V1__Response__BodyCase expect, const rill_callopts *co,
    const rill__completion *comp)
{
	return call_start(client, req, expect, co, comp, -1);
}
