// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// admin: the HTTP admin API on CivetWeb. One handler on "/" routes every
// request by its path and method; each endpoint reads the node's parts
// (all safe to read from any thread) and answers JSON built with cJSON,
// or a snapshot file, or the Prometheus text. CivetWeb's worker threads
// run the handlers concurrently; the only state of our own that they
// share is the ready flag, under a mutex.
//
// Paths are matched as sent, neither decoded (decode_url=no) nor
// normalised (local_uri_raw), so "..", "%2e%2e", "%2f" and "%00" never
// reach a file name: a generation id must be 16 lowercase hex digits and a seq
// decimal digits, and the only file ever opened is the one those two name in
// <datadir>/generations/<id>/snapshots/, after the catalog listed it.
#include "admin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <civetweb.h>
#include <cjson/cJSON.h>
#include <rill/status.h>

#include "admin_ui_assets.h"
#include "clock.h"
#include "diag.h"
#include "hex.h"
#include "mem.h"
#include "snapshot.h"
#include "token.h"

// CivetWeb gives each connection a worker thread of its own, from its
// first byte to its close: enough for probes, the page, scrapes and
// downloads at once, and for a few idle connections besides.
#define DEFAULT_THREADS 32
// CivetWeb's per-operation socket timeout: a connection that sends no
// request, or a client that stops reading a download, for this long is
// closed and frees its worker.
#define REQUEST_TIMEOUT_MS "10000"
#define EVENTS_DEFAULT_LIMIT 100
#define EVENTS_MAX_LIMIT 10000
#define FILE_CHUNK (64u << 10)
#define READY_REASON_MAX 256

#define ALLOW_GET "GET, HEAD"
#define ALLOW_GET_POST "GET, HEAD, POST"

struct rill_admin {
	struct mg_context *ctx;
	rill_admin_options opts; // listen, tokens and role point to copies
	char              *listen;
	char              *role;
	char             **tokens;
	size_t             n_tokens;
	int                port;
	char               wake_host[256]; // where rill_admin_close connects

	pthread_mutex_t mu; // guards ready and reason
	bool            ready;
	char            reason[READY_REASON_MAX];

	// The node's parts in opts (store, log, writer, keeper, role,
	// generation) change under node_lock held for writing; every
	// request but /health, a promotion and a snapshot download (which
	// use none of them) is answered holding it for reading. Readers go
	// first (glibc's default): a writer waiting behind a long request
	// (a hash, a snapshot taken) holds up no probe.
	pthread_rwlock_t node_lock;
};

// request is one request being answered.
typedef struct request {
	rill_admin           *a;
	struct mg_connection *conn;
	const char           *method;
	const char           *path;  // as sent: not decoded, not normalised
	const char           *query; // raw, or NULL
	bool                  head;  // HEAD: headers only
} request;

// Responses --------------------------------------------------------------

// response_head holds the header values of a response until it is sent.
typedef struct response_head {
	char clen[24];
	char date[40];
} response_head;

// begin_response_with starts a response with the headers every one has,
// and cache_control as its Cache-Control. Our own Date header keeps
// CivetWeb 1.15 from making one with gmtime(), which is not thread-safe
// (ThreadSanitizer sees the workers race on it).
static void
begin_response_with(request *r, response_head *h, int status,
    const char *content_type, uint64_t len, const char *cache_control)
{
	static const char days[7][4]    = { "Sun", "Mon", "Tue", "Wed", "Thu",
		   "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May",
		"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t            now           = time(NULL);
	struct tm         tm;

	if (gmtime_r(&now, &tm) == NULL) {
		memset(&tm, 0, sizeof(tm));
		tm.tm_mday = 1;
		tm.tm_year = 70;
		tm.tm_wday = 4;
	}
	snprintf(h->date, sizeof(h->date),
	    "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7],
	    tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	snprintf(h->clen, sizeof(h->clen), "%" PRIu64, len);
	mg_response_header_start(r->conn, status);
	mg_response_header_add(r->conn, "Date", h->date, -1);
	mg_response_header_add(r->conn, "Content-Type", content_type, -1);
	mg_response_header_add(r->conn, "Content-Length", h->clen, -1);
	mg_response_header_add(r->conn, "Cache-Control", cache_control, -1);
}

// begin_response starts an API response: never stored by a cache.
static void
begin_response(request *r, response_head *h, int status,
    const char *content_type, uint64_t len)
{
	begin_response_with(r, h, status, content_type, len, "no-store");
}

// send_body answers with status, a body of len bytes (and a newline after
// it when newline is set) and up to one extra header (hname NULL: none).
// It returns status, which CivetWeb keeps for its access log.
static int
send_body(request *r, int status, const char *content_type, const void *body,
    size_t len, bool newline, const char *hname, const char *hvalue)
{
	response_head h;

	begin_response(r, &h, status, content_type, len + (newline ? 1 : 0));
	if (hname != NULL) {
		mg_response_header_add(r->conn, hname, hvalue, -1);
	}
	mg_response_header_send(r->conn);
	if (!r->head) {
		if (len > 0) {
			mg_write(r->conn, body, len);
		}
		if (newline) {
			mg_write(r->conn, "\n", 1);
		}
	}
	return status;
}

// A last resort when even the error body cannot be built.
static int
send_oom(request *r)
{
	static const char body[] =
	    "{\"error\":\"internal\",\"message\":\"out of memory\"}\n";

	return send_body(r, 500, "application/json", body, sizeof(body) - 1,
	    false, NULL, NULL);
}

// send_json_h answers with obj (which it frees) as one line of JSON, and
// up to one extra header.
static int
send_json_h(
    request *r, int status, cJSON *obj, const char *hname, const char *hvalue)
{
	char *text = obj != NULL ? cJSON_PrintUnformatted(obj) : NULL;

	cJSON_Delete(obj);
	if (text == NULL) {
		return send_oom(r);
	}
	// The newline ends the line for people reading with curl.
	send_body(r, status, "application/json", text, strlen(text), true,
	    hname, hvalue);
	cJSON_free(text);
	return status;
}

static int
send_json(request *r, int status, cJSON *obj)
{
	return send_json_h(r, status, obj, NULL, NULL);
}

// send_error_h answers {"error": code, "message": ...} with status and up
// to one extra header.
static int send_error_h(request *r, int status, const char *hname,
    const char *hvalue, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static int
send_error_h(request *r, int status, const char *hname, const char *hvalue,
    const char *code, const char *fmt, ...)
{
	char    text[512];
	va_list ap;
	cJSON  *obj;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if ((obj = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(obj, "error", code) == NULL ||
	    cJSON_AddStringToObject(obj, "message", text) == NULL) {
		cJSON_Delete(obj);
		return send_oom(r);
	}
	return send_json_h(r, status, obj, hname, hvalue);
}

#define send_error(r, status, code, ...) \
	send_error_h(r, status, NULL, NULL, code, __VA_ARGS__)

// send_failure answers a failed call of ours (rv) on behalf of what.
static int
send_failure(request *r, int rv, const char *what)
{
	switch (rv) {
	case RILL_NOT_FOUND:
		return send_error(r, 404, "not_found", "%s: not found", what);
	case RILL_UNAVAILABLE:
	case RILL_ECLOSED:
		return send_error(r, 503, "unavailable",
		    "%s: unavailable (%s)", what, rill_strerror(rv));
	default:
		return send_error(r, 500, "internal", "%s failed: %s", what,
		    rill_strerror(rv));
	}
}

static int
method_not_allowed(request *r, const char *allow)
{
	return send_error_h(r, 405, "Allow", allow, "method_not_allowed",
	    "this endpoint takes %s", allow);
}

// JSON fields --------------------------------------------------------------

// Each put_ adds one field and clears *ok when it cannot (no memory).

// put_u64 writes v as a bare integer: cJSON's doubles would round seqs and
// times past 2^53 and print some as 1e+15.
static void
put_u64(cJSON *o, const char *name, uint64_t v, bool *ok)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	if (cJSON_AddRawToObject(o, name, buf) == NULL) {
		*ok = false;
	}
}

static void
put_i64(cJSON *o, const char *name, int64_t v, bool *ok)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	if (cJSON_AddRawToObject(o, name, buf) == NULL) {
		*ok = false;
	}
}

static void
put_str(cJSON *o, const char *name, const char *s, bool *ok)
{
	if (cJSON_AddStringToObject(o, name, s) == NULL) {
		*ok = false;
	}
}

static void
put_bool(cJSON *o, const char *name, bool v, bool *ok)
{
	if (cJSON_AddBoolToObject(o, name, v) == NULL) {
		*ok = false;
	}
}

// put_id writes a generation id or hash as 16 lowercase hex digits.
static void
put_id(cJSON *o, const char *name, uint64_t v, bool *ok)
{
	char buf[17];

	snprintf(buf, sizeof(buf), "%016" PRIx64, v);
	put_str(o, name, buf, ok);
}

// put_time writes microseconds since the epoch as RFC 3339 UTC.
static void
put_time(cJSON *o, const char *name, uint64_t us, bool *ok)
{
	time_t    t = (time_t) (us / 1000000u);
	struct tm tm;
	char      buf[40];

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		snprintf(buf, sizeof(buf), "1970-01-01T00:00:00Z");
	}
	put_str(o, name, buf, ok);
}

// add_item adds a new object to array arr and returns it (NULL: no
// memory, *ok cleared).
static cJSON *
add_item(cJSON *arr, bool *ok)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		*ok = false;
		return NULL;
	}
	return o;
}

static cJSON *
add_array(cJSON *o, const char *name, bool *ok)
{
	cJSON *arr = cJSON_AddArrayToObject(o, name);

	if (arr == NULL) {
		*ok = false;
	}
	return arr;
}

static void
snapshot_json(cJSON *o, const rill_cat_snapshot *s, bool *ok)
{
	char url[80];

	snprintf(url, sizeof(url), "/v1/snapshots/%016" PRIx64 "/%" PRIu64,
	    s->generation, s->seq);
	put_id(o, "generation", s->generation, ok);
	put_u64(o, "seq", s->seq, ok);
	put_u64(o, "keys", s->key_count, ok);
	put_u64(o, "size", s->size, ok);
	put_u64(o, "raw_bytes", s->raw_bytes, ok);
	put_u64(o, "created_us", s->created_us, ok);
	put_time(o, "created", s->created_us, ok);
	put_id(o, "hash", s->state_hash, ok);
	put_u64(o, "duration_ms", s->duration_ms, ok);
	put_str(o, "url", url, ok);
}

static void
segment_json(cJSON *o, const rill_cat_segment *s, bool *ok)
{
	char crc[9];

	snprintf(crc, sizeof(crc), "%08" PRIx32, s->checksum);
	put_u64(o, "first_seq", s->first_seq, ok);
	put_u64(o, "last_seq", s->last_seq, ok);
	put_u64(o, "first_time_us", s->first_time_us, ok);
	put_u64(o, "last_time_us", s->last_time_us, ok);
	put_u64(o, "size", s->size, ok);
	put_str(o, "checksum", crc, ok);
}

static void
generation_json(
    cJSON *o, const rill_cat_generation *g, uint64_t current, bool *ok)
{
	put_id(o, "id", g->id, ok);
	if (g->parent != 0) {
		put_id(o, "parent", g->parent, ok);
	} else if (cJSON_AddNullToObject(o, "parent") == NULL) {
		*ok = false;
	}
	put_u64(o, "parent_seq", g->parent_seq, ok);
	put_u64(o, "created_us", g->created_us, ok);
	put_time(o, "created", g->created_us, ok);
	put_bool(o, "current", g->id == current, ok);
}

// Parsing paths and queries ----------------------------------------------

// parse_id reads exactly 16 lowercase hex digits from s[0..n).
static bool
parse_id(const char *s, size_t n, uint64_t *vp)
{
	return n == 16 && rill_hex16_parse(s, vp);
}

// parse_u64 reads a decimal number from s[0..n): digits only, no sign, no
// leading zero (but "0"), no overflow.
static bool
parse_u64(const char *s, size_t n, uint64_t *vp)
{
	uint64_t v = 0;

	if (n == 0 || n > 20 || (s[0] == '0' && n > 1)) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned d;
		if (s[i] < '0' || s[i] > '9') {
			return false;
		}
		d = (unsigned) (s[i] - '0');
		if (v > (UINT64_MAX - d) / 10) {
			return false;
		}
		v = v * 10 + d;
	}
	*vp = v;
	return true;
}

// query_var reads query parameter name into buf: 1 when present, 0 when
// absent, -1 when too long for buf.
static int
query_var(request *r, const char *name, char *buf, size_t n)
{
	int len;

	if (r->query == NULL) {
		return 0;
	}
	len = mg_get_var(r->query, strlen(r->query), name, buf, n);
	if (len == -1) {
		return 0;
	}
	return len < 0 ? -1 : 1;
}

// Authentication ---------------------------------------------------------

// authorized tells whether the request carries one of the tokens (always
// true when none is configured). Every token is compared, so the time
// taken does not tell which one nearly matched.
static bool
authorized(request *r)
{
	const rill_admin *a = r->a;
	const char       *h;
	size_t            n;

	if (a->n_tokens == 0) {
		return true;
	}
	if ((h = mg_get_header(r->conn, "Authorization")) == NULL ||
	    strncasecmp(h, "Bearer ", 7) != 0) {
		return false;
	}
	for (h += 7; *h == ' '; h++) { }
	n = strlen(h);
	while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '\t')) {
		n--;
	}
	return rill_token_accepted(
	    (const char *const *) a->tokens, a->n_tokens, h, n);
}

// Endpoints ----------------------------------------------------------------

static int
get_health(request *r)
{
	bool   ok  = true;
	cJSON *obj = cJSON_CreateObject();

	if (obj == NULL) {
		return send_oom(r);
	}
	put_str(obj, "status", "ok", &ok);
	if (!ok) {
		cJSON_Delete(obj);
		return send_oom(r);
	}
	return send_json(r, 200, obj);
}

// ready_now reads whether the node is ready, and why not into reason.
static bool
ready_now(rill_admin *a, char *reason, size_t n)
{
	bool ready;

	rill_admin_follow f;

	if (a->opts.writer != NULL && rill_writer_failed(a->opts.writer)) {
		snprintf(reason, n, "writer failed: restart rilld");
		return false;
	}
	if (a->opts.follow != NULL && a->opts.follow(a->opts.arg, &f)) {
		if (strcmp(f.state, "following") != 0) {
			snprintf(
			    reason, n, "%s (leader %s)", f.state, f.leader);
			return false;
		}
		if (f.lag_records > a->opts.ready_max_lag) {
			snprintf(reason, n,
			    "%" PRIu64 " records behind the leader, over "
			    "ready_max_lag (%" PRIu64 ")",
			    f.lag_records, a->opts.ready_max_lag);
			return false;
		}
	}
	if (a->opts.log == NULL) {
		snprintf(reason, n, "no log open");
		return false;
	}
	pthread_mutex_lock(&a->mu);
	ready = a->ready;
	snprintf(reason, n, "%s", a->reason);
	pthread_mutex_unlock(&a->mu);
	return ready;
}

static int
get_ready(request *r)
{
	char   reason[READY_REASON_MAX];
	bool   ok    = true;
	bool   ready = ready_now(r->a, reason, sizeof(reason));
	cJSON *obj   = cJSON_CreateObject();

	if (obj == NULL) {
		return send_oom(r);
	}
	put_bool(obj, "ready", ready, &ok);
	if (!ready) {
		put_str(obj, "reason", reason, &ok);
	}
	if (!ok) {
		cJSON_Delete(obj);
		return send_oom(r);
	}
	return send_json(r, ready ? 200 : 503, obj);
}

static void
keeper_stats(rill_admin *a, rill_keeper_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (a->opts.keeper != NULL) {
		rill_keeper_get_stats(a->opts.keeper, st);
	}
}

// settle makes the store hold every write acknowledged before the
// request, which a leader's writer may only have staged under sync none
// and interval (see writer.h). After a storage error the store is what it
// is: status, hash and snapshot report it as such.
static void
settle(const rill_admin_options *o)
{
	if (o->writer != NULL) {
		(void) rill_writer_settle(o->writer);
	}
}

static int
get_status(request *r)
{
	rill_admin               *a = r->a;
	const rill_admin_options *o = &a->opts;
	rill_keeper_stats         ks;
	rill_admin_follow         f;
	char                      reason[READY_REASON_MAX];
	bool                      ok  = true;
	cJSON                    *obj = cJSON_CreateObject();

	if (obj == NULL) {
		return send_oom(r);
	}
	keeper_stats(a, &ks);
	settle(o); // its applied seq covers what was acknowledged before it
	put_str(obj, "node_id", rill_datadir_node_id(o->dd), &ok);
	put_str(obj, "role", a->role, &ok);
	put_id(obj, "generation", o->generation, &ok);
	put_u64(obj, "last_seq", o->log ? rill_log_last_seq(o->log) : 0, &ok);
	put_u64(obj, "applied_seq",
	    o->store ? rill_store_applied_seq(o->store) : 0, &ok);
	put_u64(
	    obj, "oldest_seq", o->log ? rill_log_oldest_seq(o->log) : 0, &ok);
	put_str(obj, "version", RILL_VERSION, &ok);
	put_u64(obj, "uptime_s", (rill_mono_ms() - o->started_ms) / 1000, &ok);
	put_u64(obj, "log_bytes", o->log ? rill_log_size(o->log) : 0, &ok);
	put_u64(obj, "log_segments",
	    o->log ? rill_log_segment_count(o->log) : 0, &ok);
	if (o->follow != NULL && o->follow(o->arg, &f)) {
		put_str(obj, "leader", f.leader, &ok);
		put_str(obj, "follow_state", f.state, &ok);
		put_u64(obj, "lag_records", f.lag_records, &ok);
		ok = ok &&
		    cJSON_AddNumberToObject(obj, "lag_s", f.lag_s) != NULL;
		put_u64(obj, "bootstraps", f.bootstraps, &ok);
		put_u64(obj, "records_applied", f.records_applied, &ok);
	}
	put_u64(obj, "snapshots", ks.snapshots, &ok);
	put_u64(obj, "snapshot_bytes", ks.snapshot_bytes, &ok);
	put_u64(obj, "newest_snapshot_seq", ks.newest_snapshot_seq, &ok);
	put_bool(obj, "snapshot_running", ks.snapshot_running != 0, &ok);
	put_u64(obj, "store_memory_bytes",
	    o->store ? rill_store_approximate_memory(o->store) : 0, &ok);
	put_bool(obj, "writer_failed",
	    o->writer != NULL && rill_writer_failed(o->writer), &ok);
	put_bool(obj, "ready", ready_now(a, reason, sizeof(reason)), &ok);
	if (!ok) {
		cJSON_Delete(obj);
		return send_oom(r);
	}
	return send_json(r, 200, obj);
}

static int
get_hash(request *r)
{
	const rill_admin_options *o = &r->a->opts;
	uint64_t                  seq, hash, keys;
	bool                      ok = true;
	cJSON                    *obj;
	int                       rv;

	if (o->store == NULL) {
		return send_error(r, 503, "unavailable",
		    "no store is open (the node is bootstrapping or changing "
		    "generation)");
	}
	settle(o); // at a seq covering what was acknowledged before it
	if ((rv = rill_state_hash_store(o->store, &seq, &hash, &keys)) !=
	    RILL_OK) {
		rill_diag_err("ADMIN-HASH", "computing the state hash: %s",
		    rill_strerror(rv));
		return send_failure(r, rv, "the state hash");
	}
	if ((obj = cJSON_CreateObject()) == NULL) {
		return send_oom(r);
	}
	put_u64(obj, "seq", seq, &ok);
	put_id(obj, "hash", hash, &ok);
	put_id(obj, "generation", o->generation, &ok);
	put_u64(obj, "keys", keys, &ok);
	if (!ok) {
		cJSON_Delete(obj);
		return send_oom(r);
	}
	return send_json(r, 200, obj);
}

static int
no_catalog(request *r)
{
	return send_error(r, 503, "unavailable",
	    "this node keeps no catalog of its history");
}

static int
get_snapshots(request *r)
{
	rill_catalog      *c = r->a->opts.catalog;
	rill_cat_snapshot *snaps;
	size_t             n;
	bool               ok = true;
	cJSON             *obj, *arr;
	int                rv;

	if (c == NULL) {
		return no_catalog(r);
	}
	if ((rv = rill_catalog_snapshots(c, 0, &snaps, &n)) != RILL_OK) {
		return send_failure(r, rv, "listing the snapshots");
	}
	if ((obj = cJSON_CreateObject()) == NULL) {
		rill_free(snaps);
		return send_oom(r);
	}
	if ((arr = add_array(obj, "snapshots", &ok)) != NULL) {
		for (size_t i = 0; i < n && ok; i++) {
			cJSON *item = add_item(arr, &ok);
			if (item != NULL) {
				snapshot_json(item, &snaps[i], &ok);
			}
		}
	}
	rill_free(snaps);
	if (!ok) {
		cJSON_Delete(obj);
		return send_oom(r);
	}
	return send_json(r, 200, obj);
}

// send_unauthenticated answers a mutating request without a valid token.
static int
send_unauthenticated(request *r)
{
	bool presented = mg_get_header(r->conn, "Authorization") != NULL;

	return send_error_h(r, 401, "WWW-Authenticate",
	    presented ? "Bearer realm=\"rill\", error=\"invalid_token\""
	              : "Bearer realm=\"rill\"",
	    "unauthenticated",
	    presented ? "the bearer token is not valid"
	              : "this endpoint needs an Authorization: Bearer token");
}

static int
post_snapshots(request *r)
{
	rill_keeper      *k = r->a->opts.keeper;
	rill_cat_snapshot snap;
	char              wait_s[8];
	bool              wait = true, ok = true;
	cJSON            *obj;
	int               rv;

	// Authentication comes first: a caller without a token learns
	// nothing, not even whether the request was well formed.
	if (!authorized(r)) {
		return send_unauthenticated(r);
	}
	switch (query_var(r, "wait", wait_s, sizeof(wait_s))) {
	case 0:
		break;
	case 1:
		if (strcmp(wait_s, "true") == 0) {
			break;
		}
		if (strcmp(wait_s, "false") == 0) {
			wait = false;
			break;
		}
		// fallthrough
	default:
		return send_error(
		    r, 400, "invalid_argument", "wait must be true or false");
	}
	if (k == NULL) {
		return send_error(r, 503, "unavailable",
		    "this node takes no snapshots (no keeper runs)");
	}
	memset(&snap, 0, sizeof(snap));
	settle(&r->a->opts); // the snapshot holds what was acknowledged
	if ((rv = rill_keeper_snapshot(k, wait, &snap)) != RILL_OK) {
		if (rv == RILL_UNAVAILABLE) {
			return send_error(r, 503, "unavailable",
			    "the node is shutting down");
		}
		return send_error(r, 500, "internal",
		    "the snapshot failed: %s; see the server's log",
		    rill_strerror(rv));
	}
	if ((obj = cJSON_CreateObject()) == NULL) {
		return send_oom(r);
	}
	if (wait) {
		snapshot_json(obj, &snap, &ok);
	} else {
		put_bool(obj, "queued", true, &ok);
	}
	if (!ok) {
		cJSON_Delete(obj);
		return send_oom(r);
	}
	return send_json(r, wait ? 200 : 202, obj);
}

// get_snapshot_file streams the snapshot file the catalog lists at (gen,
// seq).
static int
get_snapshot_file(request *r, uint64_t gen, uint64_t seq)
{
	const rill_admin_options *o = &r->a->opts;
	rill_cat_snapshot         snap;
	char                      dir[PATH_MAX], path[PATH_MAX], name[32];
	char                      disp[80], hash[17];
	response_head             h;
	struct stat               st;
	uint64_t                  left;
	char                     *buf;
	int                       fd, rv;

	if (o->catalog == NULL) {
		return no_catalog(r);
	}
	rv = rill_catalog_snapshot(o->catalog, gen, seq, &snap);
	if (rv == RILL_NOT_FOUND) {
		return send_error(r, 404, "not_found",
		    "no snapshot of generation %016" PRIx64 " at seq %" PRIu64,
		    gen, seq);
	}
	if (rv != RILL_OK) {
		return send_failure(r, rv, "looking up the snapshot");
	}
	rill_snapshot_name(name, sizeof(name), seq);
	if ((rv = rill_datadir_generation_path(
	         o->dd, gen, dir, sizeof(dir))) != RILL_OK) {
		return send_failure(r, rv, "the snapshot's path");
	}
	if ((size_t) snprintf(path, sizeof(path), "%s/snapshots/%s", dir,
	        name) >= sizeof(path)) {
		return send_error(
		    r, 500, "internal", "the snapshot's path is too long");
	}
	// A file damaged on disk since it was written is never served as if
	// whole: every block is checked first (about 15M pairs/s).
	if ((rv = rill_snapshot_verify(path, NULL)) != RILL_OK &&
	    rv != RILL_ENOENT) {
		if (o->metrics != NULL) {
			rill_metrics_error(o->metrics, RILL_ERROR_CORRUPT);
		}
		return send_error(r, 500, "data_loss",
		    "the snapshot of generation %016" PRIx64 " at seq %" PRIu64
		    " is damaged on disk (%s; the log names the offset)",
		    gen, seq, rill_strerror(rv));
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		if (errno == ENOENT) {
			return send_error(r, 404, "not_found",
			    "the snapshot of generation %016" PRIx64
			    " at seq %" PRIu64 " is no longer on disk",
			    gen, seq);
		}
		rill_diag_err(
		    "ADMIN-IO", "open %s: %s", path, strerror(errno));
		return send_error(
		    r, 500, "internal", "cannot open the snapshot file");
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rill_diag_err("ADMIN-IO", "%s is not a readable file", path);
		close(fd);
		return send_error(
		    r, 500, "internal", "cannot read the snapshot file");
	}
	if ((buf = rill_alloc(FILE_CHUNK)) == NULL) {
		close(fd);
		return send_oom(r);
	}
	snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"", name);
	snprintf(hash, sizeof(hash), "%016" PRIx64, snap.state_hash);
	begin_response(
	    r, &h, 200, "application/octet-stream", (uint64_t) st.st_size);
	mg_response_header_add(r->conn, "Content-Disposition", disp, -1);
	mg_response_header_add(r->conn, "X-Rill-State-Hash", hash, -1);
	mg_response_header_send(r->conn);
	// The file is read through the descriptor opened above: retention
	// may unlink the name meanwhile, and the bytes stay readable.
	for (left = r->head ? 0 : (uint64_t) st.st_size; left > 0;) {
		size_t  want = left < FILE_CHUNK ? (size_t) left : FILE_CHUNK;
		ssize_t got  = read(fd, buf, want);
		if (got < 0 && errno == EINTR) {
			continue;
		}
		if (got <= 0) {
			// Snapshot files never change once renamed into
			// place: a short read is damage or an I/O error.
			rill_diag_err("ADMIN-IO",
			    "reading %s for a download: %s", path,
			    got < 0 ? strerror(errno) : "the file shrank");
			break;
		}
		if (mg_write(r->conn, buf, (size_t) got) <= 0) {
			break; // the client went away
		}
		left -= (uint64_t) got;
	}
	rill_free(buf);
	close(fd);
	return 200;
}

static int
get_generations(request *r)
{
	const rill_admin_options *o = &r->a->opts;
	rill_cat_generation      *gens;
	size_t                    n;
	bool                      ok = true;
	cJSON                    *obj, *arr;
	int                       rv;

	if (o->catalog == NULL) {
		return no_catalog(r);
	}
	if ((rv = rill_catalog_generations(o->catalog, &gens, &n)) !=
	    RILL_OK) {
		return send_failure(r, rv, "listing the generations");
	}
	if ((obj = cJSON_CreateObject()) == NULL) {
		rill_free(gens);
		return send_oom(r);
	}
	put_id(obj, "current", o->generation, &ok);
	if ((arr = add_array(obj, "generations", &ok)) != NULL) {
		for (size_t i = 0; i < n && ok; i++) {
			cJSON *item = add_item(arr, &ok);
			if (item != NULL) {
				generation_json(
				    item, &gens[i], o->generation, &ok);
			}
		}
	}
	rill_free(gens);
	if (!ok) {
		cJSON_Delete(obj);
		return send_oom(r);
	}
	return send_json(r, 200, obj);
}

static int
get_generation(request *r, uint64_t id)
{
	const rill_admin_options *o = &r->a->opts;
	rill_cat_generation       g;
	rill_cat_snapshot        *snaps = NULL;
	rill_cat_segment         *segs  = NULL;
	size_t                    n_snaps, n_segs;
	bool                      ok = true;
	cJSON                    *obj, *arr;
	int                       rv;

	if (o->catalog == NULL) {
		return no_catalog(r);
	}
	rv = rill_catalog_generation(o->catalog, id, &g);
	if (rv == RILL_NOT_FOUND) {
		return send_error(r, 404, "not_found",
		    "no generation %016" PRIx64 " in the catalog", id);
	}
	if (rv != RILL_OK ||
	    (rv = rill_catalog_snapshots(o->catalog, id, &snaps, &n_snaps)) !=
	        RILL_OK ||
	    (rv = rill_catalog_segments(o->catalog, id, &segs, &n_segs)) !=
	        RILL_OK) {
		rill_free(snaps);
		return send_failure(r, rv, "reading the generation");
	}
	if ((obj = cJSON_CreateObject()) == NULL) {
		rill_free(snaps);
		rill_free(segs);
		return send_oom(r);
	}
	generation_json(obj, &g, o->generation, &ok);
	if ((arr = add_array(obj, "snapshots", &ok)) != NULL) {
		for (size_t i = 0; i < n_snaps && ok; i++) {
			cJSON *item = add_item(arr, &ok);
			if (item != NULL) {
				snapshot_json(item, &snaps[i], &ok);
			}
		}
	}
	if ((arr = add_array(obj, "segments", &ok)) != NULL) {
		for (size_t i = 0; i < n_segs && ok; i++) {
			cJSON *item = add_item(arr, &ok);
			if (item != NULL) {
				segment_json(item, &segs[i], &ok);
			}
		}
	}
	rill_free(snaps);
	rill_free(segs);
	if (!ok) {
		cJSON_Delete(obj);
		return send_oom(r);
	}
	return send_json(r, 200, obj);
}

static int
get_events(request *r)
{
	rill_catalog   *c = r->a->opts.catalog;
	rill_cat_event *events;
	size_t          n;
	uint64_t        limit = EVENTS_DEFAULT_LIMIT;
	char            limit_s[24];
	bool            ok = true;
	cJSON          *obj, *arr;
	int             rv;

	switch (query_var(r, "limit", limit_s, sizeof(limit_s))) {
	case 0:
		break;
	case 1:
		if (parse_u64(limit_s, strlen(limit_s), &limit) &&
		    limit >= 1 && limit <= EVENTS_MAX_LIMIT) {
			break;
		}
		// fallthrough
	default:
		return send_error(r, 400, "invalid_argument",
		    "limit must be a number from 1 to %d", EVENTS_MAX_LIMIT);
	}
	if (c == NULL) {
		return no_catalog(r);
	}
	if ((rv = rill_catalog_events(c, (size_t) limit, &events, &n)) !=
	    RILL_OK) {
		return send_failure(r, rv, "listing the events");
	}
	if ((obj = cJSON_CreateObject()) == NULL) {
		rill_free(events);
		return send_oom(r);
	}
	if ((arr = add_array(obj, "events", &ok)) != NULL) {
		for (size_t i = 0; i < n && ok; i++) {
			cJSON *item = add_item(arr, &ok);
			if (item == NULL) {
				break;
			}
			put_i64(item, "id", events[i].id, &ok);
			put_u64(item, "time_us", events[i].time_us, &ok);
			put_time(item, "time", events[i].time_us, &ok);
			put_str(item, "kind", events[i].kind, &ok);
			put_str(item, "detail", events[i].detail, &ok);
		}
	}
	rill_free(events);
	if (!ok) {
		cJSON_Delete(obj);
		return send_oom(r);
	}
	return send_json(r, 200, obj);
}

static int
get_metrics(request *r)
{
	rill_admin               *a = r->a;
	const rill_admin_options *o = &a->opts;
	rill_keeper_stats         ks;
	rill_prom                 p;
	char                      reason[READY_REASON_MAX];
	uint64_t          last_seq = o->log ? rill_log_last_seq(o->log) : 0;
	uint64_t          lag      = 0;
	rill_admin_follow f;
	int               status;

	keeper_stats(a, &ks);
	// Without a backup target there is nothing to lag behind.
	if (ks.backups > 0 && last_seq > ks.backup_seq) {
		lag = last_seq - ks.backup_seq;
	}
	rill_prom_init(&p);
	if (o->metrics != NULL) {
		rill_metrics_render(&p, o->metrics);
	}
	rill_prom_gauge(&p, "rill_last_seq",
	    "Seq of the last record in the log.", (double) last_seq);
	rill_prom_gauge(&p, "rill_applied_seq",
	    "Seq of the last record applied to the store.",
	    o->store ? (double) rill_store_applied_seq(o->store) : 0.0);
	rill_prom_gauge(&p, "rill_oldest_seq",
	    "First seq the log still holds.",
	    o->log ? (double) rill_log_oldest_seq(o->log) : 0.0);
	rill_prom_gauge(&p, "rill_log_bytes",
	    "Bytes of the log segments on disk.",
	    o->log ? (double) rill_log_size(o->log) : 0.0);
	rill_prom_gauge(&p, "rill_log_segments", "Log segment files.",
	    o->log ? (double) rill_log_segment_count(o->log) : 0.0);
	rill_prom_gauge(&p, "rill_snapshot_bytes",
	    "Bytes of the snapshot files held.", (double) ks.snapshot_bytes);
	rill_prom_gauge(&p, "rill_snapshot_files", "Snapshot files held.",
	    (double) ks.snapshots);
	rill_prom_gauge(&p, "rill_snapshot_running",
	    "1 while a snapshot is being written.",
	    ks.snapshot_running ? 1.0 : 0.0);
	rill_prom_gauge(&p, "rill_backup_lag_seqs",
	    "Seqs the log holds beyond what every backup holds.",
	    (double) lag);
	rill_prom_gauge(&p, "rill_uptime_seconds",
	    "Seconds since the server started.",
	    (double) (rill_mono_ms() - o->started_ms) / 1e3);
	rill_prom_gauge(&p, "rill_store_memory_bytes",
	    "LevelDB's estimate of its memory use.",
	    o->store ? (double) rill_store_approximate_memory(o->store) : 0.0);
	rill_prom_gauge(&p, "rill_leader", "1 while this node is the leader.",
	    o->writer != NULL ? 1.0 : 0.0);
	if (o->follow != NULL && o->follow(o->arg, &f)) {
		rill_prom_gauge(&p, "rill_follow_lag_records",
		    "Records the leader holds that this follower has not "
		    "applied.",
		    (double) f.lag_records);
		rill_prom_gauge(&p, "rill_follow_lag_seconds",
		    "Wall-clock time between the leader's last record and "
		    "the last one applied here.",
		    f.lag_s);
		rill_prom_counter(&p, "rill_follow_bootstraps_total",
		    "Snapshot downloads this follower made.",
		    (double) f.bootstraps);
		rill_prom_counter(&p, "rill_follow_records_applied_total",
		    "Records applied from the leader since start.",
		    (double) f.records_applied);
		rill_prom_gauge(&p, "rill_follow_connected",
		    "1 while this follower reaches its leader.",
		    f.connected ? 1.0 : 0.0);
	}
	if (o->followers != NULL) {
		rill_followers_render(o->followers, &p, last_seq,
		    o->log ? rill_log_last_time_us(o->log) : 0,
		    rill_wall_us());
	}
	rill_prom_gauge(&p, "rill_writer_failed",
	    "1 once a storage error stopped the writer (restart rilld).",
	    o->writer != NULL && rill_writer_failed(o->writer) ? 1.0 : 0.0);
	rill_prom_gauge(&p, "rill_ready", "1 while the node is ready.",
	    ready_now(a, reason, sizeof(reason)) ? 1.0 : 0.0);
	if (p.err != RILL_OK) {
		rill_prom_fini(&p);
		return send_oom(r);
	}
	status = send_body(r, 200, "text/plain; version=0.0.4; charset=utf-8",
	    p.buf, p.len, false, NULL, NULL);
	rill_prom_fini(&p);
	return status;
}

static int
get_followers(request *r)
{
	const rill_admin_options *o = &r->a->opts;
	cJSON                    *obj;

	if (o->followers == NULL) {
		obj = cJSON_CreateObject();
		if (obj == NULL ||
		    cJSON_AddArrayToObject(obj, "followers") == NULL) {
			cJSON_Delete(obj);
			return send_oom(r);
		}
		return send_json(r, 200, obj);
	}
	obj = rill_followers_json(o->followers,
	    o->log ? rill_log_last_seq(o->log) : 0,
	    o->log ? rill_log_last_time_us(o->log) : 0, rill_wall_us());
	if (obj == NULL) {
		return send_oom(r);
	}
	return send_json(r, 200, obj);
}

// post_promote asks the node to become the leader. It runs without the
// node lock: the promotion changes the node's parts.
static int
post_promote(request *r)
{
	rill_admin_promotion out = { 0 };
	bool                 ok  = true;
	cJSON               *obj;
	int                  rv;

	if (!authorized(r)) {
		return send_unauthenticated(r);
	}
	if (r->a->opts.promote == NULL) {
		return send_error(
		    r, 503, "unavailable", "this node cannot be promoted");
	}
	rv = r->a->opts.promote(r->a->opts.arg, &out);
	if (rv == RILL_FAILED_PRECONDITION) {
		return send_error(r, 409, "failed_precondition", out.message);
	}
	if (rv != RILL_OK) {
		return send_error(r, 503, "unavailable", out.message);
	}
	if ((obj = cJSON_CreateObject()) == NULL) {
		return send_oom(r);
	}
	put_str(obj, "role", "leader", &ok);
	put_id(obj, "generation", out.generation, &ok);
	put_id(obj, "parent", out.parent, &ok);
	put_u64(obj, "parent_seq", out.parent_seq, &ok);
	if (!ok) {
		cJSON_Delete(obj);
		return send_oom(r);
	}
	return send_json(r, 200, obj);
}

// Routing ----------------------------------------------------------------

typedef int (*endpoint_fn)(request *r);

// routes: the fixed paths. A path with a GET handler also takes HEAD.
static const struct route {
	const char *path;
	endpoint_fn get;
	endpoint_fn post;
} routes[] = {
	{ "/ready", get_ready, NULL },
	{ "/v1/status", get_status, NULL },
	{ "/v1/hash", get_hash, NULL },
	{ "/v1/snapshots", get_snapshots, post_snapshots },
	{ "/v1/generations", get_generations, NULL },
	{ "/v1/events", get_events, NULL },
	{ "/metrics", get_metrics, NULL },
	{ "/v1/followers", get_followers, NULL },
};

#define SNAPSHOTS_PREFIX "/v1/snapshots/"
#define GENERATIONS_PREFIX "/v1/generations/"

static bool
is_get(const request *r)
{
	return strcmp(r->method, "GET") == 0 || r->head;
}

// route_snapshot_file handles /v1/snapshots/<gen>/<seq>.
static int
route_snapshot_file(request *r, const char *rest)
{
	const char *slash = strchr(rest, '/');
	uint64_t    gen, seq;

	if (slash == NULL || !parse_id(rest, (size_t) (slash - rest), &gen) ||
	    !parse_u64(slash + 1, strlen(slash + 1), &seq)) {
		return send_error(r, 400, "invalid_argument",
		    "a snapshot is /v1/snapshots/<generation: 16 lowercase "
		    "hex digits>/<seq: decimal>");
	}
	if (!is_get(r)) {
		return method_not_allowed(r, ALLOW_GET);
	}
	return get_snapshot_file(r, gen, seq);
}

static int
route_generation(request *r, const char *rest)
{
	uint64_t id;

	if (!parse_id(rest, strlen(rest), &id)) {
		return send_error(r, 400, "invalid_argument",
		    "a generation is /v1/generations/<id: 16 lowercase hex "
		    "digits>");
	}
	if (!is_get(r)) {
		return method_not_allowed(r, ALLOW_GET);
	}
	return get_generation(r, id);
}

// The admin page ---------------------------------------------------------

// PAGE_CSP lets the page load its own files only: no inline script or
// style, no other origin, no framing.
#define PAGE_CSP                                                    \
	"default-src 'self'; base-uri 'none'; form-action 'self'; " \
	"frame-ancestors 'none'; object-src 'none'"

// find_asset returns the file of the admin page served at path ("/" is
// index.html), or NULL.
static const rill_admin_asset *
find_asset(const char *path)
{
	if (strcmp(path, "/") == 0) {
		path = "/index.html";
	}
	for (size_t i = 0; i < rill_admin_asset_count; i++) {
		if (strcmp(path, rill_admin_assets[i].path) == 0) {
			return &rill_admin_assets[i];
		}
	}
	return NULL;
}

// send_asset answers a GET or HEAD of a file of the admin page, which
// needs no token (it holds no data). The browser revalidates it every
// time (no-cache) and gets 304 while its copy has the same ETag.
static int
send_asset(request *r, const rill_admin_asset *asset)
{
	const char   *inm = mg_get_header(r->conn, "If-None-Match");
	int           status;
	response_head h;

	if (!is_get(r)) {
		return method_not_allowed(r, ALLOW_GET);
	}
	status = inm != NULL && strstr(inm, asset->etag) != NULL ? 304 : 200;
	begin_response_with(
	    r, &h, status, asset->content_type, asset->size, "no-cache");
	mg_response_header_add(r->conn, "ETag", asset->etag, -1);
	mg_response_header_add(
	    r->conn, "Content-Security-Policy", PAGE_CSP, -1);
	mg_response_header_add(
	    r->conn, "X-Content-Type-Options", "nosniff", -1);
	mg_response_header_add(r->conn, "Referrer-Policy", "no-referrer", -1);
	mg_response_header_send(r->conn);
	if (!r->head && status == 200 && asset->size > 0) {
		mg_write(r->conn, asset->data, asset->size);
	}
	return status;
}

// route answers r under node_lock: the table's endpoints, a generation,
// the page's assets. /health, promotions and snapshot downloads are
// dispatched before it, without the lock.
static int
route(request *r)
{
	const rill_admin_asset *asset;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *rt = &routes[i];
		if (strcmp(r->path, rt->path) != 0) {
			continue;
		}
		if (rt->get != NULL && is_get(r)) {
			return rt->get(r);
		}
		if (rt->post != NULL && strcmp(r->method, "POST") == 0) {
			return rt->post(r);
		}
		return method_not_allowed(
		    r, rt->post != NULL ? ALLOW_GET_POST : ALLOW_GET);
	}
	if (strncmp(r->path, GENERATIONS_PREFIX, strlen(GENERATIONS_PREFIX)) ==
	    0) {
		return route_generation(
		    r, r->path + strlen(GENERATIONS_PREFIX));
	}
	if ((asset = find_asset(r->path)) != NULL) {
		return send_asset(r, asset);
	}
	return send_error(r, 404, "not_found", "no such endpoint");
}

// printable copies s into buf, truncated, with control bytes (a decoded
// %0a could forge a log line) shown as '?'.
static void
printable(char *buf, size_t n, const char *s)
{
	size_t i = 0;

	for (; s[i] != '\0' && i + 1 < n; i++) {
		unsigned char c = (unsigned char) s[i];
		buf[i]          = c < 0x20 || c == 0x7f ? '?' : (char) c;
	}
	buf[i] = '\0';
}

// handle is CivetWeb's request handler for every path.
static int
handle(struct mg_connection *conn, void *cbdata)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	request                       r  = { .a = cbdata, .conn = conn };
	int                           status;

	// local_uri_raw is neither decoded (decode_url=no) nor normalised:
	// "/a/../b" stays so, and fails the strict parse of ids instead of
	// becoming "/b"; "/v1/%73tatus" is no route.
	r.path = ri->local_uri_raw != NULL ? ri->local_uri_raw : ri->local_uri;
	r.method = ri->request_method;
	r.query  = ri->query_string;

	if (r.method == NULL || r.path == NULL) {
		return send_error(
		    &r, 400, "invalid_argument", "malformed request");
	}
	r.head = strcmp(r.method, "HEAD") == 0;
	if (strcmp(r.path, "/health") == 0) {
		// The process answers: nothing of the node is needed.
		status = is_get(&r) ? get_health(&r)
		                    : method_not_allowed(&r, ALLOW_GET);
	} else if (strcmp(r.path, "/v1/promote") == 0) {
		status = strcmp(r.method, "POST") == 0
		    ? post_promote(&r)
		    : method_not_allowed(&r, "POST");
	} else if (strncmp(r.path, SNAPSHOTS_PREFIX,
	               strlen(SNAPSHOTS_PREFIX)) == 0) {
		// A download uses the catalog and the data dir, which outlive
		// every node part: a slow client must not hold node_lock, or
		// a promotion or a follower's new generation waits for it.
		status =
		    route_snapshot_file(&r, r.path + strlen(SNAPSHOTS_PREFIX));
	} else {
		pthread_rwlock_rdlock(&r.a->node_lock);
		status = route(&r);
		pthread_rwlock_unlock(&r.a->node_lock);
	}
	if (rill_diag_enabled(RILL_DIAG_DEBUG)) {
		char shown[128];
		printable(shown, sizeof(shown), r.path);
		rill_diag_debug("ADMIN-REQUEST", "%.16s %s from %s: %d",
		    r.method, shown, ri->remote_addr, status);
	}
	return status;
}

// CivetWeb's own messages --------------------------------------------------

// While rill_admin_open starts CivetWeb, its messages are kept here (the
// first one, which names the cause) for the ADMIN-LISTEN error.
static _Thread_local char  *start_log;
static _Thread_local size_t start_log_size;

// http_error answers the errors CivetWeb finds itself (a malformed
// request, an unknown method, a header too large) in JSON, as every
// other error of the API.
static int
http_error(struct mg_connection *conn, int status, const char *errmsg)
{
	char   len[24], *body;
	cJSON *obj = cJSON_CreateObject();

	if (obj == NULL ||
	    cJSON_AddStringToObject(obj, "error",
	        status == 400       ? "bad_request"
	            : status == 405 ? "method_not_allowed"
	            : status == 413 ? "too_large"
	            : status < 500  ? "invalid_request"
	                            : "internal") == NULL ||
	    cJSON_AddStringToObject(obj, "message",
	        errmsg != NULL && errmsg[0] != '\0' ? errmsg
	                                            : "bad request") == NULL ||
	    (body = cJSON_PrintUnformatted(obj)) == NULL) {
		cJSON_Delete(obj);
		return 1; // CivetWeb's own text, then
	}
	cJSON_Delete(obj);
	snprintf(len, sizeof(len), "%zu", strlen(body) + 1);
	mg_response_header_start(conn, status);
	mg_response_header_add(conn, "Content-Type", "application/json", -1);
	mg_response_header_add(conn, "Content-Length", len, -1);
	mg_response_header_add(conn, "Connection", "close", -1);
	mg_response_header_send(conn);
	mg_printf(conn, "%s\n", body);
	cJSON_free(body);
	return 0;
}

static int
log_message(const struct mg_connection *conn, const char *msg)
{
	size_t n = strlen(msg);

	(void) conn;
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) {
		n--;
	}
	if (start_log != NULL) {
		if (start_log[0] == '\0') {
			snprintf(
			    start_log, start_log_size, "%.*s", (int) n, msg);
		}
		return 1;
	}
	rill_diag_notice("ADMIN-HTTP", "%.*s", (int) n, msg);
	return 1; // CivetWeb writes nothing itself
}

static pthread_once_t library_once = PTHREAD_ONCE_INIT;

static void
init_library(void)
{
	// It returns the features it set up; 0 (none asked) is no error.
	(void) mg_init_library(0);
}

// Opening ----------------------------------------------------------------

// split_listen splits "[host:]port" into host (may be empty) and port.
static bool
split_listen(const char *listen, char *host, size_t host_size, char *port,
    size_t port_size)
{
	const char *colon = strrchr(listen, ':');
	const char *p     = colon != NULL ? colon + 1 : listen;
	size_t      hn    = colon != NULL ? (size_t) (colon - listen) : 0;
	uint64_t    v;

	if (!parse_u64(p, strlen(p), &v) || v > 65535 || hn >= host_size ||
	    strlen(p) >= port_size) {
		return false;
	}
	if (colon != NULL && hn == 0) {
		return false;
	}
	// An IPv6 address is bracketed: "[::1]:7401".
	if (hn > 0 && listen[0] == '[' && (listen[hn - 1] != ']' || hn < 3)) {
		return false;
	}
	if (hn > 0 && listen[0] != '[' && memchr(listen, ':', hn) != NULL) {
		return false;
	}
	memcpy(host, listen, hn);
	host[hn] = '\0';
	snprintf(port, port_size, "%s", p);
	return true;
}

static bool
is_loopback(const char *host)
{
	struct in_addr in;

	if (strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0) {
		return true;
	}
	return inet_pton(AF_INET, host, &in) == 1 &&
	    (ntohl(in.s_addr) >> 24) == 127;
}

// listen_failure tells why CivetWeb could not listen on host:port, by
// binding there once ourselves: RILL_ELOCKED when the address is in use,
// RILL_INVALID_ARGUMENT for anything else about the address.
static int
listen_failure(const char *host, const char *port)
{
	struct addrinfo hints = {
		.ai_family   = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags    = AI_NUMERICSERV | AI_PASSIVE,
	};
	struct addrinfo *res;
	char             h[256];
	int              fd, rv = RILL_INVALID_ARGUMENT, one = 1;
	size_t           n = strlen(host);

	// getaddrinfo wants IPv6 addresses without their brackets.
	if (n >= 2 && host[0] == '[') {
		snprintf(h, sizeof(h), "%.*s", (int) (n - 2), host + 1);
	} else {
		snprintf(h, sizeof(h), "%s", host);
	}
	if (getaddrinfo(h[0] != '\0' ? h : NULL, port, &hints, &res) != 0) {
		return RILL_INVALID_ARGUMENT;
	}
	if ((fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC,
	         res->ai_protocol)) >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 &&
		    errno == EADDRINUSE) {
			rv = RILL_ELOCKED;
		}
		close(fd);
	}
	freeaddrinfo(res);
	return rv;
}

// set_wake_host keeps the address rill_admin_close connects to: the
// listen host, or loopback for a wildcard one.
static void
set_wake_host(rill_admin *a, const char *host)
{
	size_t n = strlen(host);

	if (n == 0 || strcmp(host, "0.0.0.0") == 0) {
		snprintf(a->wake_host, sizeof(a->wake_host), "127.0.0.1");
	} else if (strcmp(host, "[::]") == 0) {
		snprintf(a->wake_host, sizeof(a->wake_host), "::1");
	} else if (n >= 2 && host[0] == '[') {
		snprintf(a->wake_host, sizeof(a->wake_host), "%.*s",
		    (int) (n - 2), host + 1);
	} else {
		snprintf(a->wake_host, sizeof(a->wake_host), "%s", host);
	}
}

// poke_listener connects to the admin port and hangs up at once, so that
// CivetWeb's master thread, asleep in poll on its listening socket, wakes
// up and sees the stop flag.
static void
poke_listener(const rill_admin *a)
{
	struct addrinfo hints = {
		.ai_family   = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags    = AI_NUMERICSERV,
	};
	struct addrinfo *res;
	char             port[16];
	int              fd;

	snprintf(port, sizeof(port), "%d", a->port);
	if (getaddrinfo(a->wake_host, port, &hints, &res) != 0) {
		return;
	}
	fd = socket(
	    res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
	if (fd >= 0) {
		// A refused connect means nothing listens any more.
		(void) connect(fd, res->ai_addr, res->ai_addrlen);
		close(fd);
	}
	freeaddrinfo(res);
}

// A stop of CivetWeb under way: mg_stop on a thread of its own, which
// signals cv when it returned.
typedef struct stopper {
	struct mg_context *ctx;
	pthread_mutex_t    mu;
	pthread_cond_t     cv;
	bool               done;
} stopper;

static void *
stop_main(void *arg)
{
	stopper *s = arg;

	mg_stop(s->ctx);
	pthread_mutex_lock(&s->mu);
	s->done = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

// stop_civetweb stops CivetWeb and waits for every thread of it. mg_stop
// alone sets a stop flag that the master thread reads only when its poll
// of the listening socket times out (a second and more when idle, which
// made every stop of rilld that slow): while mg_stop runs, this thread
// connects to the port every POKE_MS until it returned.
#define POKE_MS 20
static void
stop_civetweb(rill_admin *a)
{
	stopper   s = { .ctx = a->ctx, .done = false };
	pthread_t t;

	pthread_mutex_init(&s.mu, NULL);
	pthread_cond_init(&s.cv, NULL);
	if (a->port <= 0 || pthread_create(&t, NULL, stop_main, &s) != 0) {
		mg_stop(a->ctx);
	} else {
		pthread_mutex_lock(&s.mu);
		while (!s.done) {
			struct timespec ts;

			pthread_mutex_unlock(&s.mu);
			poke_listener(a);
			pthread_mutex_lock(&s.mu);
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += POKE_MS * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			if (!s.done) {
				pthread_cond_timedwait(&s.cv, &s.mu, &ts);
			}
		}
		pthread_mutex_unlock(&s.mu);
		pthread_join(t, NULL);
	}
	pthread_cond_destroy(&s.cv);
	pthread_mutex_destroy(&s.mu);
}

static void
free_admin(rill_admin *a)
{
	if (a->tokens != NULL) {
		for (size_t i = 0; i < a->n_tokens; i++) {
			rill_free(a->tokens[i]);
		}
	}
	rill_free(a->tokens);
	rill_free(a->listen);
	rill_free(a->role);
	pthread_mutex_destroy(&a->mu);
	pthread_rwlock_destroy(&a->node_lock);
	rill_free(a);
}

// copy_options keeps our own copies of the strings in opts.
static int
copy_options(rill_admin *a, const rill_admin_options *opts)
{
	a->opts   = *opts;
	a->listen = rill_strdup(opts->listen);
	a->role   = rill_strdup(opts->role != NULL ? opts->role : "starting");
	if (a->listen == NULL || a->role == NULL) {
		return RILL_ENOMEM;
	}
	if (opts->n_tokens > 0) {
		a->tokens = rill_zalloc(opts->n_tokens * sizeof(char *));
		if (a->tokens == NULL) {
			return RILL_ENOMEM;
		}
		for (size_t i = 0; i < opts->n_tokens; i++) {
			if (opts->tokens[i] == NULL ||
			    opts->tokens[i][0] == '\0') {
				rill_diag_err("ADMIN-OPTIONS",
				    "admin token %zu is empty", i + 1);
				return RILL_INVALID_ARGUMENT;
			}
			if ((a->tokens[i] = rill_strdup(opts->tokens[i])) ==
			    NULL) {
				return RILL_ENOMEM;
			}
			a->n_tokens = i + 1;
		}
	}
	a->opts.listen   = a->listen;
	a->opts.role     = a->role;
	a->opts.tokens   = (const char *const *) a->tokens;
	a->opts.n_tokens = a->n_tokens;
	return RILL_OK;
}

int
rill_admin_open(rill_admin **ap, const rill_admin_options *opts)
{
	struct mg_callbacks   cbs;
	struct mg_server_port ports[4];
	rill_admin           *a;
	char                  host[256], port[8], threads[16];
	char                  why[256] = "";
	uint32_t              n_threads;
	int                   rv;

	if (opts->dd == NULL) {
		rill_diag_err(
		    "ADMIN-OPTIONS", "the admin API needs the data dir");
		return RILL_INVALID_ARGUMENT;
	}
	if (opts->listen == NULL ||
	    !split_listen(
	        opts->listen, host, sizeof(host), port, sizeof(port))) {
		rill_diag_err("ADMIN-LISTEN",
		    "bad admin listen address \"%s\": expected [host:]port, "
		    "as in 127.0.0.1:7401",
		    opts->listen != NULL ? opts->listen : "");
		return RILL_INVALID_ARGUMENT;
	}
	if (host[0] == '[' && !mg_check_feature(MG_FEATURES_IPV6)) {
		rill_diag_err("ADMIN-LISTEN",
		    "cannot serve the admin API on %s: this CivetWeb has no "
		    "IPv6 support",
		    opts->listen);
		return RILL_INVALID_ARGUMENT;
	}
	if ((a = rill_zalloc(sizeof(*a))) == NULL) {
		return RILL_ENOMEM;
	}
	pthread_mutex_init(&a->mu, NULL);
	pthread_rwlock_init(&a->node_lock, NULL);
	snprintf(a->reason, sizeof(a->reason), "starting");
	if ((rv = copy_options(a, opts)) != RILL_OK) {
		goto out_free;
	}
	pthread_once(&library_once, init_library);

	n_threads = opts->threads != 0 ? opts->threads : DEFAULT_THREADS;
	snprintf(threads, sizeof(threads), "%" PRIu32, n_threads);
	const char *options[] = {
		"listening_ports",
		a->listen,
		"num_threads",
		threads,
		"request_timeout_ms",
		REQUEST_TIMEOUT_MS,
		"enable_keep_alive",
		"yes",
		// Paths reach the router as sent: no id or seq holds a
		// %-escape, so an escaped path ("%2e%2e", "%00") is refused
		// as malformed instead of being decoded, and cut, first.
		"decode_url",
		"no",
		NULL,
	};
	memset(&cbs, 0, sizeof(cbs));
	cbs.log_message = log_message;
	cbs.http_error  = http_error;
	start_log       = why;
	start_log_size  = sizeof(why);
	// CivetWeb sets SIGPIPE to SIG_IGN (it sends with MSG_NOSIGNAL
	// anyway): an application embedding rill keeps its own disposition.
	struct sigaction pipe_was;
	sigaction(SIGPIPE, NULL, &pipe_was);
	a->ctx = mg_start(&cbs, a, options);
	sigaction(SIGPIPE, &pipe_was, NULL);
	start_log = NULL;
	if (a->ctx == NULL) {
		rv = listen_failure(host, port);
		rill_diag_err("ADMIN-LISTEN",
		    "cannot serve the admin API on %s: %s%s", a->listen,
		    why[0] != '\0' ? why : "CivetWeb did not start",
		    rv == RILL_ELOCKED ? " (is another rilld running?)" : "");
		goto out_free;
	}
	mg_set_request_handler(a->ctx, "/", handle, a);
	if (mg_get_server_ports(a->ctx, 4, ports) >= 1) {
		a->port = ports[0].port;
	}
	set_wake_host(a, host);
	rill_diag_notice("ADMIN-LISTEN",
	    "serving the admin API on %s (port %d, %" PRIu32 " threads, %s)",
	    a->listen, a->port, n_threads,
	    a->n_tokens > 0 ? "a bearer token is needed for changes"
	                    : "no token needed");
	if (!is_loopback(host) && a->n_tokens == 0) {
		rill_diag_warn("ADMIN-OPEN",
		    "THE ADMIN API IS OPEN: it listens on %s, beyond "
		    "loopback, "
		    "and no admin token is set, so anyone who reaches it can "
		    "take snapshots and read the node's history; set "
		    "admin_tokens or listen on 127.0.0.1",
		    a->listen);
	}
	*ap = a;
	return RILL_OK;

out_free:
	free_admin(a);
	return rv;
}

void
rill_admin_set_node(rill_admin *a, const rill_admin_node *node)
{
	char *role =
	    rill_strdup(node != NULL && node->role ? node->role : "starting");

	pthread_rwlock_wrlock(&a->node_lock);
	a->opts.store      = node ? node->store : NULL;
	a->opts.log        = node ? node->log : NULL;
	a->opts.writer     = node ? node->writer : NULL;
	a->opts.keeper     = node ? node->keeper : NULL;
	a->opts.generation = node ? node->generation : a->opts.generation;
	if (role != NULL) {
		rill_free(a->role);
		a->role      = role;
		a->opts.role = role;
	}
	pthread_rwlock_unlock(&a->node_lock);
}

void
rill_admin_set_ready(rill_admin *a, bool ready, const char *reason)
{
	pthread_mutex_lock(&a->mu);
	a->ready = ready;
	snprintf(a->reason, sizeof(a->reason), "%s",
	    ready || reason == NULL ? "" : reason);
	pthread_mutex_unlock(&a->mu);
}

int
rill_admin_port(const rill_admin *a)
{
	return a->port;
}

void
rill_admin_close(rill_admin *a)
{
	if (a == NULL) {
		return;
	}
	// mg_stop waits for every worker, so no handler runs after it.
	stop_civetweb(a);
	rill_diag_notice(
	    "ADMIN-STOP", "stopped the admin API on %s", a->listen);
	free_admin(a);
}
