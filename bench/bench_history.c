// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// bench_history: the figures of rill's history, each set against a
// baseline measured in the same run (see bench/README.md, "History
// figures"):
//
//   snapshot         rill_snapshot_write_store over a LevelDB store of
//                    n_keys, in this process, against a bare walk of the
//                    same store (rill_store_iter_*), page cache warm
//   download         the newest snapshot of the rilld started, read with
//                    GetSnapshot in 4 MiB chunks into memory and into a
//                    file, against nng round trips of the same bytes to
//                    the echo server
//   restore          rill_restore from that rilld's data dir (its newest
//                    snapshot plus n_records single-put log records) into
//                    a new one, against a load of n_keys pairs into a
//                    fresh store with rill_store_batch_put
//   snapshot-writes  async puts while snapshots run back to back, against
//                    the same puts without a snapshot
//
// The three last ones share the rilld: it is loaded with n_keys once, and
// the snapshot the download reads is the one the restore starts from.
// Snapshots are asked for with POST /v1/snapshots on rilld's admin API,
// a plain HTTP/1.1 exchange over a socket.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <leveldb/c.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <rill/status.h>

#include "diag.h"
#include "restore.h"
#include "rill/v1/rill.pb-c.h"
#include "snapshot.h"
#include "store.h"

#include "bench.h"

// MB is 10^6 bytes: the stricter reading of the MB/s targets.
#define MB 1e6
// The fill and baseline stores commit every this many pairs...
#define FILL_BATCH_KEYS 10000
// ...and the load baseline, like restore, every this many bytes.
#define LOAD_BATCH_BYTES ((size_t) 4 << 20)
// A snapshot of a large store may take minutes on a slow disk.
#define SNAPSHOT_TIMEOUT_MS (30u * 60 * 1000)
#define RPC_TIMEOUT_MS 30000

const char *
rill_bench_figure_name(rill_bench_figure f)
{
	switch (f) {
	case RILL_BENCH_FIG_SNAPSHOT:
		return "snapshot";
	case RILL_BENCH_FIG_DOWNLOAD:
		return "download";
	case RILL_BENCH_FIG_RESTORE:
		return "restore";
	case RILL_BENCH_FIG_SNAPSHOT_WRITES:
		return "snapshot-writes";
	default:
		return "?";
	}
}

// The admin API ------------------------------------------------------------

// http_call sends "METHOD target" to 127.0.0.1:port and reads the answer
// to its end (Connection: close), at most timeout_ms. It returns the HTTP
// status with the body in body (truncated to n - 1 bytes), or -1 with a
// message in err. With RILL_ADMIN_TOKEN set, rilld wants a bearer token:
// the first of the list goes along.
static int
http_call(int port, const char *method, const char *target,
    uint64_t timeout_ms, char *body, size_t n, char *err, size_t en)
{
	struct sockaddr_in sa;
	const char        *tokens = getenv("RILL_ADMIN_TOKEN");
	char               req[1024], auth[512] = "", resp[16384];
	size_t             got = 0, len;
	uint64_t           end = rill_bench_now_ns() + timeout_ms * 1000000u;
	char              *hdr_end;
	int                fd, status;

	if (tokens != NULL && tokens[0] != '\0') {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %.*s\r\n",
		    (int) strcspn(tokens, ","), tokens);
	}
	len = (size_t) snprintf(req, sizeof(req),
	    "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%sContent-Length: "
	    "0\r\nConnection: close\r\n\r\n",
	    method, target, port, auth);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family      = AF_INET;
	sa.sin_port        = htons((uint16_t) port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		rill_bench_errf(err, en, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) != 0) {
		rill_bench_errf(err, en, "admin API 127.0.0.1:%d: %s", port,
		    strerror(errno));
		close(fd);
		return -1;
	}
	for (size_t o = 0; o < len;) {
		ssize_t w = send(fd, req + o, len - o, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w <= 0) {
			rill_bench_errf(
			    err, en, "admin API: send: %s", strerror(errno));
			close(fd);
			return -1;
		}
		o += (size_t) w;
	}
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t      now = rill_bench_now_ns();
		ssize_t       r;
		int           p;

		if (now >= end) {
			rill_bench_errf(err, en,
			    "admin API: no answer to %s %s in %.0f s", method,
			    target, (double) timeout_ms / 1e3);
			close(fd);
			return -1;
		}
		// In slices, so that a second Ctrl-C is not needed.
		p = poll(&pfd, 1, 100);
		if (p < 0 && errno != EINTR) {
			rill_bench_errf(
			    err, en, "admin API: poll: %s", strerror(errno));
			close(fd);
			return -1;
		}
		if (p <= 0) {
			continue;
		}
		if (got + 1 >= sizeof(resp)) {
			char sink[4096];

			r = recv(fd, sink, sizeof(sink), 0); // drop the rest
		} else {
			r = recv(fd, resp + got, sizeof(resp) - 1 - got, 0);
			if (r > 0) {
				got += (size_t) r;
			}
		}
		if (r == 0) {
			break;
		}
		if (r < 0 && errno != EINTR && errno != EAGAIN) {
			rill_bench_errf(
			    err, en, "admin API: recv: %s", strerror(errno));
			close(fd);
			return -1;
		}
	}
	close(fd);
	resp[got] = '\0';
	if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1 ||
	    (hdr_end = strstr(resp, "\r\n\r\n")) == NULL) {
		rill_bench_errf(err, en,
		    "admin API: %s %s: not an HTTP answer: \"%.80s\"", method,
		    target, resp);
		return -1;
	}
	snprintf(body, n, "%s", hdr_end + 4);
	// The body ends with a newline for people using curl.
	len = strlen(body);
	while (len > 0 && (body[len - 1] == '\n' || body[len - 1] == '\r')) {
		body[--len] = '\0';
	}
	return status;
}

// json_u64 reads the number of the top-level field name of a flat JSON
// object as rilld prints it (integers, printed exactly).
static bool
json_u64(const char *json, const char *name, uint64_t *vp)
{
	char        pat[64];
	const char *p;
	char       *end;

	snprintf(pat, sizeof(pat), "\"%s\":", name);
	if ((p = strstr(json, pat)) == NULL) {
		return false;
	}
	p += strlen(pat);
	while (*p == ' ') {
		p++;
	}
	errno = 0;
	*vp   = strtoull(p, &end, 10);
	return end != p && errno == 0;
}

// wait_admin polls GET /health until the admin API answers.
static int
wait_admin(int port, char *err, size_t n)
{
	uint64_t end = rill_bench_now_ns() + 20000000000u;
	char     body[256], why[256] = "no answer";

	while (rill_bench_now_ns() < end) {
		int status = http_call(port, "GET", "/health", 2000, body,
		    sizeof(body), why, sizeof(why));

		if (status == 200) {
			return 0;
		}
		if (status > 0) {
			snprintf(
			    why, sizeof(why), "HTTP %d %.200s", status, body);
		}
		if (!rill_bench_sleep_ms(50)) {
			break;
		}
	}
	rill_bench_errf(err, n,
	    "rilld's admin API on 127.0.0.1:%d did not answer: %s", port, why);
	return -1;
}

// snap_record is what POST /v1/snapshots returns.
typedef struct snap_record {
	uint64_t seq;
	uint64_t keys;
	uint64_t size;
	uint64_t raw_bytes;
	uint64_t duration_ms;
} snap_record;

// take_snapshot asks rilld for a snapshot and waits for it.
static int
take_snapshot(int port, snap_record *rec, char *err, size_t n)
{
	char body[4096], why[256];
	int  status = http_call(port, "POST", "/v1/snapshots?wait=true",
	     SNAPSHOT_TIMEOUT_MS, body, sizeof(body), why, sizeof(why));

	if (status < 0) {
		rill_bench_errf(err, n, "POST /v1/snapshots: %s", why);
		return -1;
	}
	memset(rec, 0, sizeof(*rec));
	if (status != 200 || !json_u64(body, "seq", &rec->seq) ||
	    !json_u64(body, "keys", &rec->keys) ||
	    !json_u64(body, "size", &rec->size)) {
		rill_bench_errf(err, n, "POST /v1/snapshots: HTTP %d: %.300s",
		    status, body);
		return -1;
	}
	json_u64(body, "raw_bytes", &rec->raw_bytes);
	json_u64(body, "duration_ms", &rec->duration_ms);
	return 0;
}

// State shared by the figures that use the rilld ---------------------------

typedef struct hist_run {
	rill_bench_history *h;
	bool                admin_ok;  // the admin API answered
	bool                have_snap; // snap taken after the load
	snap_record         snap;
	bool                records_put; // the restore's records are in
} hist_run;

// ensure_loaded puts keys [0, n_keys) into rilld, in batches from a few
// clients, unless they are there.
static int
ensure_loaded(hist_run *hr)
{
	rill_bench_history *h = hr->h;
	char                err[512], rate[32];
	double              s;
	int n_threads = h->cfg->clients < 8 ? h->cfg->clients : 8;

	if (h->rill_loaded >= h->n_keys) {
		return 0;
	}
	fprintf(stderr, "rill_bench: loading %llu keys into rill\n",
	    (unsigned long long) (h->n_keys - h->rill_loaded));
	if (rill_bench_rill_load(h->rill_url, h->cfg, h->rill_loaded,
	        h->n_keys - h->rill_loaded, n_threads, &s, err,
	        sizeof(err)) != 0) {
		fprintf(stderr, "rill_bench: load: %s\n", err);
		return -1;
	}
	fprintf(stderr,
	    "rill_bench: loaded in %.2f s (%s keys/s, batches of %zu)\n", s,
	    rill_bench_fmt_count(
	        rate, sizeof(rate), (double) (h->n_keys - h->rill_loaded) / s),
	    rill_bench_load_chunk(h->cfg));
	h->rill_loaded = h->n_keys;
	hr->have_snap  = false;
	return 0;
}

static int
ensure_admin(hist_run *hr)
{
	char err[512];

	if (hr->admin_ok) {
		return 0;
	}
	if (wait_admin(hr->h->admin_port, err, sizeof(err)) != 0) {
		fprintf(stderr, "rill_bench: %s\n", err);
		return -1;
	}
	hr->admin_ok = true;
	return 0;
}

// ensure_snapshot takes the snapshot of the loaded keys that the download
// reads and the restore starts from, unless it was taken.
static int
ensure_snapshot(hist_run *hr)
{
	char err[512], b1[32], b2[32];

	if (ensure_loaded(hr) != 0 || ensure_admin(hr) != 0) {
		return -1;
	}
	if (hr->have_snap) {
		return 0;
	}
	fprintf(stderr, "rill_bench: POST /v1/snapshots (wait=true)\n");
	if (take_snapshot(hr->h->admin_port, &hr->snap, err, sizeof(err)) !=
	    0) {
		fprintf(stderr, "rill_bench: %s\n", err);
		return -1;
	}
	fprintf(stderr,
	    "rill_bench: rilld wrote snapshot seq %llu: %s keys, %s bytes, "
	    "in %llu ms\n",
	    (unsigned long long) hr->snap.seq,
	    rill_bench_fmt_count(b1, sizeof(b1), (double) hr->snap.keys),
	    rill_bench_fmt_count(b2, sizeof(b2), (double) hr->snap.size),
	    (unsigned long long) hr->snap.duration_ms);
	hr->have_snap = true;
	return 0;
}

// Figure: snapshot creation ------------------------------------------------

typedef struct walk_result {
	uint64_t keys;
	uint64_t bytes; // of keys and values
	double   seconds;
} walk_result;

// walk_store reads every pair of store through one view, as a snapshot
// does, taking each key and value (their first bytes, so the reads are
// not left out) and nothing more.
static int
walk_store(rill_store *store, walk_result *w, uint64_t *sink)
{
	rill_store_iter *it;
	uint64_t         t0 = rill_bench_now_ns(), x = 0;
	int              rv;

	memset(w, 0, sizeof(*w));
	if ((rv = rill_store_iter_new(store, &it, NULL)) != RILL_OK) {
		return rv;
	}
	for (rill_store_iter_seek_first(it); rill_store_iter_valid(it);
	     rill_store_iter_next(it)) {
		size_t      kl, vl;
		const char *k = rill_store_iter_key(it, &kl);
		const char *v = rill_store_iter_value(it, &vl);

		if (kl > 0) {
			x += (uint8_t) k[0];
		}
		if (vl > 0) {
			x += (uint8_t) v[0];
		}
		w->keys++;
		w->bytes += kl + vl;
	}
	rv         = rill_store_iter_status(it);
	w->seconds = rill_bench_secs_since(t0);
	rill_store_iter_free(it);
	*sink += x;
	return rv;
}

// compact_dir opens the LevelDB at dir with the store's settings and
// compacts it whole, so that no compaction runs while it is measured.
static int
compact_dir(const char *dir, char *err, size_t n)
{
	leveldb_options_t      *o = leveldb_options_create();
	leveldb_filterpolicy_t *f = leveldb_filterpolicy_create_bloom(10);
	leveldb_t              *db;
	char                   *lerr = NULL;

	leveldb_options_set_filter_policy(o, f);
	leveldb_options_set_compression(o, leveldb_snappy_compression);
	db = leveldb_open(o, dir, &lerr);
	if (lerr == NULL) {
		leveldb_compact_range(db, NULL, 0, NULL, 0);
		leveldb_close(db);
	}
	leveldb_options_destroy(o);
	leveldb_filterpolicy_destroy(f);
	if (lerr != NULL) {
		rill_bench_errf(err, n, "leveldb %s: %s", dir, lerr);
		leveldb_free(lerr);
		return -1;
	}
	return 0;
}

// fill_store puts keys [0, n) into store in batches of FILL_BATCH_KEYS.
static int
fill_store(rill_store *store, const rill_bench_config *cfg, uint64_t n)
{
	rill_store_batch *batch;
	uint8_t          *key = malloc(cfg->key_size);
	uint64_t          rng = rill_bench_seed(0), seq = 0;
	int               rv;

	if (key == NULL) {
		return RILL_ENOMEM;
	}
	if ((rv = rill_store_batch_new(&batch)) != RILL_OK) {
		free(key);
		return rv;
	}
	for (uint64_t i = 0; rv == RILL_OK && i < n;) {
		for (uint64_t j = 0;
		     rv == RILL_OK && j < FILL_BATCH_KEYS && i < n; j++, i++) {
			rill_bench_key(key, cfg->key_size, i);
			rv = rill_store_batch_put(batch, key, cfg->key_size,
			    rill_bench_value(cfg, &rng), cfg->value_size);
		}
		if (rv == RILL_OK) {
			rv = rill_store_commit(store, batch, 1, ++seq);
		}
		if (rill_bench_interrupted) {
			rv = RILL_CANCELLED;
		}
	}
	rill_store_batch_free(batch);
	free(key);
	return rv;
}

static int
fig_snapshot(hist_run *hr)
{
	rill_bench_history      *h   = hr->h;
	const rill_bench_config *cfg = h->cfg;
	// rilld's store settings (its defaults).
	rill_store_options so    = { .cache_bytes = 8u << 20,
		   .write_buffer_bytes            = 16u << 20 };
	rill_store        *store = NULL;
	rill_snapshot_info info;
	walk_result        warm, bare = { 0 };
	char dir[PATH_MAX], store_dir[PATH_MAX + 16], snap_dir[PATH_MAX + 16];
	char err[512], b1[32], b2[32], b3[32];
	double   snap_s = 0, s;
	uint64_t t0, sink = 0;
	int      rv, ret  = -1;
	bool     base = h->baselines;

	snprintf(dir, sizeof(dir), "%s/snapshot-figure", h->tmp);
	snprintf(store_dir, sizeof(store_dir), "%s/store", dir);
	snprintf(snap_dir, sizeof(snap_dir), "%s/snapshots", dir);
	if (mkdir(dir, 0755) != 0 || mkdir(snap_dir, 0755) != 0) {
		fprintf(stderr, "rill_bench: snapshot: mkdir %s: %s\n", dir,
		    strerror(errno));
		return -1;
	}
	fprintf(stderr,
	    "rill_bench: snapshot: filling a store with %llu keys "
	    "(rill_store_batch_put, %d a commit)\n",
	    (unsigned long long) h->n_keys, FILL_BATCH_KEYS);
	t0 = rill_bench_now_ns();
	if ((rv = rill_store_open(&store, store_dir, &so)) != RILL_OK ||
	    (rv = fill_store(store, cfg, h->n_keys)) != RILL_OK) {
		fprintf(stderr, "rill_bench: snapshot: fill the store: %s\n",
		    rill_strerror(rv));
		goto out;
	}
	rill_store_close(store);
	store = NULL;
	s     = rill_bench_secs_since(t0);
	// Closed, compacted and opened again: the pairs sit in tables and no
	// compaction is left to compete with what is measured.
	t0 = rill_bench_now_ns();
	if (compact_dir(store_dir, err, sizeof(err)) != 0) {
		fprintf(stderr, "rill_bench: snapshot: %s\n", err);
		goto out;
	}
	fprintf(stderr,
	    "rill_bench: snapshot: filled in %.2f s, compacted in %.2f s\n", s,
	    rill_bench_secs_since(t0));
	if ((rv = rill_store_open(&store, store_dir, &so)) != RILL_OK) {
		fprintf(stderr, "rill_bench: snapshot: reopen the store: %s\n",
		    rill_strerror(rv));
		goto out;
	}
	// Warm the page cache (and the block cache) with one walk.
	if ((rv = walk_store(store, &warm, &sink)) != RILL_OK ||
	    (base && (rv = walk_store(store, &bare, &sink)) != RILL_OK)) {
		fprintf(stderr, "rill_bench: snapshot: walk: %s\n",
		    rill_strerror(rv));
		goto out;
	}
	if (warm.keys != h->n_keys) {
		fprintf(stderr,
		    "rill_bench: snapshot: the store holds %llu keys, not "
		    "%llu (keys collided?)\n",
		    (unsigned long long) warm.keys,
		    (unsigned long long) h->n_keys);
	}
	if (rill_bench_interrupted) {
		goto out;
	}
	fprintf(
	    stderr, "rill_bench: snapshot: rill_snapshot_write_store ...\n");
	t0 = rill_bench_now_ns();
	rv = rill_snapshot_write_store(store, snap_dir, 1, NULL, NULL, &info);
	snap_s = rill_bench_secs_since(t0);
	if (rv != RILL_OK) {
		fprintf(stderr, "rill_bench: snapshot: write: %s\n",
		    rill_strerror(rv));
		goto out;
	}
	if (info.key_count != warm.keys) {
		fprintf(stderr,
		    "rill_bench: snapshot: %llu keys in the snapshot, %llu in "
		    "the store\n",
		    (unsigned long long) info.key_count,
		    (unsigned long long) warm.keys);
		goto out;
	}
	ret = 0;
	{
		double keys_s  = (double) info.key_count / snap_s;
		double mb_s    = (double) warm.bytes / snap_s / MB;
		bool   b       = base && bare.seconds > 0;
		double bkeys_s = b ? (double) bare.keys / bare.seconds : 0;
		double bmb_s = b ? (double) bare.bytes / bare.seconds / MB : 0;
		double ratio = b ? keys_s / bkeys_s : 0;

		if (h->json) {
			printf("{\"workload\":\"snapshot\",\"keys\":%llu,"
			       "\"key_size\":%zu,\"value_size\":%zu,"
			       "\"bytes\":%llu,\"file_bytes\":%llu",
			    (unsigned long long) info.key_count, cfg->key_size,
			    cfg->value_size, (unsigned long long) warm.bytes,
			    (unsigned long long) info.file_size);
			rill_bench_json_num("seconds", true, snap_s, "%.4f");
			rill_bench_json_num(
			    "keys_per_s", true, keys_s, "%.1f");
			rill_bench_json_num("mb_per_s", true, mb_s, "%.2f");
			rill_bench_json_num(
			    "bare_seconds", b, bare.seconds, "%.4f");
			rill_bench_json_num(
			    "bare_keys_per_s", b, bkeys_s, "%.1f");
			rill_bench_json_num("bare_mb_per_s", b, bmb_s, "%.2f");
			rill_bench_json_num("ratio_bare", b, ratio, "%.4f");
			printf("}\n");
		} else {
			printf("\n== snapshot: %s keys of %zu B with %zu B "
			       "values in a LevelDB store (rill_store), in "
			       "this process, page cache warm\n",
			    rill_bench_fmt_count(
			        b1, sizeof(b1), (double) info.key_count),
			    cfg->key_size, cfg->value_size);
			printf("   (MB/s: 10^6 bytes of keys and values a "
			       "second; the file is %s bytes, fsynced)\n",
			    rill_bench_fmt_count(
			        b2, sizeof(b2), (double) info.file_size));
			printf("  %-16s %10s %14s %10s %10s\n", "", "seconds",
			    "keys/s", "MB/s", "snap/this");
			printf("  %-16s %10.3f %14s %10.1f\n", "snapshot",
			    snap_s,
			    rill_bench_fmt_count(b3, sizeof(b3), keys_s),
			    mb_s);
			if (b) {
				printf("  %-16s %10.3f %14s %10.1f %10.3f  "
				       "(target >= 0.3)\n",
				    "bare iteration", bare.seconds,
				    rill_bench_fmt_count(
				        b3, sizeof(b3), bkeys_s),
				    bmb_s, ratio);
			}
		}
		fflush(stdout);
	}
out:
	rill_store_close(store);
	rill_bench_remove_tree(dir);
	if (sink == 42) { // keeps the walks' reads
		fprintf(stderr, " ");
	}
	return ret;
}

// Figure: snapshot download ------------------------------------------------

typedef struct snap_client {
	nng_socket sock;
	uint64_t   client_id;
	uint64_t   next_id;
} snap_client;

static int
snap_client_open(snap_client *c, const char *url, char *err, size_t n)
{
	int rv;

	memset(c, 0, sizeof(*c));
	c->client_id = rill_bench_seed(7) | 1;
	if ((rv = nng_req0_open(&c->sock)) != 0) {
		rill_bench_errf(err, n, "req socket: %s", nng_strerror(rv));
		return -1;
	}
	if ((rv = nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME,
	         NNG_DURATION_INFINITE)) != 0 ||
	    (rv = nng_socket_set_ms(
	         c->sock, NNG_OPT_RECVTIMEO, RPC_TIMEOUT_MS)) != 0 ||
	    (rv = nng_socket_set_ms(
	         c->sock, NNG_OPT_SENDTIMEO, RPC_TIMEOUT_MS)) != 0 ||
	    (rv = nng_socket_set_size(
	         c->sock, NNG_OPT_RECVMAXSZ, 64u << 20)) != 0 ||
	    (rv = nng_dial(c->sock, url, NULL, 0)) != 0) {
		rill_bench_errf(err, n, "rilld %s: %s", url, nng_strerror(rv));
		nng_close(c->sock);
		return -1;
	}
	return 0;
}

// get_chunk makes one GetSnapshot call and returns its decoded answer
// (free with rill__v1__response__free_unpacked).
static int
get_chunk(snap_client *c, Rill__V1__GetSnapshotRequest *g,
    Rill__V1__Response **respp, char *err, size_t n)
{
	Rill__V1__Request   req = RILL__V1__REQUEST__INIT;
	Rill__V1__Response *resp;
	nng_msg            *msg;
	int                 rv;

	req.request_id   = ++c->next_id;
	req.client_id    = c->client_id;
	req.body_case    = RILL__V1__REQUEST__BODY_GET_SNAPSHOT;
	req.get_snapshot = g;
	if ((rv = nng_msg_alloc(
	         &msg, rill__v1__request__get_packed_size(&req))) != 0) {
		rill_bench_errf(err, n, "msg: %s", nng_strerror(rv));
		return -1;
	}
	rill__v1__request__pack(&req, nng_msg_body(msg));
	if ((rv = nng_sendmsg(c->sock, msg, 0)) != 0) {
		nng_msg_free(msg);
		rill_bench_errf(
		    err, n, "GetSnapshot send: %s", nng_strerror(rv));
		return -1;
	}
	if ((rv = nng_recvmsg(c->sock, &msg, 0)) != 0) {
		rill_bench_errf(
		    err, n, "GetSnapshot recv: %s", nng_strerror(rv));
		return -1;
	}
	resp = rill__v1__response__unpack(
	    NULL, nng_msg_len(msg), nng_msg_body(msg));
	nng_msg_free(msg);
	if (resp == NULL) {
		rill_bench_errf(err, n,
		    "GetSnapshot: an answer that does not "
		    "decode");
		return -1;
	}
	if (resp->code != RILL__V1__CODE__OK ||
	    resp->body_case != RILL__V1__RESPONSE__BODY_GET_SNAPSHOT) {
		rill_bench_errf(err, n, "GetSnapshot: %s: %s",
		    rill_strerror((int) resp->code), resp->message);
		rill__v1__response__free_unpacked(resp, NULL);
		return -1;
	}
	*respp = resp;
	return 0;
}

typedef struct snap_id {
	char     generation[17];
	uint64_t seq;
	uint64_t total;
	uint64_t keys;
	char     hash[17];
} snap_id;

// download reads the whole snapshot id in chunks into mem, or else into
// fd (then fsynced once).
static int
download(snap_client *c, const snap_id *id, size_t chunk, uint8_t *mem, int fd,
    char *err, size_t n)
{
	Rill__V1__GetSnapshotRequest g = RILL__V1__GET_SNAPSHOT_REQUEST__INIT;

	g.generation = (char *) id->generation;
	g.seq        = id->seq;
	g.max_bytes  = (uint32_t) chunk;
	for (uint64_t off = 0; off < id->total;) {
		const Rill__V1__GetSnapshotResponse *gs;
		Rill__V1__Response                  *resp;
		int                                  rv = 0;

		if (rill_bench_interrupted) {
			rill_bench_errf(err, n, "interrupted");
			return -1;
		}
		g.offset = off;
		if (get_chunk(c, &g, &resp, err, n) != 0) {
			return -1;
		}
		gs = resp->get_snapshot;
		if (gs->offset != off || gs->seq != id->seq ||
		    gs->total_size != id->total || gs->data.len == 0 ||
		    gs->data.len > id->total - off) {
			rill_bench_errf(err, n,
			    "GetSnapshot: a chunk that does not continue the "
			    "download at offset %llu",
			    (unsigned long long) off);
			rv = -1;
		} else if (mem != NULL) {
			memcpy(mem + off, gs->data.data, gs->data.len);
		} else {
			for (size_t o = 0; o < gs->data.len;) {
				ssize_t w = write(
				    fd, gs->data.data + o, gs->data.len - o);

				if (w < 0 && errno == EINTR) {
					continue;
				}
				if (w <= 0) {
					rill_bench_errf(err, n, "write: %s",
					    strerror(errno));
					rv = -1;
					break;
				}
				o += (size_t) w;
			}
			// Start the chunk's writeback now, as a downloader
			// that fsyncs at the end should: the disk works while
			// the next chunk travels.
			(void) sync_file_range(fd, (off_t) off,
			    (off_t) gs->data.len, SYNC_FILE_RANGE_WRITE);
		}
		if (rv == 0) {
			off += gs->data.len;
		}
		rill__v1__response__free_unpacked(resp, NULL);
		if (rv != 0) {
			return -1;
		}
	}
	if (fd >= 0 && fsync(fd) != 0) {
		rill_bench_errf(err, n, "fsync: %s", strerror(errno));
		return -1;
	}
	return 0;
}

// probe asks for the first bytes of the newest snapshot, untimed: the
// connection is made and the snapshot named for the downloads.
static int
probe(snap_client *c, snap_id *id, char *err, size_t n)
{
	Rill__V1__GetSnapshotRequest g = RILL__V1__GET_SNAPSHOT_REQUEST__INIT;
	Rill__V1__Response          *resp;

	g.generation = "";
	g.max_bytes  = 4096;
	if (get_chunk(c, &g, &resp, err, n) != 0) {
		return -1;
	}
	snprintf(id->generation, sizeof(id->generation), "%s",
	    resp->get_snapshot->generation);
	snprintf(
	    id->hash, sizeof(id->hash), "%s", resp->get_snapshot->state_hash);
	id->seq   = resp->get_snapshot->seq;
	id->total = resp->get_snapshot->total_size;
	id->keys  = resp->get_snapshot->key_count;
	rill__v1__response__free_unpacked(resp, NULL);
	return 0;
}

static int
fig_download(hist_run *hr)
{
	rill_bench_history *h = hr->h;
	snap_client         c;
	snap_id             id;
	rill_snapshot_info  info;
	char     err[512], path[PATH_MAX + 16], b1[32], b2[32], hash[17];
	uint8_t *mem   = NULL;
	double   mem_s = 0, file_s = 0, echo_s = 0, oneway_s = 0;
	bool     echo = false, oneway = false;
	uint64_t t0;
	int      fd = -1, rv, ret = -1;

	if (ensure_snapshot(hr) != 0) {
		return -1;
	}
	if (snap_client_open(&c, h->rill_url, err, sizeof(err)) != 0) {
		fprintf(stderr, "rill_bench: download: %s\n", err);
		return -1;
	}
	if (probe(&c, &id, err, sizeof(err)) != 0) {
		fprintf(stderr, "rill_bench: download: %s\n", err);
		goto out;
	}
	if (id.seq != hr->snap.seq) {
		fprintf(stderr,
		    "rill_bench: download: the newest snapshot is at seq "
		    "%llu, not %llu (rilld took one of its own)\n",
		    (unsigned long long) id.seq,
		    (unsigned long long) hr->snap.seq);
	}
	if ((mem = malloc(id.total)) == NULL) {
		fprintf(stderr, "rill_bench: download: out of memory\n");
		goto out;
	}
	// Touch the buffer first: page faults are not the download's.
	memset(mem, 0, id.total);
	fprintf(stderr,
	    "rill_bench: download: GetSnapshot of %llu bytes into memory "
	    "...\n",
	    (unsigned long long) id.total);
	t0    = rill_bench_now_ns();
	rv    = download(&c, &id, h->chunk_bytes, mem, -1, err, sizeof(err));
	mem_s = rill_bench_secs_since(t0);
	if (rv != 0) {
		fprintf(stderr, "rill_bench: download: %s\n", err);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/download.snap", h->tmp);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) <
	    0) {
		fprintf(stderr, "rill_bench: download: create %s: %s\n", path,
		    strerror(errno));
		goto out;
	}
	fprintf(stderr, "rill_bench: download: ... into a file ...\n");
	t0     = rill_bench_now_ns();
	rv     = download(&c, &id, h->chunk_bytes, NULL, fd, err, sizeof(err));
	file_s = rill_bench_secs_since(t0);
	close(fd);
	fd = -1;
	if (rv != 0) {
		fprintf(stderr, "rill_bench: download: %s\n", err);
		goto out;
	}
	// Both copies are checked, untimed: the file whole (blocks, count,
	// state hash), and the memory against it.
	if ((rv = rill_snapshot_verify(path, &info)) != RILL_OK) {
		fprintf(stderr,
		    "rill_bench: download: the downloaded file does not "
		    "verify: %s\n",
		    rill_strerror(rv));
		goto out;
	}
	snprintf(hash, sizeof(hash), "%016" PRIx64, info.state_hash);
	if (strcmp(hash, id.hash) != 0 || info.key_count != id.keys) {
		fprintf(stderr,
		    "rill_bench: download: the file holds %llu keys, hash "
		    "%s; rilld said %llu, %s\n",
		    (unsigned long long) info.key_count, hash,
		    (unsigned long long) id.keys, id.hash);
		goto out;
	}
	{
		FILE    *f    = fopen(path, "rb");
		uint8_t *back = malloc(1u << 20);
		bool     same = f != NULL && back != NULL;

		for (uint64_t off = 0; same && off < id.total;) {
			size_t want = id.total - off < (1u << 20)
			    ? (size_t) (id.total - off)
			    : (1u << 20);

			same = fread(back, 1, want, f) == want &&
			    memcmp(back, mem + off, want) == 0;
			off += want;
		}
		if (f != NULL) {
			fclose(f);
		}
		free(back);
		if (!same) {
			fprintf(stderr,
			    "rill_bench: download: the copy in memory differs "
			    "from the file\n");
			goto out;
		}
	}
	unlink(path);
	free(mem);
	mem = NULL;
	if (h->baselines && h->echo_url != NULL) {
		fprintf(stderr, "rill_bench: download: nng echo ...\n");
		if (rill_bench_echo_transfer(h->echo_url, id.total,
		        h->chunk_bytes, false, &echo_s, err,
		        sizeof(err)) != 0) {
			fprintf(stderr, "rill_bench: download: %s\n", err);
			goto out;
		}
		echo = true;
		if (rill_bench_echo_transfer(h->echo_url, id.total,
		        h->chunk_bytes, true, &oneway_s, err,
		        sizeof(err)) != 0) {
			fprintf(stderr, "rill_bench: download: %s\n", err);
			goto out;
		}
		oneway = true;
	}
	ret = 0;
	{
		double   tot       = (double) id.total;
		double   mem_mb    = tot / mem_s / MB;
		double   file_mb   = tot / file_s / MB;
		double   echo_mb   = echo ? tot / echo_s / MB : 0;
		double   oneway_mb = oneway ? tot / oneway_s / MB : 0;
		uint64_t trips =
		    (id.total + h->chunk_bytes - 1) / h->chunk_bytes;

		if (h->json) {
			printf("{\"workload\":\"download\",\"keys\":%llu,"
			       "\"bytes\":%llu,\"chunk_bytes\":%zu,"
			       "\"snapshot_ms\":%llu",
			    (unsigned long long) id.keys,
			    (unsigned long long) id.total, h->chunk_bytes,
			    (unsigned long long) hr->snap.duration_ms);
			rill_bench_json_num(
			    "mem_seconds", true, mem_s, "%.4f");
			rill_bench_json_num(
			    "mem_mb_per_s", true, mem_mb, "%.2f");
			rill_bench_json_num(
			    "file_seconds", true, file_s, "%.4f");
			rill_bench_json_num(
			    "file_mb_per_s", true, file_mb, "%.2f");
			rill_bench_json_num(
			    "echo_mb_per_s", echo, echo_mb, "%.2f");
			rill_bench_json_num(
			    "oneway_mb_per_s", oneway, oneway_mb, "%.2f");
			rill_bench_json_num(
			    "ratio_echo", echo, mem_mb / echo_mb, "%.4f");
			rill_bench_json_num("ratio_oneway", oneway,
			    mem_mb / oneway_mb, "%.4f");
			printf("}\n");
		} else {
			printf("\n== download: the newest snapshot (seq %llu, "
			       "%s keys, %s bytes) with GetSnapshot, %zu "
			       "MiB chunks, one call at a time\n",
			    (unsigned long long) id.seq,
			    rill_bench_fmt_count(
			        b1, sizeof(b1), (double) id.keys),
			    rill_bench_fmt_count(b2, sizeof(b2), tot),
			    h->chunk_bytes >> 20);
			printf("   (rilld wrote it in %llu ms on POST "
			       "/v1/snapshots; MB/s: 10^6 bytes a second; "
			       "%llu round trip%s each)\n",
			    (unsigned long long) hr->snap.duration_ms,
			    (unsigned long long) trips, trips == 1 ? "" : "s");
			printf("  %-14s %10s %10s %10s\n", "", "seconds",
			    "MB/s", "rill/this");
			printf("  %-14s %10.3f %10.1f             (target >= "
			       "300)\n",
			    "into memory", mem_s, mem_mb);
			printf("  %-14s %10.3f %10.1f             (target >= "
			       "300; one fsync at the end)\n",
			    "into a file", file_s, file_mb);
			if (echo) {
				printf("  %-14s %10.3f %10.1f %10.3f  (the "
				       "chunks' bytes both ways)\n",
				    "nng echo", echo_s, echo_mb,
				    mem_mb / echo_mb);
			}
			if (oneway) {
				printf("  %-14s %10.3f %10.1f %10.3f  (16 B "
				       "requests, replies of the chunks' "
				       "size)\n",
				    "nng one-way", oneway_s, oneway_mb,
				    mem_mb / oneway_mb);
			}
		}
		fflush(stdout);
	}
out:
	if (fd >= 0) {
		close(fd);
	}
	free(mem);
	nng_close(c.sock);
	return ret;
}

// Figure: restore ----------------------------------------------------------

typedef struct restore_clock {
	uint64_t t0;
	uint64_t snapshot_done; // the load of the snapshot ended
	uint64_t finish;        // the replay ended
} restore_clock;

static void
restore_progress(void *arg, const rill_restore_progress *p)
{
	restore_clock *c = arg;

	if (strcmp(p->phase, "snapshot") == 0 && p->done == p->total) {
		c->snapshot_done = rill_bench_now_ns();
	} else if (strcmp(p->phase, "finish") == 0 && c->finish == 0) {
		c->finish = rill_bench_now_ns();
	}
}

static int
key_cmp(const void *a, const void *b, void *size)
{
	return memcmp(a, b, *(const size_t *) size);
}

// load_baseline loads keys [0, n) into a fresh store at dir in key
// order, as restore loads a snapshot: rill_store_batch_put, a commit every
// LOAD_BATCH_BYTES, restore's store settings; the store is closed before
// the clock stops. The keys are made and sorted before it starts.
static int
load_baseline(const rill_bench_config *cfg, const char *dir, uint64_t n,
    double *secondsp)
{
	rill_store_options so    = { .write_buffer_bytes = 64u << 20 };
	size_t             ks    = cfg->key_size;
	uint8_t           *keys  = malloc(n * ks);
	rill_store        *store = NULL;
	rill_store_batch  *batch = NULL;
	uint64_t           rng   = rill_bench_seed(0), t0;
	size_t             bytes = 0;
	int                rv;

	if (keys == NULL) {
		return RILL_ENOMEM;
	}
	for (uint64_t i = 0; i < n; i++) {
		rill_bench_key(keys + i * ks, ks, i);
	}
	qsort_r(keys, n, ks, key_cmp, &ks);
	t0 = rill_bench_now_ns();
	if ((rv = rill_store_open(&store, dir, &so)) != RILL_OK ||
	    (rv = rill_store_batch_new(&batch)) != RILL_OK) {
		goto out;
	}
	for (uint64_t i = 0; rv == RILL_OK && i < n; i++) {
		rv = rill_store_batch_put(batch, keys + i * ks, ks,
		    rill_bench_value(cfg, &rng), cfg->value_size);
		bytes += ks + cfg->value_size + 16;
		if (rv == RILL_OK && bytes >= LOAD_BATCH_BYTES) {
			rv    = rill_store_commit(store, batch, 1, 1);
			bytes = 0;
		}
	}
	if (rv == RILL_OK) {
		rv = rill_store_commit(store, batch, 1, 1);
	}
out:
	rill_store_batch_free(batch);
	rill_store_close(store);
	*secondsp = rill_bench_secs_since(t0);
	free(keys);
	return rv;
}

static int
fig_restore(hist_run *hr)
{
	rill_bench_history  *h   = hr->h;
	rill_bench_config   *cfg = h->cfg;
	rill_restore_options o;
	rill_restore_result  res;
	restore_clock        clk;
	char   err[512], to[PATH_MAX + 16], base_dir[PATH_MAX + 16];
	char   b1[32], b2[32], b3[32];
	double put_s = 0, restore_s, load_s = 0;
	bool   base = h->baselines;
	int    rv, ret = -1;

	if (ensure_snapshot(hr) != 0) {
		return -1;
	}
	if (!hr->records_put) {
		fprintf(stderr,
		    "rill_bench: restore: %llu single-key puts, %d in "
		    "flight\n",
		    (unsigned long long) h->n_records, cfg->clients);
		if (rill_bench_rill_put_count(h->rill_url, cfg, h->n_keys,
		        h->n_records, cfg->clients, &put_s, err,
		        sizeof(err)) != 0) {
			fprintf(stderr, "rill_bench: restore: %s\n", err);
			h->had_errors = true;
			return -1;
		}
		hr->records_put = true;
	}
	snprintf(to, sizeof(to), "%s/restored", h->tmp);
	memset(&o, 0, sizeof(o));
	memset(&res, 0, sizeof(res));
	memset(&clk, 0, sizeof(clk));
	o.from         = h->data_dir;
	o.to           = to;
	o.progress     = restore_progress;
	o.progress_arg = &clk;
	fprintf(stderr, "rill_bench: restore: rill_restore from %s ...\n",
	    h->data_dir);
	clk.t0    = rill_bench_now_ns();
	rv        = rill_restore(&o, &res);
	restore_s = rill_bench_secs_since(clk.t0);
	rill_bench_remove_tree(to);
	if (rv != RILL_OK) {
		fprintf(
		    stderr, "rill_bench: restore: %s\n", rill_strerror(rv));
		return -1;
	}
	if (res.snapshot_seq != hr->snap.seq || res.records != h->n_records) {
		fprintf(stderr,
		    "rill_bench: restore: warning: it started from the "
		    "snapshot at seq %llu and replayed %llu records (expected "
		    "seq %llu and %llu records)\n",
		    (unsigned long long) res.snapshot_seq,
		    (unsigned long long) res.records,
		    (unsigned long long) hr->snap.seq,
		    (unsigned long long) h->n_records);
	}
	if (base && !rill_bench_interrupted) {
		snprintf(
		    base_dir, sizeof(base_dir), "%s/load-baseline", h->tmp);
		fprintf(stderr,
		    "rill_bench: restore: baseline: %llu pairs into a fresh "
		    "store ...\n",
		    (unsigned long long) h->n_keys);
		rv = load_baseline(cfg, base_dir, h->n_keys, &load_s);
		rill_bench_remove_tree(base_dir);
		if (rv != RILL_OK) {
			fprintf(stderr, "rill_bench: restore: baseline: %s\n",
			    rill_strerror(rv));
			return -1;
		}
	}
	ret = 0;
	{
		double keys_s  = (double) res.keys / restore_s;
		bool   b       = base && load_s > 0;
		double lkeys_s = b ? (double) h->n_keys / load_s : 0;
		bool   phases  = clk.snapshot_done != 0 && clk.finish != 0;
		double load_ph =
		    phases ? (double) (clk.snapshot_done - clk.t0) / 1e9 : 0;
		double replay_ph = phases
		    ? (double) (clk.finish - clk.snapshot_done) / 1e9
		    : 0;
		double finish_ph =
		    phases ? restore_s - load_ph - replay_ph : 0;

		if (h->json) {
			printf("{\"workload\":\"restore\",\"keys\":%llu,"
			       "\"snapshot_seq\":%llu,\"records\":%llu",
			    (unsigned long long) res.keys,
			    (unsigned long long) res.snapshot_seq,
			    (unsigned long long) res.records);
			rill_bench_json_num(
			    "seconds", true, restore_s, "%.4f");
			rill_bench_json_num(
			    "keys_per_s", true, keys_s, "%.1f");
			rill_bench_json_num(
			    "snapshot_load_s", phases, load_ph, "%.4f");
			rill_bench_json_num(
			    "replay_s", phases, replay_ph, "%.4f");
			rill_bench_json_num(
			    "finish_s", phases, finish_ph, "%.4f");
			rill_bench_json_num("puts_per_s", put_s > 0,
			    put_s > 0 ? (double) h->n_records / put_s : 0,
			    "%.1f");
			printf(",\"leveldb_keys\":%llu",
			    (unsigned long long) h->n_keys);
			rill_bench_json_num(
			    "leveldb_seconds", b, load_s, "%.4f");
			rill_bench_json_num(
			    "leveldb_keys_per_s", b, lkeys_s, "%.1f");
			rill_bench_json_num("ratio_leveldb", b,
			    b ? keys_s / lkeys_s : 0, "%.4f");
			printf("}\n");
		} else {
			printf("\n== restore: the snapshot at seq %llu plus "
			       "%s log records, from rilld's data dir into a "
			       "new one (rill_restore, in this process)\n",
			    (unsigned long long) res.snapshot_seq,
			    rill_bench_fmt_count(
			        b1, sizeof(b1), (double) res.records));
			if (put_s > 0) {
				printf("   (the records: single-key puts of "
				       "new keys, %d in flight, %s puts/s)\n",
				    cfg->clients,
				    rill_bench_fmt_count(b2, sizeof(b2),
				        (double) h->n_records / put_s));
			}
			printf("  %-16s %10s %14s %10s\n", "", "seconds",
			    "keys/s", "rill/this");
			printf("  %-16s %10.3f %14s %10s  %s keys (target >= "
			       "500,000 keys/s)\n",
			    "restore", restore_s,
			    rill_bench_fmt_count(b2, sizeof(b2), keys_s), "",
			    rill_bench_fmt_count(
			        b3, sizeof(b3), (double) res.keys));
			if (phases) {
				printf("  %-16s %10.3f\n", "  load snapshot",
				    load_ph);
				printf("  %-16s %10.3f\n", "  replay log",
				    replay_ph);
				printf("  %-16s %10.3f  (the new generation's "
				       "base snapshot, fsyncs, rename)\n",
				    "  finish", finish_ph);
			}
			if (b) {
				printf("  %-16s %10.3f %14s %10.3f  %s pairs "
				       "in key order, rill_store_batch_put\n",
				    "leveldb load", load_s,
				    rill_bench_fmt_count(
				        b2, sizeof(b2), lkeys_s),
				    keys_s / lkeys_s,
				    rill_bench_fmt_count(
				        b3, sizeof(b3), (double) h->n_keys));
			}
		}
		fflush(stdout);
	}
	return ret;
}

// Figure: writes while snapshots run ---------------------------------------

typedef struct snapshotter {
	int        port;
	atomic_int stop;
	uint64_t   done; // snapshots completed
	uint64_t   total_ms;
	uint64_t   failures;
	char       err[512];
} snapshotter;

// snapshotter_main asks for one snapshot after another (POST with
// wait=true) until told to stop; the one running then still completes.
static void *
snapshotter_main(void *arg)
{
	snapshotter *s = arg;

	while (!atomic_load(&s->stop) && !rill_bench_interrupted) {
		snap_record rec;
		char        err[512];

		if (take_snapshot(s->port, &rec, err, sizeof(err)) != 0) {
			if (s->failures++ == 0) {
				snprintf(s->err, sizeof(s->err), "%s", err);
			}
			rill_bench_sleep_ms(100);
			continue;
		}
		s->done++;
		s->total_ms += rec.duration_ms;
	}
	return NULL;
}

static void
print_put_row(const char *name, const rill_bench_result *r)
{
	char rate[32];

	printf("  %-18s %12s %10.1f %10.1f %10.1f\n", name,
	    rill_bench_fmt_count(rate, sizeof(rate), r->ops_per_s),
	    (double) rill_bench_hist_percentile(&r->hist, 0.5) / 1e3,
	    (double) rill_bench_hist_percentile(&r->hist, 0.99) / 1e3,
	    (double) rill_bench_hist_percentile(&r->hist, 0.999) / 1e3);
}

static bool
check_run(rill_bench_history *h, const char *what, const rill_bench_result *r)
{
	if (r->errors > 0) {
		fprintf(stderr,
		    "rill_bench: snapshot-writes: %s: %llu calls failed (not "
		    "counted), the first: %s\n",
		    what, (unsigned long long) r->errors, r->first_error);
		h->had_errors = true;
	}
	if (r->ops == 0) {
		fprintf(stderr,
		    "rill_bench: snapshot-writes: %s: no call "
		    "completed\n",
		    what);
		h->had_errors = true;
		return false;
	}
	return true;
}

static int
fig_snapshot_writes(hist_run *hr)
{
	static rill_bench_result quiet, busy; // large: not on the stack
	rill_bench_history      *h   = hr->h;
	rill_bench_config       *cfg = h->cfg;
	rill_bench_target        t   = rill_bench_rill_target;
	rill_bench_workload      w   = cfg->workload;
	rill_bench_mode          m   = cfg->mode;
	snapshotter              s;
	pthread_t                tid;
	char                     b1[32];
	uint64_t                 keys;
	bool                     ok;
	int                      rv;

	if (ensure_loaded(hr) != 0 || ensure_admin(hr) != 0) {
		return -1;
	}
	keys = h->rill_loaded + (hr->records_put ? h->n_records : 0);
	memset(&quiet, 0, sizeof(quiet));
	memset(&busy, 0, sizeof(busy));
	memset(&s, 0, sizeof(s));
	t.arg         = (void *) h->rill_url;
	cfg->workload = RILL_BENCH_PUT;
	cfg->mode     = RILL_BENCH_ASYNC;
	fprintf(
	    stderr, "rill_bench: snapshot-writes: puts, no snapshot ...\n");
	rv = rill_bench_run(&t, cfg, &quiet);
	if (rv == 0 && !rill_bench_interrupted) {
		s.port = h->admin_port;
		atomic_init(&s.stop, 0);
		fprintf(stderr,
		    "rill_bench: snapshot-writes: puts, snapshots back to "
		    "back ...\n");
		if (pthread_create(&tid, NULL, snapshotter_main, &s) != 0) {
			fprintf(
			    stderr, "rill_bench: cannot create a thread\n");
			rv = -1;
		} else {
			rv = rill_bench_run(&t, cfg, &busy);
			atomic_store(&s.stop, 1);
			fprintf(stderr,
			    "rill_bench: snapshot-writes: waiting for the "
			    "last "
			    "snapshot\n");
			pthread_join(tid, NULL);
			if (s.failures > 0) {
				fprintf(stderr,
				    "rill_bench: snapshot-writes: %llu "
				    "snapshots failed, the first: %s\n",
				    (unsigned long long) s.failures, s.err);
				h->had_errors = true;
			}
		}
	}
	cfg->workload = w;
	cfg->mode     = m;
	if (rv != 0) {
		fprintf(stderr, "rill_bench: snapshot-writes: %s\n",
		    quiet.first_error[0] ? quiet.first_error
		                         : busy.first_error);
		return -1;
	}
	if (rill_bench_interrupted) {
		return -1;
	}
	ok = check_run(h, "without snapshots", &quiet);
	ok = check_run(h, "during snapshots", &busy) && ok;
	if (s.done == 0) {
		fprintf(stderr,
		    "rill_bench: snapshot-writes: no snapshot completed\n");
		h->had_errors = true;
	}
	{
		double ratio = ok ? busy.ops_per_s / quiet.ops_per_s : 0;
		double mean  = s.done > 0 ? (double) s.total_ms / s.done : 0;

		if (h->json) {
			printf("{\"workload\":\"snapshot-writes\","
			       "\"clients\":%d,\"mode\":\"async\","
			       "\"connections\":%d,\"value_size\":%zu,"
			       "\"key_order\":\"%s\",\"keys\":%llu",
			    cfg->clients, cfg->connections, cfg->value_size,
			    rill_bench_key_order_name(cfg->key_order),
			    (unsigned long long) keys);
			rill_bench_json_num(
			    "ops_per_s", busy.ops > 0, busy.ops_per_s, "%.1f");
			rill_bench_json_num("p50_us", busy.ops > 0,
			    (double) rill_bench_hist_percentile(
			        &busy.hist, 0.5) /
			        1e3,
			    "%.1f");
			rill_bench_json_num("p99_us", busy.ops > 0,
			    (double) rill_bench_hist_percentile(
			        &busy.hist, 0.99) /
			        1e3,
			    "%.1f");
			rill_bench_json_num("p999_us", busy.ops > 0,
			    (double) rill_bench_hist_percentile(
			        &busy.hist, 0.999) /
			        1e3,
			    "%.1f");
			rill_bench_json_num("baseline_ops_per_s",
			    quiet.ops > 0, quiet.ops_per_s, "%.1f");
			rill_bench_json_num("baseline_p99_us", quiet.ops > 0,
			    (double) rill_bench_hist_percentile(
			        &quiet.hist, 0.99) /
			        1e3,
			    "%.1f");
			printf(",\"snapshots\":%llu",
			    (unsigned long long) s.done);
			rill_bench_json_num(
			    "snapshot_mean_ms", s.done > 0, mean, "%.1f");
			rill_bench_json_num(
			    "ratio_no_snapshot", ok, ratio, "%.4f");
			printf("}\n");
		} else {
			printf("\n== snapshot-writes: puts, %d clients, %zu B "
			       "keys, %zu B values, key order %s, sync %s, "
			       "%.1f s measured after %.1f s warm-up\n",
			    cfg->clients, cfg->key_size, cfg->value_size,
			    rill_bench_key_order_name(cfg->key_order), h->sync,
			    cfg->duration_s, cfg->warmup_s);
			printf("   (async: %d calls kept in flight over %d "
			       "connection%s; rilld's store holds %s keys "
			       "before the puts)\n",
			    cfg->clients, cfg->connections,
			    cfg->connections == 1 ? "" : "s",
			    rill_bench_fmt_count(
			        b1, sizeof(b1), (double) keys));
			printf("  %-18s %12s %10s %10s %10s\n", "", "ops/s",
			    "p50 us", "p99 us", "p999 us");
			print_put_row("during snapshots", &busy);
			print_put_row("no snapshot", &quiet);
			printf("  during/none %.3f (target >= 0.7); %llu "
			       "snapshots completed back to back (mean %.0f "
			       "ms each)\n",
			    ratio, (unsigned long long) s.done, mean);
		}
		fflush(stdout);
	}
	return 0;
}

int
rill_bench_history_run(rill_bench_history *h)
{
	hist_run hr;
	int (*const run[RILL_BENCH_N_FIGURES])(hist_run *) = {
		[RILL_BENCH_FIG_SNAPSHOT]        = fig_snapshot,
		[RILL_BENCH_FIG_DOWNLOAD]        = fig_download,
		[RILL_BENCH_FIG_RESTORE]         = fig_restore,
		[RILL_BENCH_FIG_SNAPSHOT_WRITES] = fig_snapshot_writes,
	};

	memset(&hr, 0, sizeof(hr));
	hr.h = h;
	// restore and snapshot run in this process: keep their notices off
	// the output, their warnings and errors on.
	rill_diag_set_level(RILL_DIAG_WARN);
	for (int f = 0; f < RILL_BENCH_N_FIGURES; f++) {
		if (!h->figures[f]) {
			continue;
		}
		if (f != RILL_BENCH_FIG_SNAPSHOT && h->rill_url == NULL) {
			fprintf(stderr,
			    "rill_bench: the %s figure needs the rilld this "
			    "tool starts\n",
			    rill_bench_figure_name(f));
			return -1;
		}
		if (run[f](&hr) != 0 || rill_bench_interrupted) {
			return -1;
		}
	}
	return 0;
}
