// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// replication_test: a leader and followers as real rilld processes on
// 127.0.0.1. Eight SDK clients write with many calls in flight while
// followers stream the log; a follower is killed with SIGKILL mid-stream
// and resumes from its position; one that is away while the leader's
// retention passes its position re-bootstraps by itself; a follower is
// promoted and the other follower and the old leader are pointed at it.
// Convergence is always the same check: the follower has applied the
// leader's last seq and its state hash at that seq (Hash RPC) is the
// leader's. Status and promotion go through the admin API; writes to a
// follower are sent as raw Put requests, so the NOT_LEADER answer and its
// leader hint are seen as the server sends them.
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <rill/rill.h>
#include <rill/v1/rill.pb-c.h>

#include "harness.h"
#include "test.h"

RILL_TEST_GLOBALS

// Every wait in this file polls, 50 ms apart, for at most this long.
#define WAIT_MS 180000
#define POLL_MS 50

#define N_CLIENTS 8
#define WINDOW 32 // calls in flight per client
#define KEYS 4000 // distinct keys per client: writes overwrite them
#define DELETE_EVERY 9

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

// Raw RPCs ---------------------------------------------------------------

// RPC_WAIT_MS bounds each raw RPC (rill_test_rpc).
#define RPC_WAIT_MS 10000

// node_hash is what the Hash RPC answers: the state at the applied seq.
typedef struct node_hash {
	uint64_t seq;
	uint64_t keys;
	char     hash[17];
	char     generation[17];
} node_hash;

// get_hash asks srv for its state hash; false when it does not answer OK
// (a follower that is bootstrapping answers UNAVAILABLE).
static bool
get_hash(const rill_test_server *srv, node_hash *h)
{
	Rill__V1__Request     req = RILL__V1__REQUEST__INIT;
	Rill__V1__HashRequest hr  = RILL__V1__HASH_REQUEST__INIT;
	Rill__V1__Response   *resp;
	bool                  ok;

	req.request_id = 1;
	req.body_case  = RILL__V1__REQUEST__BODY_HASH;
	req.hash       = &hr;
	if (!rill_test_rpc(srv->url, &req, &resp, RPC_WAIT_MS)) {
		return false;
	}
	ok = resp->code == RILL__V1__CODE__OK &&
	    resp->body_case == RILL__V1__RESPONSE__BODY_HASH;
	if (ok) {
		h->seq  = resp->hash->seq;
		h->keys = resp->hash->key_count;
		snprintf(h->hash, sizeof(h->hash), "%s", resp->hash->hash);
		snprintf(h->generation, sizeof(h->generation), "%s",
		    resp->hash->generation);
	}
	rill__v1__response__free_unpacked(resp, NULL);
	return ok;
}

// put_raw sends one Put of key=value to srv and returns its answer (NULL
// if none); the caller frees it.
static Rill__V1__Response *
put_raw(const rill_test_server *srv, const char *key)
{
	Rill__V1__Request    req = RILL__V1__REQUEST__INIT;
	Rill__V1__PutRequest put = RILL__V1__PUT_REQUEST__INIT;
	Rill__V1__Response  *resp;

	req.request_id = (uint64_t) now_ms();
	req.client_id  = 0x5265706c54657374u; // "ReplTest"
	req.body_case  = RILL__V1__REQUEST__BODY_PUT;
	req.put        = &put;
	put.key.data   = (uint8_t *) key;
	put.key.len    = strlen(key);
	put.value.data = (uint8_t *) "v";
	put.value.len  = 1;
	return rill_test_rpc(srv->url, &req, &resp, RPC_WAIT_MS) ? resp : NULL;
}

// Admin API ---------------------------------------------------------------

// admin sends method path to srv's admin API and parses the JSON body;
// NULL when there is no answer or it is not JSON. *statusp (may be NULL)
// gets the HTTP status.
static cJSON *
admin(
    rill_test_server *srv, const char *method, const char *path, int *statusp)
{
	static char body[1 << 20];
	int         port = rill_test_server_admin_port(srv);
	int         status;

	status = port > 0
	    ? rill_test_http(port, method, path, body, sizeof(body))
	    : -1;
	if (statusp != NULL) {
		*statusp = status;
	}
	return status > 0 ? cJSON_Parse(body) : NULL;
}

static uint64_t
json_u64(const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsNumber(item) ? (uint64_t) item->valuedouble : 0;
}

static const char *
json_str(const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(item) ? item->valuestring : "";
}

// status_u64 reads one number of srv's GET /v1/status; -1 if absent.
static int64_t
status_u64(rill_test_server *srv, const char *name)
{
	cJSON       *st = admin(srv, "GET", "/v1/status", NULL);
	const cJSON *item;
	int64_t      v = -1;

	item = cJSON_GetObjectItemCaseSensitive(st, name);
	if (cJSON_IsNumber(item)) {
		v = (int64_t) item->valuedouble;
	}
	cJSON_Delete(st);
	return v;
}

// show_status prints srv's /v1/status, for a failure's context.
static void
show_status(rill_test_server *srv, const char *name)
{
	cJSON *st = admin(srv, "GET", "/v1/status", NULL);
	char  *text;

	text = st != NULL ? cJSON_PrintUnformatted(st) : NULL;
	fprintf(stderr, "  %s status: %s\n  (log: %s)\n", name,
	    text != NULL ? text : "(no answer)", srv->log_path);
	cJSON_free(text);
	cJSON_Delete(st);
}

// Load: N_CLIENTS clients writing with WINDOW calls in flight each -------

typedef struct client_load {
	pthread_t       thread;
	const char     *url;
	const char     *prefix;
	int             id;
	int             n;
	pthread_mutex_t mu;
	pthread_cond_t  cv;
	int             in_flight;
	int             done;
	int             failed;
	uint64_t        max_seq;
	char            error[256];
} client_load;

typedef struct load {
	client_load c[N_CLIENTS];
	int         n_clients;
} load;

static void
load_done(void *arg, const rill_result *r)
{
	client_load *c = arg;

	pthread_mutex_lock(&c->mu);
	c->in_flight--;
	c->done++;
	if (r->code != RILL_OK) {
		if (c->failed++ == 0) {
			snprintf(c->error, sizeof(c->error), "code %d: %s",
			    r->code, r->message);
		}
	} else if (r->seq > c->max_seq) {
		c->max_seq = r->seq;
	}
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

static void *
load_main(void *arg)
{
	client_load *c = arg;
	rill_client *client;
	rill_options o;
	char         key[64], value[128];

	rill_options_init(&o);
	o.deadline_ms = 60000;
	if (rill_open(&client, c->url, &o) != RILL_OK) {
		pthread_mutex_lock(&c->mu);
		c->failed = c->n;
		snprintf(c->error, sizeof(c->error), "rill_open failed");
		pthread_mutex_unlock(&c->mu);
		return NULL;
	}
	for (int i = 0; i < c->n; i++) {
		int k = (int) (((uint64_t) i * 7919u) % KEYS);
		int kn, vn, rv;

		pthread_mutex_lock(&c->mu);
		while (c->in_flight >= WINDOW) {
			pthread_cond_wait(&c->cv, &c->mu);
		}
		c->in_flight++;
		pthread_mutex_unlock(&c->mu);
		kn = snprintf(
		    key, sizeof(key), "%s/c%d/%05d", c->prefix, c->id, k);
		if (i % DELETE_EVERY == DELETE_EVERY - 1) {
			rv = rill_delete_async(
			    client, key, (size_t) kn, NULL, load_done, c);
		} else {
			vn = snprintf(value, sizeof(value),
			    "write %d of client %d to %s, padded to look like "
			    "a value",
			    i, c->id, key);
			rv = rill_put_async(client, key, (size_t) kn, value,
			    (size_t) vn, NULL, load_done, c);
		}
		if (rv != RILL_OK) {
			rill_result r = { .code = rv,
				.message        = rill_last_message() };
			load_done(c, &r);
		}
	}
	pthread_mutex_lock(&c->mu);
	while (c->in_flight > 0) {
		pthread_cond_wait(&c->cv, &c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	rill_close(client);
	return NULL;
}

// load_start begins total writes to url from n_clients clients, under keys
// starting with prefix.
static void
load_start(
    load *l, const char *url, const char *prefix, int n_clients, int total)
{
	memset(l, 0, sizeof(*l));
	l->n_clients = n_clients;
	for (int i = 0; i < n_clients; i++) {
		client_load *c = &l->c[i];
		c->url         = url;
		c->prefix      = prefix;
		c->id          = i;
		c->n = total / n_clients + (i < total % n_clients ? 1 : 0);
		pthread_mutex_init(&c->mu, NULL);
		pthread_cond_init(&c->cv, NULL);
		if (pthread_create(&c->thread, NULL, load_main, c) != 0) {
			perror("pthread_create");
			abort();
		}
	}
}

// load_progress returns how many writes have completed so far.
static int
load_progress(load *l)
{
	int done = 0;

	for (int i = 0; i < l->n_clients; i++) {
		pthread_mutex_lock(&l->c[i].mu);
		done += l->c[i].done;
		pthread_mutex_unlock(&l->c[i].mu);
	}
	return done;
}

// load_wait waits for every client and returns the failed writes; *maxp
// gets the highest seq acknowledged.
static int
load_wait(load *l, uint64_t *maxp)
{
	int failed = 0;

	*maxp = 0;
	for (int i = 0; i < l->n_clients; i++) {
		client_load *c = &l->c[i];
		pthread_join(c->thread, NULL);
		if (c->failed > 0) {
			fprintf(stderr,
			    "  client %d: %d of %d writes failed, first: %s\n",
			    i, c->failed, c->n, c->error);
		}
		failed += c->failed;
		if (c->max_seq > *maxp) {
			*maxp = c->max_seq;
		}
		pthread_mutex_destroy(&c->mu);
		pthread_cond_destroy(&c->cv);
	}
	return failed;
}

// Nodes --------------------------------------------------------------------

// start_node starts srv (already initialised) with the extra args; as a
// follower of leader when leader is not NULL.
static bool
start_node(rill_test_server *srv, const rill_test_server *leader,
    const char *const *extra)
{
	const char *args[32];
	int         n = 0;

	if (leader != NULL) {
		args[n++] = "--follow";
		args[n++] = leader->url;
	}
	for (int i = 0; extra != NULL && extra[i] != NULL && n < 30; i++) {
		args[n++] = extra[i];
	}
	args[n] = NULL;
	if (!rill_test_server_start(srv, args, NULL)) {
		fprintf(
		    stderr, "  rilld did not start; see %s\n", srv->log_path);
		return false;
	}
	return true;
}

// wait_applied polls srv's Hash until its applied seq reaches seq and
// returns what it saw last (seq 0 if it never answered).
static node_hash
wait_applied(const rill_test_server *srv, uint64_t seq)
{
	node_hash h     = { 0 };
	uint64_t  until = now_ms() + WAIT_MS;

	do {
		node_hash got;
		if (get_hash(srv, &got)) {
			h = got;
			if (h.seq >= seq) {
				break;
			}
		}
		sleep_ms(POLL_MS);
	} while (now_ms() < until);
	return h;
}

// converged waits until follower has applied the leader's last seq (the
// leader takes no writes meanwhile) and tells whether their state hashes
// and generations at that seq are equal.
static bool
converged(
    rill_test_server *leader, rill_test_server *follower, const char *name)
{
	node_hash lh, fh;
	uint64_t  t0 = now_ms();

	if (!get_hash(leader, &lh)) {
		fprintf(stderr, "  the leader answers no Hash\n");
		return false;
	}
	fh = wait_applied(follower, lh.seq);
	if (fh.seq != lh.seq || strcmp(fh.hash, lh.hash) != 0 ||
	    strcmp(fh.generation, lh.generation) != 0) {
		fprintf(stderr,
		    "  %s: seq %" PRIu64 " hash %s generation %s; leader: "
		    "seq %" PRIu64 " hash %s generation %s\n",
		    name, fh.seq, fh.hash, fh.generation, lh.seq, lh.hash,
		    lh.generation);
		show_status(follower, name);
		return false;
	}
	fprintf(stderr,
	    "  %s converged at seq %" PRIu64 " (hash %s, %" PRIu64
	    " keys) in %" PRIu64 " ms\n",
	    name, fh.seq, fh.hash, fh.keys, now_ms() - t0);
	return true;
}

// not_leader_names tells whether a write to srv is refused with
// NOT_LEADER naming leader_url.
static bool
not_leader_names(const rill_test_server *srv, const char *leader_url)
{
	Rill__V1__Response *resp = put_raw(srv, "refused/put");
	bool                ok;

	if (resp == NULL) {
		fprintf(stderr, "  no answer to a Put on %s\n", srv->url);
		return false;
	}
	ok = resp->code == RILL__V1__CODE__NOT_LEADER &&
	    resp->details != NULL &&
	    strcmp(resp->details->leader, leader_url) == 0;
	if (!ok) {
		fprintf(stderr,
		    "  Put on %s: code %d (%s), details.leader \"%s\"; want "
		    "NOT_LEADER naming %s\n",
		    srv->url, resp->code, resp->message,
		    resp->details != NULL ? resp->details->leader : "",
		    leader_url);
	}
	rill__v1__response__free_unpacked(resp, NULL);
	return ok;
}

// wait_status_str polls srv's /v1/status until name equals want.
static bool
wait_status_str(rill_test_server *srv, const char *name, const char *want)
{
	uint64_t until    = now_ms() + WAIT_MS;
	char     got[128] = "";

	do {
		cJSON *st = admin(srv, "GET", "/v1/status", NULL);
		snprintf(got, sizeof(got), "%s", json_str(st, name));
		cJSON_Delete(st);
		if (strcmp(got, want) == 0) {
			return true;
		}
		sleep_ms(POLL_MS);
	} while (now_ms() < until);
	fprintf(stderr, "  %s: status %s is \"%s\", want \"%s\"\n", srv->url,
	    name, got, want);
	return false;
}

// event_count returns how many events of kind srv's catalog lists (-1
// when it does not answer).
static int
event_count(rill_test_server *srv, const char *kind)
{
	cJSON *ev = admin(srv, "GET", "/v1/events?limit=1000", NULL);
	cJSON *e;
	int    n = 0;

	if (ev == NULL) {
		return -1;
	}
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(ev, "events"))
	{
		n += strcmp(json_str(e, "kind"), kind) == 0;
	}
	cJSON_Delete(ev);
	return n;
}

// 1. A leader, two followers, 100,000 writes from 8 clients ---------------

static rill_test_server l1, f1a, f1b;

static void
test_two_followers_100k_writes(void)
{
	load     l;
	uint64_t max_seq, t0;
	int      failed;
	cJSON   *fl;

	rill_test_server_init(&l1, "repl-leader");
	rill_test_server_init(&f1a, "repl-f1");
	rill_test_server_init(&f1b, "repl-f2");
	CHECK(start_node(&l1, NULL, NULL));
	CHECK(start_node(&f1a, &l1, NULL));
	CHECK(start_node(&f1b, &l1, NULL));
	CHECK(wait_status_str(&f1a, "role", "follower"));
	CHECK(wait_status_str(&f1a, "leader", l1.url));

	t0 = now_ms();
	load_start(&l, l1.url, "one", N_CLIENTS, 100000);
	failed = load_wait(&l, &max_seq);
	fprintf(stderr,
	    "  100000 writes in %" PRIu64 " ms, last seq %" PRIu64 "\n",
	    now_ms() - t0, max_seq);
	CHECK_EQ_INT(failed, 0);
	CHECK_EQ_INT(max_seq, 100000); // a fresh log: one seq per write

	CHECK(converged(&l1, &f1a, "follower 1"));
	CHECK(converged(&l1, &f1b, "follower 2"));
	// Both reached the leader's last seq, by their status as well.
	CHECK_EQ_INT(status_u64(&f1a, "applied_seq"), max_seq);
	CHECK_EQ_INT(status_u64(&f1b, "applied_seq"), max_seq);
	// A fresh follower downloaded one snapshot, the leader's first.
	CHECK_EQ_INT(status_u64(&f1a, "bootstraps"), 1);
	CHECK_EQ_INT(status_u64(&f1b, "bootstraps"), 1);
	CHECK(not_leader_names(&f1a, l1.url));
	CHECK_EQ_INT(event_count(&f1a, "bootstrap"), 1);
	int status;
	cJSON_Delete(admin(&f1a, "GET", "/ready", &status));
	CHECK_EQ_INT(status, 200);

	// The leader lists both, caught up.
	uint64_t until = now_ms() + WAIT_MS;
	int      caught_up;
	do {
		caught_up  = 0;
		fl         = admin(&l1, "GET", "/v1/followers", NULL);
		cJSON *arr = cJSON_GetObjectItemCaseSensitive(fl, "followers");
		cJSON *f;
		cJSON_ArrayForEach(f, arr)
		{
			if (json_u64(f, "applied_seq") == max_seq &&
			    json_u64(f, "lag_records") == 0) {
				caught_up++;
			}
		}
		if (caught_up == 2 && cJSON_GetArraySize(arr) == 2) {
			break;
		}
		cJSON_Delete(fl);
		fl = NULL;
		sleep_ms(POLL_MS);
	} while (now_ms() < until);
	if (fl == NULL) {
		fl         = admin(&l1, "GET", "/v1/followers", NULL);
		char *text = fl != NULL ? cJSON_PrintUnformatted(fl) : NULL;
		fprintf(stderr, "  /v1/followers: %s\n",
		    text != NULL ? text : "(none)");
		cJSON_free(text);
	}
	cJSON_Delete(fl);
	CHECK_EQ_INT(caught_up, 2);
}

// 2. kill -9 of a follower mid-stream ---------------------------------------

static void
test_follower_killed_resumes(void)
{
	load      l;
	node_hash h;
	uint64_t  max_seq, start_seq;
	int64_t   boots;
	int       failed, at_kill, status;

	CHECK(l1.pid > 0 && f1a.pid > 0 && f1b.pid > 0);
	boots = status_u64(&f1a, "bootstraps");
	CHECK(boots >= 1);
	CHECK(get_hash(&l1, &h));
	start_seq = h.seq;

	load_start(&l, l1.url, "two", N_CLIENTS, 30000);
	// Kill it once it has applied some of the new writes, while the
	// leader is still taking them.
	h       = wait_applied(&f1a, start_seq + 3000);
	at_kill = load_progress(&l);
	status  = rill_test_server_stop(&f1a, SIGKILL);
	fprintf(stderr,
	    "  killed follower 1 at seq %" PRIu64
	    " or later, with %d of 30000 writes done\n",
	    h.seq, at_kill);
	CHECK(h.seq >= start_seq + 3000);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	CHECK(at_kill < 30000);
	// Restart it while the writes go on.
	while (
	    load_progress(&l) < at_kill + 3000 && load_progress(&l) < 30000) {
		sleep_ms(POLL_MS);
	}
	CHECK(start_node(&f1a, &l1, NULL));
	failed = load_wait(&l, &max_seq);
	CHECK_EQ_INT(failed, 0);

	CHECK(converged(&l1, &f1a, "follower 1 (restarted)"));
	CHECK(converged(&l1, &f1b, "follower 2"));
	// It resumed from its position: no snapshot download.
	CHECK_EQ_INT(status_u64(&f1a, "bootstraps"), boots);
	CHECK(!rill_test_log_contains_since_start(&f1a, "FOLLOW-BOOTSTRAP"));
}

// 3. Past the retention cap, a returning follower re-bootstraps -----------

static rill_test_server l3, f3;

static void
test_follower_past_retention_rebootstraps(void)
{
	rill_test_server *l = &l3, *f = &f3;
	const char       *leader_args[] = { "--segment-max-bytes", "64KiB",
		      "--follower-retain-bytes", "128KiB", "--retain-snapshots", "1",
		      "--snapshot-interval-ms", "0", NULL };
	load              ld;
	node_hash         h;
	uint64_t          max_seq, away_seq, until;
	int64_t           boots, oldest = -1;
	int               status;
	cJSON            *snap;

	rill_test_server_init(l, "repl-ret-leader");
	rill_test_server_init(f, "repl-ret-f");
	CHECK(start_node(l, NULL, leader_args));
	CHECK(start_node(f, l, NULL));
	load_start(&ld, l->url, "three", 4, 2000);
	CHECK_EQ_INT(load_wait(&ld, &max_seq), 0);
	CHECK(converged(l, f, "follower"));
	boots = status_u64(f, "bootstraps");
	CHECK(boots >= 1);
	CHECK(get_hash(f, &h));
	away_seq = h.seq;
	CHECK_EQ_INT(rill_test_server_stop(f, SIGTERM), 0);

	// About 2.5 MiB of log while it is away, far past the 128 KiB cap;
	// then a snapshot, so that nothing else needs the old log.
	load_start(&ld, l->url, "three", N_CLIENTS, 20000);
	CHECK_EQ_INT(load_wait(&ld, &max_seq), 0);
	snap = admin(l, "POST", "/v1/snapshots", &status);
	CHECK(status == 200 || status == 201);
	fprintf(
	    stderr, "  snapshot at seq %" PRIu64 "\n", json_u64(snap, "seq"));
	cJSON_Delete(snap);
	until = now_ms() + WAIT_MS;
	while (
	    (oldest = status_u64(l, "oldest_seq")) <= (int64_t) away_seq + 1 &&
	    now_ms() < until) {
		sleep_ms(POLL_MS);
	}
	fprintf(stderr,
	    "  follower away at seq %" PRIu64 "; the leader's oldest seq is "
	    "%" PRId64 ", last %" PRIu64 "\n",
	    away_seq, oldest, max_seq);
	if (oldest <= (int64_t) away_seq + 1) {
		show_status(l, "leader");
	}
	CHECK(oldest > (int64_t) away_seq + 1);

	CHECK(start_node(f, l, NULL));
	CHECK(converged(l, f, "returned follower"));
	CHECK_EQ_INT(status_u64(f, "bootstraps"), boots + 1);
	CHECK(rill_test_log_contains_since_start(f, "FOLLOW-BOOTSTRAP"));
	CHECK_EQ_INT(event_count(f, "bootstrap"), boots + 1);
}

// 4. Promotion ---------------------------------------------------------------

static rill_test_server l4, f4a, f4b, f4c;

// key_absent tells whether a Get of key on srv finds nothing.
static bool
key_absent(const rill_test_server *srv, const char *key)
{
	rill_client *c;
	void        *v = NULL;
	size_t       n;
	int          rv;

	if (rill_open(&c, srv->url, NULL) != RILL_OK) {
		return false;
	}
	rv = rill_get(c, key, strlen(key), &v, &n, NULL);
	if (rv != RILL_NOT_FOUND) {
		fprintf(stderr, "  get %s on %s: %d (%s)\n", key, srv->url, rv,
		    rv == RILL_OK ? "found" : rill_last_message());
	}
	rill_free(v);
	rill_close(c);
	return rv == RILL_NOT_FOUND;
}

// raw_put sends a Put of key=value to srv as client RAW_CLIENT with the
// given request id and attempt, and returns the seq it was answered with
// (0 when the answer is not OK).
#define RAW_CLIENT 0x5eed5eed5eedULL
static uint64_t
raw_put(const rill_test_server *srv, const char *key, uint64_t request_id,
    uint32_t attempt)
{
	Rill__V1__Request    req = RILL__V1__REQUEST__INIT;
	Rill__V1__PutRequest put = RILL__V1__PUT_REQUEST__INIT;
	Rill__V1__Response  *resp;
	uint64_t             seq = 0;

	req.request_id = request_id;
	req.client_id  = RAW_CLIENT;
	req.attempt    = attempt;
	req.body_case  = RILL__V1__REQUEST__BODY_PUT;
	req.put        = &put;
	put.key   = (ProtobufCBinaryData) { strlen(key), (uint8_t *) key };
	put.value = put.key;
	if (!rill_test_rpc(srv->url, &req, &resp, RPC_WAIT_MS)) {
		return 0;
	}
	if (resp->code == RILL__V1__CODE__OK &&
	    resp->body_case == RILL__V1__RESPONSE__BODY_PUT) {
		seq = resp->put->seq;
	} else {
		fprintf(stderr, "  raw put %s (attempt %u) on %s: %s\n", key,
		    attempt, srv->url, resp->message);
	}
	rill__v1__response__free_unpacked(resp, NULL);
	return seq;
}

// fetch_position sends FetchLog(gen, after_seq) to srv and returns its
// code; for FAILED_PRECONDITION, its details: the generation that goes
// on, the fork seq and whether srv does not hold gen's records.
static int
fetch_position(const rill_test_server *srv, const char *gen,
    uint64_t after_seq, char *next, uint64_t *forkp, bool *unknownp)
{
	Rill__V1__Request         req = RILL__V1__REQUEST__INIT;
	Rill__V1__FetchLogRequest fl  = RILL__V1__FETCH_LOG_REQUEST__INIT;
	Rill__V1__Response       *resp;
	int                       code;

	req.request_id = 1;
	req.body_case  = RILL__V1__REQUEST__BODY_FETCH_LOG;
	req.fetch_log  = &fl;
	fl.generation  = (char *) gen;
	fl.after_seq   = after_seq;
	if (!rill_test_rpc(srv->url, &req, &resp, RPC_WAIT_MS)) {
		return -1;
	}
	code = (int) resp->code;
	if (resp->details != NULL) {
		snprintf(next, 17, "%s", resp->details->generation);
		*forkp    = resp->details->fork_seq;
		*unknownp = resp->details->generation_unknown;
	}
	rill__v1__response__free_unpacked(resp, NULL);
	return code;
}

// open_watch opens a watch of the changes after seq on srv alone.
static rill_watch *
open_watch(const rill_test_server *srv, rill_client **cp, uint64_t seq)
{
	rill_watch_opts wo = { .after_seq = seq,
		.read_preference          = RILL_READ_ANY };
	rill_watch     *w  = NULL;

	if (rill_open(cp, srv->url, NULL) != RILL_OK) {
		return NULL;
	}
	if (rill_watch_open(*cp, &wo, &w) != RILL_OK) {
		fprintf(stderr, "  watch on %s: %s\n", srv->url,
		    rill_last_message());
	}
	return w;
}

// watched is what a watch returned: how many changes, whether their seqs
// came in order and covered every seq in between, and whether a key of
// the old leader's lone writes was among them.
typedef struct watched {
	uint64_t n, last;
	bool     gap, lost_key;
} watched;

// watch_to reads w until its position reaches seq (true), or until it
// fails or WAIT_MS pass (false); a returned code other than OK and
// DEADLINE_EXCEEDED is left in *rvp.
static bool
watch_to(rill_watch *w, uint64_t seq, watched *got, int *rvp)
{
	uint64_t    end = now_ms() + WAIT_MS;
	rill_change ch;
	int         rv;

	*rvp = RILL_OK;
	while (rill_watch_seq(w) < seq && now_ms() < end) {
		rv = rill_watch_next(w, &ch, 1000);
		if (rv == RILL_DEADLINE_EXCEEDED) {
			continue;
		}
		if (rv != RILL_OK) {
			*rvp = rv;
			return false;
		}
		if (got->last != 0 && ch.seq != got->last &&
		    ch.seq != got->last + 1) {
			got->gap = true;
		}
		got->last = ch.seq;
		got->n++;
		got->lost_key |=
		    ch.key_len >= 10 && memcmp(ch.key, "four-lost/", 10) == 0;
	}
	return rill_watch_seq(w) >= seq;
}

// watch_end reads w until it returns a code other than OK and
// DEADLINE_EXCEEDED, or WAIT_MS pass; returns that code (or OK).
static int
watch_end(rill_watch *w)
{
	uint64_t    end = now_ms() + WAIT_MS;
	rill_change ch;
	int         rv = RILL_OK;

	while (now_ms() < end &&
	    ((rv = rill_watch_next(w, &ch, 1000)) == RILL_OK ||
	        rv == RILL_DEADLINE_EXCEEDED)) { }
	return rv;
}

static void
test_promotion(void)
{
	rill_test_server *l = &l4, *f1 = &f4a, *f2 = &f4b;
	load              ld;
	node_hash         h;
	uint64_t          max_seq, fork_seq;
	char              old_gen[17];
	int               status;
	cJSON            *p;

	rill_test_server_init(l, "repl-p-leader");
	rill_test_server_init(f1, "repl-p-f1");
	rill_test_server_init(f2, "repl-p-f2");
	CHECK(start_node(l, NULL, NULL));
	CHECK(start_node(f1, l, NULL));
	CHECK(start_node(f2, l, NULL));
	// A write the old leader acknowledges, whose retry will reach the
	// new leader.
	uint64_t raw_seq = raw_put(l, "retried-across-promotion", 41, 0);
	CHECK(raw_seq > 0);
	load_start(&ld, l->url, "four", N_CLIENTS, 5000);
	CHECK_EQ_INT(load_wait(&ld, &max_seq), 0);
	CHECK(converged(l, f1, "follower 1"));
	CHECK(converged(l, f2, "follower 2"));
	// Follower 1 restarts before its promotion: its retry table comes
	// from its store's client marks and its log, not from a live run.
	CHECK_EQ_INT(rill_test_server_stop(f1, SIGTERM), 0);
	CHECK(start_node(f1, l, NULL));
	CHECK(converged(l, f1, "follower 1 after a restart"));
	CHECK(get_hash(l, &h));
	snprintf(old_gen, sizeof(old_gen), "%s", h.generation);
	fork_seq         = h.seq;
	int64_t f2_boots = status_u64(f2, "bootstraps");
	CHECK(f2_boots >= 1);
	// A watch on follower 2 reads up to the fork point.
	rill_client *c2 = NULL, *cl = NULL;
	watched      got2 = { 0 }, gotl = { 0 };
	int          wrv;
	rill_watch  *w2 = open_watch(f2, &c2, fork_seq - 5);
	CHECK(w2 != NULL);
	CHECK(watch_to(w2, fork_seq, &got2, &wrv));
	CHECK_EQ_INT(got2.n, 5);
	// Follower 2 stops at the fork point.
	CHECK_EQ_INT(rill_test_server_stop(f2, SIGTERM), 0);

	// Promote follower 1; a second promotion is refused.
	p = admin(f1, "POST", "/v1/promote", &status);
	CHECK_EQ_INT(status, 200);
	CHECK_EQ_STR(json_str(p, "role"), "leader");
	CHECK_EQ_STR(json_str(p, "parent"), old_gen);
	CHECK_EQ_INT(json_u64(p, "parent_seq"), fork_seq);
	CHECK_EQ_INT(strlen(json_str(p, "generation")), 16);
	CHECK(strcmp(json_str(p, "generation"), old_gen) != 0);
	cJSON_Delete(p);
	p = admin(f1, "POST", "/v1/promote", &status);
	CHECK_EQ_INT(status, 409);
	CHECK_EQ_STR(json_str(p, "error"), "failed_precondition");
	cJSON_Delete(p);
	CHECK(wait_status_str(f1, "role", "leader"));
	// The retry gets its first answer, and is not applied again.
	uint64_t before = status_u64(f1, "last_seq");
	CHECK_EQ_INT(raw_put(f1, "retried-across-promotion", 41, 1), raw_seq);
	CHECK_EQ_INT(status_u64(f1, "last_seq"), before);
	// A retry of request 40, which never reached the old leader (lost in
	// flight, while 41 landed), is applied as a new write: the log the
	// new leader holds proves it never landed.
	CHECK_EQ_INT(raw_put(f1, "lost-in-flight", 40, 1), before + 1);
	CHECK_EQ_INT(status_u64(f1, "last_seq"), before + 1);

	// The old leader, not told, takes writes past the fork point, and a
	// watch on it returns them.
	load_start(&ld, l->url, "four-lost", 2, 50);
	CHECK_EQ_INT(load_wait(&ld, &max_seq), 0);
	CHECK(max_seq > fork_seq);
	uint64_t    lost_last = (uint64_t) status_u64(l, "last_seq");
	rill_watch *wl        = open_watch(l, &cl, fork_seq);
	CHECK(wl != NULL);
	CHECK(watch_to(wl, lost_last, &gotl, &wrv));
	CHECK(gotl.lost_key);
	CHECK_EQ_INT(gotl.n, lost_last - fork_seq);
	CHECK_EQ_INT(rill_test_server_stop(l, SIGTERM), 0);

	// Both are pointed at the new leader.
	CHECK(start_node(f2, f1, NULL));
	CHECK(start_node(l, f1, NULL));
	load_start(&ld, f1->url, "four-new", N_CLIENTS, 3000);
	CHECK_EQ_INT(load_wait(&ld, &max_seq), 0);
	CHECK(max_seq > fork_seq);
	CHECK(converged(f1, f2, "follower 2"));
	CHECK(converged(f1, l, "old leader"));

	// Follower 2 sat at the fork point: it continued without a download.
	CHECK_EQ_INT(status_u64(f2, "bootstraps"), f2_boots);
	CHECK(!rill_test_log_contains_since_start(f2, "FOLLOW-BOOTSTRAP"));
	CHECK(!rill_test_log_contains_since_start(f2, "FOLLOW-DIVERGED"));
	// The old leader was past it: it started again from a snapshot.
	CHECK(rill_test_log_contains_since_start(l, "FOLLOW-DIVERGED"));
	CHECK_EQ_INT(status_u64(l, "bootstraps"), 1);
	CHECK_EQ_INT(event_count(l, "bootstrap"), 1);
	CHECK_EQ_INT(event_count(f2, "bootstrap"), f2_boots);
	// The writes it took alone are gone.
	CHECK(key_absent(l, "four-lost/c0/00000"));
	CHECK(key_absent(f1, "four-lost/c0/00000"));
	CHECK(wait_status_str(l, "role", "follower"));
	CHECK(wait_status_str(l, "leader", f1->url));
	CHECK(wait_status_str(f2, "leader", f1->url));
	CHECK(not_leader_names(f2, f1->url));
	CHECK(not_leader_names(l, f1->url));

	// The watch on follower 2 goes on from the fork point into the new
	// generation: every change of the new history, once, in order.
	uint64_t new_last = (uint64_t) status_u64(f1, "last_seq");
	got2              = (watched) { .last = fork_seq };
	CHECK(watch_to(w2, new_last, &got2, &wrv));
	if (wrv != RILL_OK) {
		fprintf(stderr, "  watch on follower 2: %s\n",
		    rill_last_message());
	}
	CHECK_EQ_INT(got2.last, new_last);
	CHECK(!got2.gap);
	CHECK(!got2.lost_key);
	CHECK_EQ_INT(rill_watch_fork_seq(w2), 0);
	// The watch on the old leader returned changes its history took
	// back when it re-bootstrapped: it ends, naming the fork.
	wrv = watch_end(wl);
	fprintf(
	    stderr, "  watch on the old leader: %s\n", rill_last_message());
	CHECK_EQ_INT(wrv, RILL_FAILED_PRECONDITION);
	CHECK_EQ_INT(rill_watch_fork_seq(wl), fork_seq);
	CHECK(strstr(rill_last_message(), "taken back") != NULL);
	CHECK_EQ_INT(watch_end(wl), RILL_FAILED_PRECONDITION);
	CHECK_EQ_INT(rill_watch_seq(wl), lost_last);
	rill_watch_close(w2);
	rill_watch_close(wl);
	rill_close(c2);
	rill_close(cl);

	// A new follower bootstraps from the new generation's snapshot and
	// holds none of the old one's records, but knows where its history
	// left it: a position at the fork goes on in the new generation, one
	// before it is for another node, one past it was taken back.
	rill_test_server *fn       = &f4c;
	char              next[17] = "";
	uint64_t          fork     = 0;
	bool              unknown  = false;

	rill_test_server_init(fn, "repl-p-f3");
	CHECK(start_node(fn, f1, NULL));
	CHECK(converged(f1, fn, "a new follower"));
	CHECK_EQ_INT(
	    fetch_position(fn, old_gen, fork_seq, next, &fork, &unknown),
	    RILL__V1__CODE__FAILED_PRECONDITION);
	CHECK_EQ_INT(fork, fork_seq);
	CHECK(!unknown);
	CHECK(get_hash(f1, &h));
	CHECK_EQ_STR(next, h.generation);
	CHECK_EQ_INT(
	    fetch_position(fn, old_gen, fork_seq + 1, next, &fork, &unknown),
	    RILL__V1__CODE__FAILED_PRECONDITION);
	CHECK_EQ_INT(fork, fork_seq);
	CHECK(!unknown);
	CHECK_EQ_INT(
	    fetch_position(fn, old_gen, fork_seq - 1, next, &fork, &unknown),
	    RILL__V1__CODE__FAILED_PRECONDITION);
	CHECK(unknown);
	CHECK_EQ_INT(
	    fetch_position(fn, "00000000000000aa", 1, next, &fork, &unknown),
	    RILL__V1__CODE__FAILED_PRECONDITION);
	CHECK(unknown);
	CHECK_EQ_INT(fork, 0);
}

// 5. A leader that lost writes ------------------------------------------

static rill_test_server l5, f5;

static const char *const sync_none[] = { "--sync", "none", NULL };

// put_series writes n keys prefix1..prefixN to srv, with request ids
// from id0 + 1.
static void
put_series(
    const rill_test_server *srv, const char *prefix, uint64_t n, uint64_t id0)
{
	char key[32];

	for (uint64_t i = 1; i <= n; i++) {
		snprintf(key, sizeof(key), "%s%" PRIu64, prefix, i);
		CHECK(raw_put(srv, key, id0 + i, 0) != 0);
	}
}

// save_leader keeps a copy of l5's data dir, the state the power loss of
// lose_leader_writes goes back to (l5 stops cleanly for it, then runs
// again).
static void
save_leader(void)
{
	char cmd[2 * PATH_MAX + 64];

	CHECK_EQ_INT(rill_test_server_stop(&l5, SIGTERM), 0);
	snprintf(
	    cmd, sizeof(cmd), "cp -a %s %s.copy", l5.data_dir, l5.data_dir);
	CHECK(system(cmd) == 0);
	CHECK(start_node(&l5, NULL, sync_none));
}

// lose_leader_writes plays l5's power loss: killed, it comes back with
// the data dir save_leader kept.
static void
lose_leader_writes(void)
{
	char cmd[3 * PATH_MAX + 64];

	rill_test_server_stop(&l5, SIGKILL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s && mv %s.copy %s", l5.data_dir,
	    l5.data_dir, l5.data_dir);
	CHECK(system(cmd) == 0);
	CHECK(start_node(&l5, NULL, sync_none));
}

// test_follower_rebootstraps_after_leader_lost_writes: under sync none a
// leader sends records before they are on its disk. A power loss (played
// by putting back a copy of its data dir) takes them from its log and
// store alike, so it comes back in the same generation, behind its
// follower, and its next writes reuse those seqs. The follower must not
// wait for it and go on from its own position (it would keep writes the
// leader's history no longer has): it loads the leader's state again.
static void
test_follower_rebootstraps_after_leader_lost_writes(void)
{
	int64_t  boots;
	uint64_t until;

	rill_test_server_init(&l5, "repl-lost-leader");
	rill_test_server_init(&f5, "repl-lost-f");
	CHECK(start_node(&l5, NULL, sync_none));
	CHECK(start_node(&f5, &l5, NULL));
	put_series(&l5, "lost-a", 20, 0);
	CHECK(converged(&l5, &f5, "follower"));
	boots = status_u64(&f5, "bootstraps");

	save_leader();
	put_series(&l5, "lost-b", 10, 100);
	CHECK(converged(&l5, &f5, "follower"));

	// The power loss: the leader comes back without the b writes.
	lose_leader_writes();
	until = now_ms() + WAIT_MS;
	while (status_u64(&f5, "bootstraps") <= boots && now_ms() < until) {
		sleep_ms(POLL_MS);
	}
	CHECK_EQ_INT(status_u64(&f5, "bootstraps"), boots + 1);
	put_series(&l5, "lost-c", 15, 200);
	CHECK(converged(&l5, &f5, "follower, after the leader's loss"));
	CHECK(key_absent(&f5, "lost-b1"));

	// Again, with the follower away while the leader loses writes and
	// then passes its position: the leader is not behind when the
	// follower comes back, but its record at the follower's seq is not
	// the follower's.
	boots = status_u64(&f5, "bootstraps");
	save_leader();
	put_series(&l5, "lost-d", 10, 300);
	CHECK(converged(&l5, &f5, "follower"));
	CHECK_EQ_INT(rill_test_server_stop(&f5, SIGTERM), 0);
	lose_leader_writes();
	put_series(&l5, "lost-e", 15, 400);
	CHECK(start_node(&f5, &l5, NULL));
	CHECK(converged(&l5, &f5, "returning follower, after the loss"));
	CHECK(key_absent(&f5, "lost-d1"));
	CHECK_EQ_INT(status_u64(&f5, "bootstraps"), boots + 1);
}

// 6. An ancestor whose log was cut short ---------------------------------

static rill_test_server l6;

// cut_last_record cuts the newest segment of generation gen in srv's data
// dir two bytes before its last written byte (its tail is zeros ahead of
// the writes): the last record is torn, as by a power cut under sync
// none. False when there is no segment.
static bool
cut_last_record(const rill_test_server *srv, const char *gen)
{
	char           dir[PATH_MAX], path[2 * PATH_MAX], newest[256] = "";
	DIR           *d;
	struct dirent *e;
	struct stat    st;
	uint8_t       *buf;
	off_t          end;
	int            fd;
	bool           ok;

	snprintf(
	    dir, sizeof(dir), "%s/generations/%s/log", srv->data_dir, gen);
	if ((d = opendir(dir)) == NULL) {
		return false;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.' && strcmp(e->d_name, newest) > 0) {
			snprintf(newest, sizeof(newest), "%s", e->d_name);
		}
	}
	closedir(d);
	snprintf(path, sizeof(path), "%s/%s", dir, newest);
	if (newest[0] == '\0' || (fd = open(path, O_RDWR)) < 0) {
		return false;
	}
	ok = fstat(fd, &st) == 0 && (buf = malloc((size_t) st.st_size + 1));
	if (ok) {
		ok = pread(fd, buf, (size_t) st.st_size, 0) == st.st_size;
		for (end = st.st_size; ok && end > 0 && buf[end - 1] == 0;) {
			end--;
		}
		free(buf);
		fprintf(stderr, "  %s: %jd bytes written, cut at %jd\n",
		    newest, (intmax_t) end, (intmax_t) end - 2);
		ok = ok && end > 2 && ftruncate(fd, end - 2) == 0;
	}
	close(fd);
	return ok;
}

// test_ancestor_log_cut_short: a leader whose log lost its tail while its
// store kept the writes (sync none, a power cut) starts a new generation
// at the store's position. The old generation's files end before that
// fork point, so a FetchLog for what follows their end must answer
// OUT_OF_RANGE (start from a snapshot), not an empty page that would
// have a follower ask again at once, for good.
static void
test_ancestor_log_cut_short(void)
{
	node_hash h;
	char      old_gen[17], next[17] = "";
	uint64_t  fork    = 0;
	bool      unknown = false;

	rill_test_server_init(&l6, "repl-cut-leader");
	CHECK(start_node(&l6, NULL, sync_none));
	put_series(&l6, "cut-", 20, 0);
	CHECK(get_hash(&l6, &h));
	CHECK_EQ_INT(h.seq, 20);
	snprintf(old_gen, sizeof(old_gen), "%s", h.generation);
	CHECK_EQ_INT(rill_test_server_stop(&l6, SIGTERM), 0);
	CHECK(cut_last_record(&l6, old_gen));
	CHECK(start_node(&l6, NULL, sync_none));
	CHECK(rill_test_log_contains_since_start(&l6, "SERVER-LOG-BEHIND"));
	CHECK(get_hash(&l6, &h));
	CHECK(strcmp(h.generation, old_gen) != 0);
	CHECK_EQ_INT(h.seq, 20);

	// Records the old generation's files hold are served; the one they
	// lost is not, though it is before the fork point.
	CHECK_EQ_INT(fetch_position(&l6, old_gen, 10, next, &fork, &unknown),
	    RILL__V1__CODE__OK);
	CHECK_EQ_INT(fetch_position(&l6, old_gen, 19, next, &fork, &unknown),
	    RILL__V1__CODE__OUT_OF_RANGE);
	// At the fork point, the history goes on in the new generation.
	CHECK_EQ_INT(fetch_position(&l6, old_gen, 20, next, &fork, &unknown),
	    RILL__V1__CODE__FAILED_PRECONDITION);
	CHECK_EQ_INT(fork, 20);
	CHECK_EQ_STR(next, h.generation);
}

// 7. A promotion refused -------------------------------------------------

static rill_test_server l7, f7;

// test_refused_promotion_keeps_following: a follower that has loaded
// nothing yet (its leader is not up) refuses a promotion with 409, and
// goes on following: once the leader starts, it catches up.
static void
test_refused_promotion_keeps_following(void)
{
	cJSON *p;
	int    status = 0;

	rill_test_server_init(&l7, "repl-refuse-leader");
	rill_test_server_init(&f7, "repl-refuse-f");
	CHECK(start_node(&f7, &l7, NULL));
	p = admin(&f7, "POST", "/v1/promote", &status);
	CHECK_EQ_INT(status, 409);
	CHECK(strstr(json_str(p, "message"), "no state") != NULL);
	cJSON_Delete(p);
	p = admin(&f7, "GET", "/v1/status", &status);
	CHECK_EQ_STR(json_str(p, "role"), "follower");
	cJSON_Delete(p);

	CHECK(start_node(&l7, NULL, NULL));
	put_series(&l7, "refused-", 10, 0);
	CHECK(converged(&l7, &f7, "follower, after a refused promotion"));
}

// 8. A follower cut off from its leader ---------------------------------

static rill_test_server l8, f8;

// follow_state returns srv's follow_state into buf ("" if none).
static const char *
follow_state(rill_test_server *srv, char *buf, size_t n)
{
	cJSON *st = admin(srv, "GET", "/v1/status", NULL);

	snprintf(buf, n, "%s", json_str(st, "follow_state"));
	cJSON_Delete(st);
	return buf;
}

// test_follower_unready_while_cut_off: a follower whose leader is gone is
// not ready, and says it is connecting (its lag is from the last answer,
// so it cannot tell how far behind it is); with the leader back, it
// follows and is ready again.
static void
test_follower_unready_while_cut_off(void)
{
	uint64_t until;
	char     state[32] = "";
	int      status    = 0;
	cJSON   *r;

	rill_test_server_init(&l8, "repl-cut-off-leader");
	rill_test_server_init(&f8, "repl-cut-off-f");
	CHECK(start_node(&l8, NULL, NULL));
	CHECK(start_node(&f8, &l8, NULL));
	put_series(&l8, "cut-off-a", 5, 0);
	CHECK(converged(&l8, &f8, "follower"));
	CHECK_EQ_STR(follow_state(&f8, state, sizeof(state)), "following");

	CHECK_EQ_INT(rill_test_server_stop(&l8, SIGTERM), 0);
	until = now_ms() + WAIT_MS;
	while (strcmp(follow_state(&f8, state, sizeof(state)), "following") ==
	        0 &&
	    now_ms() < until) {
		sleep_ms(POLL_MS);
	}
	CHECK_EQ_STR(state, "connecting");
	r = admin(&f8, "GET", "/ready", &status);
	CHECK_EQ_INT(status, 503);
	CHECK(strstr(json_str(r, "reason"), "connecting") != NULL);
	cJSON_Delete(r);

	CHECK(start_node(&l8, NULL, NULL));
	put_series(&l8, "cut-off-b", 5, 100);
	CHECK(converged(&l8, &f8, "follower, after the leader came back"));
	until = now_ms() + WAIT_MS;
	for (;;) {
		cJSON_Delete(admin(&f8, "GET", "/ready", &status));
		if (status == 200 || now_ms() >= until) {
			break;
		}
		sleep_ms(POLL_MS);
	}
	CHECK_EQ_INT(status, 200);
}

// 9. What a node led is not given up ---------------------------------------

static rill_test_server l9, f9, f10;

// key_present tells whether a Get of key on srv finds it, with the value
// raw_put gives it (the key itself).
static bool
key_present(const rill_test_server *srv, const char *key)
{
	rill_client *c;
	void        *v = NULL;
	size_t       n = 0;
	int          rv;
	bool         ok;

	if (rill_open(&c, srv->url, NULL) != RILL_OK) {
		return false;
	}
	rv = rill_get(c, key, strlen(key), &v, &n, NULL);
	ok = rv == RILL_OK && n == strlen(key) && memcmp(v, key, n) == 0;
	if (!ok) {
		fprintf(stderr, "  get %s on %s: %d (%s)\n", key, srv->url, rv,
		    rv == RILL_OK ? "another value" : rill_last_message());
	}
	rill_free(v);
	rill_close(c);
	return ok;
}

// test_promoted_node_keeps_what_it_led: a promoted node restarted with
// its old --follow (the leader it followed, which never followed it) must
// not load that leader's state over the writes it acknowledged as the
// leader: it refuses to follow, is not ready, and says why. Started
// without --follow, it leads on in its generation, the writes there.
static void
test_promoted_node_keeps_what_it_led(void)
{
	node_hash h;
	char      gen[17], state[32] = "";
	uint64_t  until;
	int       status = 0;
	cJSON    *p;

	rill_test_server_init(&l9, "repl-led-leader");
	rill_test_server_init(&f9, "repl-led-f");
	CHECK(start_node(&l9, NULL, NULL));
	CHECK(start_node(&f9, &l9, NULL));
	put_series(&l9, "led-a", 3, 0);
	CHECK(converged(&l9, &f9, "follower"));
	p = admin(&f9, "POST", "/v1/promote", &status);
	CHECK_EQ_INT(status, 200);
	cJSON_Delete(p);
	CHECK_EQ_INT(raw_put(&f9, "led-b1", 1000, 0), 4);
	CHECK(get_hash(&f9, &h));
	snprintf(gen, sizeof(gen), "%s", h.generation);

	CHECK_EQ_INT(rill_test_server_stop(&f9, SIGTERM), 0);
	CHECK(start_node(&f9, &l9, NULL));
	until = now_ms() + WAIT_MS;
	while (
	    strcmp(follow_state(&f9, state, sizeof(state)), "refused") != 0 &&
	    now_ms() < until) {
		sleep_ms(POLL_MS);
	}
	CHECK_EQ_STR(state, "refused");
	CHECK(rill_test_log_contains_since_start(&f9, "FOLLOW-REFUSED"));
	cJSON_Delete(admin(&f9, "GET", "/ready", &status));
	CHECK_EQ_INT(status, 503);

	CHECK_EQ_INT(rill_test_server_stop(&f9, SIGTERM), 0);
	CHECK(start_node(&f9, NULL, NULL));
	CHECK(key_present(&f9, "led-b1"));
	CHECK(get_hash(&f9, &h));
	CHECK_EQ_STR(h.generation, gen);
	CHECK_EQ_INT(h.seq, 4);
}

// test_follower_started_alone_forks: a follower started without --follow
// leads, but not in its leader's generation (two nodes would then write
// different records at the same seqs of one generation): it starts a new
// generation at its position, as a promotion does.
static void
test_follower_started_alone_forks(void)
{
	node_hash lh, fh;
	char      cmd[4 * PATH_MAX];

	rill_test_server_init(&f10, "repl-alone-f");
	CHECK(start_node(&f10, &l9, NULL));
	put_series(&l9, "alone-", 3, 100);
	CHECK(converged(&l9, &f10, "follower"));
	CHECK_EQ_INT(rill_test_server_stop(&f10, SIGTERM), 0);
	CHECK(start_node(&f10, NULL, NULL));
	CHECK(rill_test_log_contains_since_start(&f10, "it leads now"));
	CHECK(get_hash(&l9, &lh));
	CHECK(get_hash(&f10, &fh));
	CHECK(strcmp(lh.generation, fh.generation) != 0);
	CHECK_EQ_INT(fh.seq, lh.seq);

	// It wrote nothing in its generation: given --follow again, it
	// follows (loading a snapshot), it does not refuse.
	CHECK_EQ_INT(rill_test_server_stop(&f10, SIGTERM), 0);
	CHECK(start_node(&f10, &l9, NULL));
	put_series(&l9, "alone-again-", 2, 200);
	CHECK(converged(&l9, &f10, "follower, back from leading alone"));

	// Its store behind its log, as after a power cut that took
	// LevelDB's unsynced tail but not the log's synced records: a copy
	// of the data dir now, then the log of later writes put into it.
	CHECK_EQ_INT(rill_test_server_stop(&f10, SIGTERM), 0);
	snprintf(cmd, sizeof(cmd), "cp -a %s %s.behind", f10.data_dir,
	    f10.data_dir);
	CHECK(system(cmd) == 0);
	CHECK(start_node(&f10, &l9, NULL));
	put_series(&l9, "alone-late-", 4, 300);
	CHECK(converged(&l9, &f10, "follower"));
	CHECK_EQ_INT(rill_test_server_stop(&f10, SIGTERM), 0);
	snprintf(cmd, sizeof(cmd),
	    "rm -rf %s.behind/generations && cp -a %s/generations %s.behind/ "
	    "&& rm -rf %s && mv %s.behind %s",
	    f10.data_dir, f10.data_dir, f10.data_dir, f10.data_dir,
	    f10.data_dir, f10.data_dir);
	CHECK(system(cmd) == 0);

	// Started alone, it leads after the last record of its log.
	CHECK(start_node(&f10, NULL, NULL));
	CHECK(get_hash(&l9, &lh));
	CHECK(get_hash(&f10, &fh));
	CHECK(strcmp(lh.generation, fh.generation) != 0);
	CHECK_EQ_INT(fh.seq, lh.seq);
	CHECK(key_present(&f10, "alone-late-4"));
	CHECK_EQ_INT(raw_put(&f10, "alone-led", 1001, 0), lh.seq + 1);
	CHECK(key_present(&f10, "alone-led"));
	CHECK(key_absent(&l9, "alone-led"));
}

int
main(void)
{
	uint64_t t0 = now_ms();

	RILL_TEST_RUN(test_two_followers_100k_writes);
	RILL_TEST_RUN(test_follower_killed_resumes);
	rill_test_server_cleanup(&f1b);
	rill_test_server_cleanup(&f1a);
	rill_test_server_cleanup(&l1);
	RILL_TEST_RUN(test_follower_past_retention_rebootstraps);
	rill_test_server_cleanup(&f3);
	rill_test_server_cleanup(&l3);
	RILL_TEST_RUN(test_promotion);
	rill_test_server_cleanup(&f4c);
	rill_test_server_cleanup(&f4b);
	rill_test_server_cleanup(&l4);
	rill_test_server_cleanup(&f4a);
	RILL_TEST_RUN(test_follower_rebootstraps_after_leader_lost_writes);
	rill_test_server_cleanup(&f5);
	rill_test_server_cleanup(&l5);
	RILL_TEST_RUN(test_ancestor_log_cut_short);
	rill_test_server_cleanup(&l6);
	RILL_TEST_RUN(test_refused_promotion_keeps_following);
	rill_test_server_cleanup(&f7);
	rill_test_server_cleanup(&l7);
	RILL_TEST_RUN(test_follower_unready_while_cut_off);
	rill_test_server_cleanup(&f8);
	rill_test_server_cleanup(&l8);
	RILL_TEST_RUN(test_promoted_node_keeps_what_it_led);
	RILL_TEST_RUN(test_follower_started_alone_forks);
	rill_test_server_cleanup(&f10);
	rill_test_server_cleanup(&f9);
	rill_test_server_cleanup(&l9);
	fprintf(stderr, "  %" PRIu64 " ms in all\n", now_ms() - t0);
	return RILL_TEST_SUMMARY();
}
