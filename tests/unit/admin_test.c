// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// admin_test: the admin API of a node with a real data dir, store, log,
// writer and catalog (no keeper), driven over HTTP by the curl binary.
// Status codes, headers and JSON bodies are checked for every endpoint,
// and so are the refusals: unknown paths, wrong methods, malformed ids and
// path traversal, missing or wrong bearer tokens. A snapshot download is
// compared byte for byte with its file, and /metrics is checked line by
// line against the Prometheus text format.
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <rill/status.h>

#include "admin.h"
#include "catalog.h"
#include "clock.h"
#include "datadir.h"
#include "file.h"
#include "keeper.h"
#include "log.h"
#include "metrics.h"
#include "snapshot.h"
#include "store.h"
#include "test.h"
#include "write_wait.h"
#include "writer.h"

#define TOKEN "s3cret-token"
#define N_WRITES 5

#include "prom_check.h"

// The node under test -------------------------------------------------------

static struct node {
	char          dir[PATH_MAX];
	char          body_path[PATH_MAX + 16];
	char          hdr_path[PATH_MAX + 16];
	char          snap_path[PATH_MAX];
	rill_datadir *dd;
	rill_store   *store;
	rill_log     *log;
	rill_writer  *writer;
	rill_catalog *catalog;
	rill_admin   *admin;
	rill_keeper  *keeper;       // for test_snapshot_through_keeper
	rill_admin   *keeper_admin; // serves with keeper
	rill_metrics  metrics;
	uint64_t      gen, child_gen;
	uint64_t      snap_seq;
	int           port;
} nd;

// put_key commits one put through the writer and returns its code.
static int
put_key(const char *key, const char *value, uint64_t request_id)
{
	Rill__V1__Op    op    = RILL__V1__OP__INIT;
	Rill__V1__Op   *ops[] = { &op };
	Rill__V1__Batch batch = RILL__V1__BATCH__INIT;

	op.type       = RILL__V1__OP__TYPE__PUT;
	op.key.data   = (uint8_t *) key;
	op.key.len    = strlen(key);
	op.value.data = (uint8_t *) value;
	op.value.len  = strlen(value);
	batch.n_ops   = 1;
	batch.ops     = ops;
	return rill_test_write_wait(nd.writer,
	    &(rill_write) {
	        .client_id = 42, .request_id = request_id, .batch = &batch },
	    NULL, NULL);
}

// write_snapshot_file writes a small snapshot of generation gen at seq
// with rill_snapshot_writer_* into the generation's snapshots/ and lists
// it in the catalog.
static int
write_snapshot_file(uint64_t gen, uint64_t seq)
{
	rill_snapshot_writer *sw;
	rill_snapshot_info    info;
	char                  gdir[PATH_MAX], sdir[PATH_MAX + 16], name[32];
	int                   rv;

	if ((rv = rill_datadir_generation_path(
	         nd.dd, gen, gdir, sizeof(gdir))) != RILL_OK) {
		return rv;
	}
	snprintf(sdir, sizeof(sdir), "%s/snapshots", gdir);
	if ((rv = rill_mkdirs(sdir)) != RILL_OK) {
		return rv;
	}
	rill_snapshot_name(name, sizeof(name), seq);
	if ((size_t) snprintf(nd.snap_path, sizeof(nd.snap_path), "%s/%s",
	        sdir, name) >= sizeof(nd.snap_path)) {
		return RILL_EIO;
	}
	if ((rv = rill_snapshot_writer_open(
	         &sw, nd.snap_path, gen, seq, rill_wall_us())) != RILL_OK) {
		return rv;
	}
	for (int i = 0; i < 1000; i++) {
		char key[32], value[64];
		snprintf(key, sizeof(key), "key%06d", i);
		snprintf(value, sizeof(value), "value of %s", key);
		if ((rv = rill_snapshot_writer_add(sw, key, strlen(key), value,
		         strlen(value))) != RILL_OK) {
			rill_snapshot_writer_abort(sw);
			return rv;
		}
	}
	if ((rv = rill_snapshot_writer_finish(sw, &info)) != RILL_OK) {
		return rv;
	}
	rill_cat_snapshot s = {
		.generation  = gen,
		.seq         = seq,
		.key_count   = info.key_count,
		.size        = info.file_size,
		.raw_bytes   = info.raw_bytes,
		.created_us  = info.created_us,
		.state_hash  = info.state_hash,
		.duration_ms = 12,
	};
	return rill_catalog_put_snapshot(nd.catalog, &s);
}

static int
open_admin(rill_admin **ap, const char *listen, const char *const *tokens,
    size_t n_tokens)
{
	rill_admin_options o = {
		.listen     = listen,
		.tokens     = tokens,
		.n_tokens   = n_tokens,
		.threads    = 4,
		.dd         = nd.dd,
		.store      = nd.store,
		.log        = nd.log,
		.writer     = nd.writer,
		.catalog    = nd.catalog,
		.keeper     = nd.keeper,
		.metrics    = &nd.metrics,
		.role       = "leader",
		.generation = nd.gen,
		.started_ms = rill_mono_ms(),
	};
	return rill_admin_open(ap, &o);
}

static const char *const tokens[] = { "another-token", TOKEN };

static void
test_setup(void)
{
	char     path[PATH_MAX];
	bool     fresh;
	uint64_t now = rill_wall_us();

	snprintf(nd.dir, sizeof(nd.dir), "/tmp/rill-admin-test-XXXXXX");
	CHECK(mkdtemp(nd.dir) != NULL);
	snprintf(nd.body_path, sizeof(nd.body_path), "%s/http-body", nd.dir);
	snprintf(nd.hdr_path, sizeof(nd.hdr_path), "%s/http-headers", nd.dir);
	snprintf(path, sizeof(path), "%s/data", nd.dir);
	CHECK_EQ_INT(rill_datadir_open(&nd.dd, path), RILL_OK);
	CHECK_EQ_INT(
	    rill_datadir_store_path(nd.dd, path, sizeof(path)), RILL_OK);
	CHECK_EQ_INT(rill_store_open(&nd.store, path, NULL), RILL_OK);
	CHECK_EQ_INT(
	    rill_datadir_new_generation(nd.dd, 0, 0, &nd.gen), RILL_OK);
	CHECK_EQ_INT(
	    rill_datadir_log_path(nd.dd, nd.gen, path, sizeof(path)), RILL_OK);
	CHECK_EQ_INT(rill_log_open(&nd.log, path, nd.gen, 0,
	                 rill_store_applied_seq(nd.store), NULL),
	    RILL_OK);
	rill_writer_options wo = {
		.generation       = nd.gen,
		.sync             = RILL_SYNC_ALWAYS,
		.dedup_per_client = 16,
		.dedup_idle_ms    = 60000,
	};
	CHECK_EQ_INT(
	    rill_writer_open(&nd.writer, nd.log, nd.store, &wo), RILL_OK);
	for (int i = 1; i <= N_WRITES; i++) {
		char key[16], value[16];
		snprintf(key, sizeof(key), "k%d", i);
		snprintf(value, sizeof(value), "v%d", i);
		CHECK_EQ_INT(put_key(key, value, (uint64_t) i), RILL_OK);
	}
	CHECK_EQ_INT(rill_log_last_seq(nd.log), N_WRITES);

	snprintf(path, sizeof(path), "%s/catalog.db", nd.dir);
	CHECK_EQ_INT(rill_catalog_open(&nd.catalog, path, &fresh), RILL_OK);
	rill_cat_generation g = { .id = nd.gen, .created_us = now - 1000 };
	CHECK_EQ_INT(rill_catalog_put_generation(nd.catalog, &g), RILL_OK);
	// A child generation, to see a parent in the listing. Only the
	// catalog lists it: the admin API reads the catalog, not the files.
	nd.child_gen              = nd.gen ^ 0x5a5a5a5a5a5a5a5au;
	rill_cat_generation child = {
		.id         = nd.child_gen,
		.parent     = nd.gen,
		.parent_seq = 3,
		.created_us = now,
	};
	CHECK_EQ_INT(rill_catalog_put_generation(nd.catalog, &child), RILL_OK);
	nd.snap_seq = 3;
	CHECK_EQ_INT(write_snapshot_file(nd.gen, nd.snap_seq), RILL_OK);
	// A row whose file is gone (as after a crash mid-retention).
	rill_cat_snapshot gone = { .generation = nd.gen, .seq = 4, .size = 9 };
	CHECK_EQ_INT(rill_catalog_put_snapshot(nd.catalog, &gone), RILL_OK);
	rill_cat_segment seg = {
		.generation    = nd.gen,
		.first_seq     = 1,
		.last_seq      = N_WRITES,
		.first_time_us = now - 500,
		.last_time_us  = now - 100,
		.size          = 1234,
		.checksum      = 0xdeadbeef,
	};
	CHECK_EQ_INT(rill_catalog_put_segment(nd.catalog, &seg), RILL_OK);
	CHECK_EQ_INT(rill_catalog_event(
	                 nd.catalog, "snapshot", "test snapshot at seq %d", 3),
	    RILL_OK);

	rill_histogram_observe(&nd.metrics.write_latency, 700);
	atomic_fetch_add(&nd.metrics.writes, N_WRITES);
	rill_metrics_error(&nd.metrics, RILL_ERROR_IO);

	CHECK_EQ_INT(open_admin(&nd.admin, "127.0.0.1:0", tokens, 2), RILL_OK);
	nd.port = rill_admin_port(nd.admin);
	CHECK(nd.port > 0 && nd.port < 65536);
}

static void
teardown(void)
{
	char cmd[PATH_MAX + 16];

	rill_admin_close(nd.keeper_admin);
	rill_keeper_close(nd.keeper);
	rill_admin_close(nd.admin);
	rill_writer_close(nd.writer);
	rill_catalog_close(nd.catalog);
	rill_log_close(nd.log);
	rill_store_close(nd.store);
	rill_datadir_close(nd.dd);
	if (nd.dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", nd.dir);
		if (system(cmd) != 0) {
			fprintf(stderr, "could not remove %s\n", nd.dir);
		}
	}
}

// HTTP through curl ---------------------------------------------------------

typedef struct response {
	int    status;
	char  *body;
	size_t len;
	char  *headers;
	cJSON *json; // the body parsed, when it is JSON
} response;

static char *
read_file(const char *path, size_t *lenp)
{
	FILE  *f = fopen(path, "rb");
	char  *buf;
	long   size;
	size_t got;

	if (f == NULL) {
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t) size + 1);
	got = fread(buf, 1, (size_t) size, f);
	fclose(f);
	buf[got] = '\0';
	if (lenp != NULL) {
		*lenp = got;
	}
	return buf;
}

static void
response_free(response *r)
{
	free(r->body);
	free(r->headers);
	cJSON_Delete(r->json);
	memset(r, 0, sizeof(*r));
}

// http runs curl for method (NULL: curl's choice) on path, sent as is,
// with extra arguments; r gets the status (0 when curl failed), headers
// and body.
static void
http_port(response *r, int port, const char *method, const char *path,
    const char *extra)
{
	char  cmd[4096], out[32] = "";
	FILE *f;

	memset(r, 0, sizeof(*r));
	unlink(nd.body_path);
	unlink(nd.hdr_path);
	snprintf(cmd, sizeof(cmd),
	    "curl -s --noproxy '*' --path-as-is --max-time 30 %s%s -o '%s' "
	    "-D '%s' -w '%%{http_code}' %s 'http://127.0.0.1:%d%s'",
	    method != NULL ? "-X " : "", method != NULL ? method : "",
	    nd.body_path, nd.hdr_path, extra != NULL ? extra : "", port, path);
	if ((f = popen(cmd, "r")) == NULL) {
		return;
	}
	if (fgets(out, sizeof(out), f) == NULL) {
		out[0] = '\0';
	}
	pclose(f);
	r->status  = atoi(out);
	r->body    = read_file(nd.body_path, &r->len);
	r->headers = read_file(nd.hdr_path, NULL);
	if (r->body != NULL && r->len > 0) {
		r->json = cJSON_ParseWithLength(r->body, r->len);
	}
}

static void
http(response *r, const char *method, const char *path, const char *extra)
{
	http_port(r, nd.port, method, path, extra);
}

// header_is tells whether the response has header name with value.
static bool
header_is(const response *r, const char *name, const char *value)
{
	const char *s  = r->headers;
	size_t      nn = strlen(name), vn = strlen(value);

	while (s != NULL && *s != '\0') {
		if (strncasecmp(s, name, nn) == 0 && s[nn] == ':') {
			const char *v = s + nn + 1;
			while (*v == ' ') {
				v++;
			}
			if (strncmp(v, value, vn) == 0 &&
			    (v[vn] == '\r' || v[vn] == '\n')) {
				return true;
			}
		}
		s = strchr(s, '\n');
		if (s != NULL) {
			s++;
		}
	}
	return false;
}

// header_count counts the response's headers named name.
static int
header_count(const response *r, const char *name)
{
	const char *s     = r->headers;
	size_t      nn    = strlen(name);
	int         count = 0;

	while (s != NULL && *s != '\0') {
		if (strncasecmp(s, name, nn) == 0 && s[nn] == ':') {
			count++;
		}
		s = strchr(s, '\n');
		if (s != NULL) {
			s++;
		}
	}
	return count;
}

// headers_only tells whether a HEAD response came without a body: curl -I
// writes the headers where the body would go.
static bool
headers_only(const response *r)
{
	return r->body != NULL && r->headers != NULL &&
	    strcmp(r->body, r->headers) == 0;
}

static const char *
json_str(const response *r, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->json, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

// json_u64 reads an integer field; -1 when missing or not a number.
static double
json_num(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static bool
is_hex(const char *s, size_t len)
{
	if (s == NULL || strlen(s) != len) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') ||
		        (s[i] >= 'a' && s[i] <= 'f'))) {
			return false;
		}
	}
	return true;
}

// is_error tells whether r is the JSON error status/code with a message.
static bool
is_error(const response *r, int status, const char *code)
{
	const char *e = json_str(r, "error"), *m = json_str(r, "message");

	if (r->status != status || e == NULL || strcmp(e, code) != 0 ||
	    m == NULL || m[0] == '\0' ||
	    !header_is(r, "Content-Type", "application/json")) {
		fprintf(stderr, "expected %d %s, got %d: %.*s\n", status, code,
		    r->status, (int) r->len, r->body != NULL ? r->body : "");
		return false;
	}
	return true;
}

static void
gen_hex(char *buf, uint64_t gen)
{
	snprintf(buf, 17, "%016" PRIx64, gen);
}

// Tests ------------------------------------------------------------------

static void
test_health(void)
{
	response r;

	http(&r, NULL, "/health", NULL);
	CHECK_EQ_INT(r.status, 200);
	CHECK(header_is(&r, "Content-Type", "application/json"));
	CHECK_EQ_STR(json_str(&r, "status"), "ok");
	// Our Date header replaces CivetWeb's, never adds to it.
	CHECK_EQ_INT(header_count(&r, "Date"), 1);
	CHECK_EQ_INT(header_count(&r, "Content-Length"), 1);
	response_free(&r);
	// HEAD answers the headers alone.
	http(&r, NULL, "/health", "-I");
	CHECK_EQ_INT(r.status, 200);
	CHECK(header_is(&r, "Content-Length", "16"));
	CHECK(headers_only(&r));
	response_free(&r);
}

// test_idle_connections_leave_probes_an_answer: CivetWeb gives each
// connection a worker; with the default number of workers, a dozen idle
// connections (clients that connect and send nothing) still leave /health
// an answer.
static void
test_idle_connections_leave_probes_an_answer(void)
{
	rill_admin_options o  = { .listen = "127.0.0.1:0",
		 .dd                      = nd.dd,
		 .catalog                 = nd.catalog,
		 .metrics                 = &nd.metrics,
		 .role                    = "leader",
		 .started_ms              = rill_mono_ms() };
	struct sockaddr_in sa = { .sin_family = AF_INET,
		.sin_addr.s_addr              = htonl(INADDR_LOOPBACK) };
	rill_admin        *a;
	response           r;
	int                fds[12], n = 0;

	CHECK_EQ_INT(rill_admin_open(&a, &o), RILL_OK);
	sa.sin_port = htons((uint16_t) rill_admin_port(a));
	for (; n < 12; n++) {
		if ((fds[n] = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
		    connect(fds[n], (struct sockaddr *) &sa, sizeof(sa)) !=
		        0) {
			break;
		}
	}
	http_port(&r, rill_admin_port(a), NULL, "/health", "-m 5");
	for (int i = 0; i < n; i++) {
		close(fds[i]);
	}
	rill_admin_close(a);
	int status = r.status;
	response_free(&r);
	CHECK_EQ_INT(n, 12);
	CHECK_EQ_INT(status, 200);
}

static void
test_ready_follows_set_ready(void)
{
	response r;

	http(&r, NULL, "/ready", NULL);
	CHECK_EQ_INT(r.status, 503);
	CHECK(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "ready")));
	CHECK_EQ_STR(json_str(&r, "reason"), "starting");
	response_free(&r);

	rill_admin_set_ready(nd.admin, true, NULL);
	http(&r, NULL, "/ready", NULL);
	CHECK_EQ_INT(r.status, 200);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "ready")));
	response_free(&r);

	rill_admin_set_ready(nd.admin, false, "catching up");
	http(&r, NULL, "/ready", NULL);
	CHECK_EQ_INT(r.status, 503);
	CHECK_EQ_STR(json_str(&r, "reason"), "catching up");
	response_free(&r);
	rill_admin_set_ready(nd.admin, true, NULL);
}

static void
test_status_fields(void)
{
	response r;
	char     hex[17];

	http(&r, "GET", "/v1/status", NULL);
	CHECK_EQ_INT(r.status, 200);
	CHECK(r.json != NULL);
	gen_hex(hex, nd.gen);
	CHECK_EQ_STR(json_str(&r, "node_id"), rill_datadir_node_id(nd.dd));
	CHECK_EQ_STR(json_str(&r, "role"), "leader");
	CHECK_EQ_STR(json_str(&r, "generation"), hex);
	CHECK_EQ_STR(json_str(&r, "version"), RILL_VERSION);
	CHECK(json_num(r.json, "last_seq") == N_WRITES);
	CHECK(json_num(r.json, "last_seq") == rill_log_last_seq(nd.log));
	CHECK(json_num(r.json, "applied_seq") == N_WRITES);
	CHECK(json_num(r.json, "oldest_seq") == rill_log_oldest_seq(nd.log));
	CHECK(json_num(r.json, "uptime_s") >= 0);
	CHECK(json_num(r.json, "log_bytes") == rill_log_size(nd.log));
	CHECK(json_num(r.json, "log_bytes") > 0);
	CHECK(json_num(r.json, "log_segments") ==
	    rill_log_segment_count(nd.log));
	CHECK(json_num(r.json, "snapshots") == 0); // no keeper
	CHECK(json_num(r.json, "snapshot_bytes") == 0);
	CHECK(json_num(r.json, "store_memory_bytes") >= 0);
	CHECK(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "writer_failed")));
	response_free(&r);
}

static void
test_hash_matches_store(void)
{
	response r;
	uint64_t seq, hash, keys;
	char     hex[17];

	CHECK_EQ_INT(
	    rill_state_hash_store(nd.store, &seq, &hash, &keys), RILL_OK);
	http(&r, NULL, "/v1/hash", NULL);
	CHECK_EQ_INT(r.status, 200);
	CHECK(json_num(r.json, "seq") == seq);
	CHECK(json_num(r.json, "keys") == keys);
	CHECK_EQ_INT(keys, N_WRITES);
	gen_hex(hex, hash);
	CHECK_EQ_STR(json_str(&r, "hash"), hex);
	gen_hex(hex, nd.gen);
	CHECK_EQ_STR(json_str(&r, "generation"), hex);
	response_free(&r);
}

static void
test_unknown_is_404(void)
{
	// "/" is the admin page (admin-ui/), tested by integration.browser.
	static const char *const paths[] = {
		"/nope", "/v1", "/v1/", "/v1/status/", "/v1/statusx",
		"/metrics/x", "/v2/status", "/index.htm", "/app.js/",
		"/v1/../v1/status", // not normalised into /v1/status
	};
	response r;
	char     path[128], hex[17];

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		http(&r, NULL, paths[i], NULL);
		CHECK(is_error(&r, 404, "not_found"));
		response_free(&r);
	}
	// Well-formed ids of things the catalog does not list.
	gen_hex(hex, nd.gen);
	snprintf(path, sizeof(path), "/v1/snapshots/%s/999", hex);
	http(&r, NULL, path, NULL);
	CHECK(is_error(&r, 404, "not_found"));
	response_free(&r);
	http(&r, NULL, "/v1/snapshots/0123456789abcdef/3", NULL);
	CHECK(is_error(&r, 404, "not_found"));
	response_free(&r);
	http(&r, NULL, "/v1/generations/0123456789abcdef", NULL);
	CHECK(is_error(&r, 404, "not_found"));
	response_free(&r);
	// Listed, but the file is gone.
	snprintf(path, sizeof(path), "/v1/snapshots/%s/4", hex);
	http(&r, NULL, path, NULL);
	CHECK(is_error(&r, 404, "not_found"));
	response_free(&r);
}

static void
test_wrong_method_is_405(void)
{
	static const struct {
		const char *method, *path, *allow;
	} cases[] = {
		{ "DELETE", "/v1/status", "GET, HEAD" },
		{ "POST", "/v1/status", "GET, HEAD" },
		{ "POST", "/health", "GET, HEAD" },
		{ "PUT", "/v1/snapshots", "GET, HEAD, POST" },
		{ "DELETE", "/v1/snapshots", "GET, HEAD, POST" },
		{ "POST", "/metrics", "GET, HEAD" },
		{ "PATCH", "/v1/generations", "GET, HEAD" },
	};
	response r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		http(&r, cases[i].method, cases[i].path, NULL);
		CHECK(is_error(&r, 405, "method_not_allowed"));
		CHECK(header_is(&r, "Allow", cases[i].allow));
		response_free(&r);
	}
	// A method CivetWeb itself refuses, and a header too large for it:
	// JSON all the same.
	http(&r, "FOO", "/health", NULL);
	CHECK(is_error(&r, 400, "bad_request"));
	response_free(&r);
	http(&r, "GET", "/health",
	    "-H \"X-Big: $(head -c 20000 /dev/zero | tr '\\0' a)\"");
	CHECK(is_error(&r, 400, "bad_request"));
	response_free(&r);
}

static void
test_bad_ids_and_traversal_are_400(void)
{
	static const char *const paths[] = {
		"/v1/snapshots/../../etc/passwd",
		"/v1/snapshots/../../../../../../etc/passwd",
		"/v1/snapshots/%2e%2e/%2e%2e/etc/passwd",
		"/v1/snapshots/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
		"/v1/snapshots/..%2f..%2f..%2fcatalog.db",
		"/v1/snapshots/0123456789ABCDEF/3",  // upper case
		"/v1/snapshots/0123456789abcde/3",   // 15 digits
		"/v1/snapshots/0123456789abcdef0/3", // 17 digits
		"/v1/snapshots/0x23456789abcdef/3",
		"/v1/snapshots/GEN/-1",
		"/v1/snapshots/GEN/+1",
		"/v1/snapshots/GEN/01",
		"/v1/snapshots/GEN/1.0",
		"/v1/snapshots/GEN/",
		"/v1/snapshots/GEN",
		"/v1/snapshots/GEN/3/",
		"/v1/snapshots/GEN/3/extra",
		"/v1/snapshots/GEN/0000000000000003.snap",
		"/v1/snapshots/GEN/18446744073709551616", // 2^64
		"/v1/snapshots/GEN/99999999999999999999999",
		"/v1/snapshots/GEN/..",
		"/v1/snapshots/GEN/../../../catalog.db",
		"/v1/snapshots/GEN/3%2f..",
		"/v1/snapshots/",
		"/v1/snapshots//3",
		"/v1/generations/xyz",
		"/v1/generations/GEN/",
		"/v1/generations/GEN/..",
		"/v1/generations/../../etc/passwd",
		"/v1/generations/",
		"/v1/events?limit=abc",
		"/v1/events?limit=0",
		"/v1/events?limit=-1",
		"/v1/events?limit=10001",
	};
	response r;
	char     hex[17];

	gen_hex(hex, nd.gen);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		char        path[256];
		const char *g = strstr(paths[i], "GEN");

		if (g != NULL) {
			snprintf(path, sizeof(path), "%.*s%s%s",
			    (int) (g - paths[i]), paths[i], hex, g + 3);
		} else {
			snprintf(path, sizeof(path), "%s", paths[i]);
		}
		http(&r, NULL, path, NULL);
		if (!is_error(&r, 400, "invalid_argument")) {
			fprintf(stderr, "  for %s\n", path);
			response_free(&r);
			CHECK(!"400");
		}
		response_free(&r);
	}
}

static void
test_snapshot_post_needs_token(void)
{
	response r;
	char     arg[128];

	// No token, a wrong one, another scheme: 401 before anything else
	// (here, before the 503 of a node with no keeper).
	http(&r, "POST", "/v1/snapshots", NULL);
	CHECK(is_error(&r, 401, "unauthenticated"));
	CHECK(header_is(&r, "WWW-Authenticate", "Bearer realm=\"rill\""));
	response_free(&r);
	http(&r, "POST", "/v1/snapshots?wait=maybe", NULL);
	CHECK(is_error(&r, 401, "unauthenticated"));
	response_free(&r);
	http(&r, "POST", "/v1/snapshots",
	    "-H 'Authorization: Bearer s3cret-tokeN'");
	CHECK(is_error(&r, 401, "unauthenticated"));
	CHECK(strstr(r.headers, "WWW-Authenticate: Bearer") != NULL);
	response_free(&r);
	http(&r, "POST", "/v1/snapshots",
	    "-H 'Authorization: Bearer s3cret-token-and-more'");
	CHECK(is_error(&r, 401, "unauthenticated"));
	response_free(&r);
	http(&r, "POST", "/v1/snapshots", "-H 'Authorization: Bearer '");
	CHECK(is_error(&r, 401, "unauthenticated"));
	response_free(&r);
	http(&r, "POST", "/v1/snapshots",
	    "-H 'Authorization: Basic czNjcmV0LXRva2Vu'");
	CHECK(is_error(&r, 401, "unauthenticated"));
	response_free(&r);
	// Either configured token passes; with no keeper the node takes no
	// snapshots.
	snprintf(arg, sizeof(arg), "-H 'Authorization: Bearer %s'", TOKEN);
	http(&r, "POST", "/v1/snapshots", arg);
	CHECK(is_error(&r, 503, "unavailable"));
	response_free(&r);
	http(&r, "POST", "/v1/snapshots",
	    "-H 'Authorization: bearer another-token'");
	CHECK(is_error(&r, 503, "unavailable"));
	response_free(&r);
	http(&r, "POST", "/v1/snapshots?wait=false", arg);
	CHECK(is_error(&r, 503, "unavailable"));
	response_free(&r);
	http(&r, "POST", "/v1/snapshots?wait=maybe", arg);
	CHECK(is_error(&r, 400, "invalid_argument"));
	response_free(&r);
	// Reads stay open.
	http(&r, NULL, "/v1/snapshots", NULL);
	CHECK_EQ_INT(r.status, 200);
	response_free(&r);
}

static void
test_snapshot_list_and_download(void)
{
	response     r;
	char         hex[17], url[128], cmd[3 * PATH_MAX];
	const cJSON *arr, *s = NULL, *it;
	struct stat  st;

	gen_hex(hex, nd.gen);
	http(&r, NULL, "/v1/snapshots", NULL);
	CHECK_EQ_INT(r.status, 200);
	arr = cJSON_GetObjectItem(r.json, "snapshots");
	CHECK(cJSON_IsArray(arr));
	CHECK_EQ_INT(cJSON_GetArraySize(arr), 2);
	cJSON_ArrayForEach(it, arr)
	{
		if (json_num(it, "seq") == (double) nd.snap_seq) {
			s = it;
		}
	}
	CHECK(s != NULL);
	CHECK(stat(nd.snap_path, &st) == 0);
	CHECK_EQ_STR(cJSON_GetObjectItem(s, "generation")->valuestring, hex);
	CHECK(json_num(s, "keys") == 1000);
	CHECK(json_num(s, "size") == (double) st.st_size);
	CHECK(json_num(s, "raw_bytes") > 0);
	CHECK(json_num(s, "created_us") > 1.6e15);
	CHECK(json_num(s, "duration_ms") == 12);
	const char *created = cJSON_GetObjectItem(s, "created")->valuestring;
	CHECK(created != NULL && strlen(created) == 20 && created[4] == '-' &&
	    created[10] == 'T' && created[19] == 'Z');
	CHECK(is_hex(cJSON_GetObjectItem(s, "hash")->valuestring, 16));
	snprintf(
	    url, sizeof(url), "/v1/snapshots/%s/%" PRIu64, hex, nd.snap_seq);
	CHECK_EQ_STR(cJSON_GetObjectItem(s, "url")->valuestring, url);
	response_free(&r);

	http(&r, NULL, url, NULL);
	CHECK_EQ_INT(r.status, 200);
	CHECK(header_is(&r, "Content-Type", "application/octet-stream"));
	CHECK_EQ_INT(r.len, st.st_size);
	response_free(&r);
	snprintf(
	    cmd, sizeof(cmd), "cmp -s '%s' '%s'", nd.snap_path, nd.body_path);
	CHECK_EQ_INT(system(cmd), 0);

	// HEAD gives the length and no body.
	char clen[32];
	snprintf(clen, sizeof(clen), "%lld", (long long) st.st_size);
	http(&r, NULL, url, "-I");
	CHECK_EQ_INT(r.status, 200);
	CHECK(header_is(&r, "Content-Length", clen));
	CHECK(headers_only(&r));
	response_free(&r);
	// Downloads take no POST.
	http(&r, "POST", url, NULL);
	CHECK(is_error(&r, 405, "method_not_allowed"));
	CHECK(header_is(&r, "Allow", "GET, HEAD"));
	response_free(&r);
}

static void
test_generations(void)
{
	response     r;
	char         hex[17], child[17], path[64];
	const cJSON *arr, *it, *g = NULL, *c = NULL;

	gen_hex(hex, nd.gen);
	gen_hex(child, nd.child_gen);
	http(&r, NULL, "/v1/generations", NULL);
	CHECK_EQ_INT(r.status, 200);
	CHECK_EQ_STR(json_str(&r, "current"), hex);
	arr = cJSON_GetObjectItem(r.json, "generations");
	CHECK(cJSON_IsArray(arr));
	CHECK_EQ_INT(cJSON_GetArraySize(arr), 2);
	cJSON_ArrayForEach(it, arr)
	{
		const char *id = cJSON_GetObjectItem(it, "id")->valuestring;
		if (strcmp(id, hex) == 0) {
			g = it;
		} else if (strcmp(id, child) == 0) {
			c = it;
		}
	}
	CHECK(g != NULL && c != NULL);
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(g, "parent")));
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(g, "current")));
	CHECK(json_num(g, "parent_seq") == 0);
	CHECK(json_num(g, "created_us") > 1.6e15);
	CHECK_EQ_STR(cJSON_GetObjectItem(c, "parent")->valuestring, hex);
	CHECK(json_num(c, "parent_seq") == 3);
	CHECK(cJSON_IsFalse(cJSON_GetObjectItem(c, "current")));
	response_free(&r);

	snprintf(path, sizeof(path), "/v1/generations/%s", hex);
	http(&r, NULL, path, NULL);
	CHECK_EQ_INT(r.status, 200);
	CHECK_EQ_STR(json_str(&r, "id"), hex);
	arr = cJSON_GetObjectItem(r.json, "snapshots");
	CHECK(cJSON_IsArray(arr) && cJSON_GetArraySize(arr) == 2);
	arr = cJSON_GetObjectItem(r.json, "segments");
	CHECK(cJSON_IsArray(arr) && cJSON_GetArraySize(arr) == 1);
	it = cJSON_GetArrayItem(arr, 0);
	CHECK(json_num(it, "first_seq") == 1);
	CHECK(json_num(it, "last_seq") == N_WRITES);
	CHECK(json_num(it, "size") == 1234);
	CHECK(json_num(it, "first_time_us") > 1.6e15);
	CHECK(json_num(it, "last_time_us") > json_num(it, "first_time_us"));
	CHECK_EQ_STR(
	    cJSON_GetObjectItem(it, "checksum")->valuestring, "deadbeef");
	response_free(&r);

	snprintf(path, sizeof(path), "/v1/generations/%s", child);
	http(&r, NULL, path, NULL);
	CHECK_EQ_INT(r.status, 200);
	CHECK_EQ_INT(
	    cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "snapshots")), 0);
	response_free(&r);
}

static void
test_events(void)
{
	response     r;
	const cJSON *arr, *it;
	bool         found = false;

	http(&r, NULL, "/v1/events?limit=5", NULL);
	CHECK_EQ_INT(r.status, 200);
	arr = cJSON_GetObjectItem(r.json, "events");
	CHECK(cJSON_IsArray(arr));
	CHECK(cJSON_GetArraySize(arr) >= 1 && cJSON_GetArraySize(arr) <= 5);
	cJSON_ArrayForEach(it, arr)
	{
		const cJSON *d = cJSON_GetObjectItem(it, "detail");
		if (cJSON_IsString(d) &&
		    strcmp(d->valuestring, "test snapshot at seq 3") == 0) {
			found = true;
			CHECK_EQ_STR(
			    cJSON_GetObjectItem(it, "kind")->valuestring,
			    "snapshot");
			CHECK(json_num(it, "time_us") > 1.6e15);
		}
	}
	CHECK(found);
	response_free(&r);
	http(&r, NULL, "/v1/events", NULL);
	CHECK_EQ_INT(r.status, 200);
	response_free(&r);
}

static void
test_metrics_text(void)
{
	response   r;
	prom_check pc;
	char       line[64];

	http(&r, NULL, "/metrics", NULL);
	CHECK_EQ_INT(r.status, 200);
	CHECK(header_is(
	    &r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8"));
	if (!prom_check_text(&pc, r.body, r.len)) {
		fprintf(stderr, "%s\n%s", pc.why, r.body);
		response_free(&r);
		CHECK(!"valid exposition text");
	}
	snprintf(line, sizeof(line), "rill_last_seq ");
	CHECK(prom_find_sample(r.body, line) == N_WRITES);
	CHECK(prom_find_sample(r.body, "rill_applied_seq ") == N_WRITES);
	CHECK(prom_find_sample(r.body, "rill_oldest_seq ") ==
	    rill_log_oldest_seq(nd.log));
	CHECK(prom_find_sample(r.body, "rill_log_bytes ") ==
	    rill_log_size(nd.log));
	CHECK(prom_find_sample(r.body, "rill_log_segments ") >= 1);
	CHECK(prom_find_sample(r.body, "rill_snapshot_files ") == 0);
	CHECK(prom_find_sample(r.body, "rill_snapshot_bytes ") == 0);
	CHECK(prom_find_sample(r.body, "rill_backup_lag_seqs ") == 0);
	CHECK(prom_find_sample(r.body, "rill_uptime_seconds ") >= 0);
	CHECK(prom_find_sample(r.body, "rill_store_memory_bytes ") >= 0);
	CHECK(prom_find_sample(r.body, "rill_writer_failed ") == 0);
	CHECK(prom_find_sample(r.body, "rill_writes_total ") == N_WRITES);
	CHECK(
	    prom_find_sample(r.body, "rill_errors_total{kind=\"io\"} ") == 1);
	CHECK(prom_find_sample(r.body, "rill_write_latency_seconds_count ") ==
	    1);
	CHECK(prom_find_sample(r.body,
	          "rill_write_latency_seconds_bucket{le=\"0.001\"} ") == 1);
	response_free(&r);
}

static void
test_keep_alive_and_parallel_clients(void)
{
	char  cmd[8192], out[256] = "";
	FILE *f;
	int   ok = 0;
	char *s;

	// Two requests on one curl: the second reuses the connection, which
	// only works when every response states its length.
	snprintf(cmd, sizeof(cmd),
	    "curl -s --noproxy '*' -o /dev/null -o /dev/null -w "
	    "'%%{http_code}:%%{num_connects} ' "
	    "'http://127.0.0.1:%d/v1/status' 'http://127.0.0.1:%d/metrics'",
	    nd.port, nd.port);
	CHECK((f = popen(cmd, "r")) != NULL);
	if (fgets(out, sizeof(out), f) == NULL) {
		out[0] = '\0';
	}
	pclose(f);
	CHECK_EQ_STR(out, "200:1 200:0 ");

	// Sixteen at once, eight in parallel, over four workers.
	int len = snprintf(cmd, sizeof(cmd),
	    "curl -s --noproxy '*' -Z --parallel-max 8 -w '%%{http_code}\\n' "
	    "2>/dev/null");
	for (int i = 0; i < 16; i++) {
		len += snprintf(cmd + len, sizeof(cmd) - (size_t) len,
		    " -o /dev/null 'http://127.0.0.1:%d%s'", nd.port,
		    i % 4 == 0       ? "/metrics"
		        : i % 4 == 1 ? "/v1/status"
		        : i % 4 == 2 ? "/v1/hash"
		                     : "/v1/generations");
	}
	CHECK((f = popen(cmd, "r")) != NULL);
	while (fgets(out, sizeof(out), f) != NULL) {
		if ((s = strchr(out, '\n')) != NULL) {
			*s = '\0';
		}
		ok += strcmp(out, "200") == 0;
	}
	pclose(f);
	CHECK_EQ_INT(ok, 16);
}

static void
test_open_errors(void)
{
	static const char *const bad[] = {
		"nonsense",
		"127.0.0.1:",
		":7401",
		"127.0.0.1:99999",
		"127.0.0.1:-1",
		"127.0.0.1:80s",
		"127.0.0.1:7401,127.0.0.1:7402",
		"no-such-host.invalid:0",
		"192.0.2.1:0", // not an address of this machine
		"1.2.3.4.5:0",
	};
	const char *const empty[] = { "" };
	rill_admin       *a       = NULL;
	char              listen[64];

	// The port is taken by the admin under test.
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", nd.port);
	CHECK_EQ_INT(open_admin(&a, listen, NULL, 0), RILL_ELOCKED);
	CHECK(a == NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rv = open_admin(&a, bad[i], NULL, 0);
		if (rv != RILL_INVALID_ARGUMENT) {
			fprintf(stderr, "%s: %d\n", bad[i], rv);
		}
		CHECK_EQ_INT(rv, RILL_INVALID_ARGUMENT);
		CHECK(a == NULL);
	}
	CHECK_EQ_INT(
	    open_admin(&a, "127.0.0.1:0", empty, 1), RILL_INVALID_ARGUMENT);
	CHECK(a == NULL);
	rill_admin_close(NULL);
}

// with_stderr_captured runs open and close of an admin on listen with
// n_tokens tokens, and tells whether ADMIN-OPEN was logged.
static bool
open_warns(const char *listen, size_t n_tokens, bool *warnedp)
{
	char        path[PATH_MAX + 16];
	rill_admin *a = NULL;
	int         saved, fd, rv;
	char       *text;

	snprintf(path, sizeof(path), "%s/stderr", nd.dir);
	fflush(stderr);
	saved = dup(2);
	fd    = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (saved < 0 || fd < 0) {
		return false;
	}
	dup2(fd, 2);
	close(fd);
	rv = open_admin(&a, listen, tokens, n_tokens);
	rill_admin_close(a);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	text     = read_file(path, NULL);
	*warnedp = text != NULL && strstr(text, "ADMIN-OPEN") != NULL;
	free(text);
	return rv == RILL_OK;
}

static void
test_open_beyond_loopback_warns(void)
{
	bool warned;

	CHECK(open_warns("0.0.0.0:0", 0, &warned));
	CHECK(warned);
	CHECK(open_warns("0.0.0.0:0", 1, &warned));
	CHECK(!warned);
	CHECK(open_warns("127.0.0.1:0", 0, &warned));
	CHECK(!warned);
	CHECK(open_warns("localhost:0", 0, &warned));
	CHECK(!warned);
}

// test_snapshot_through_keeper serves a node with a keeper (the other
// tests have none): POST /v1/snapshots takes a snapshot of the store,
// which then downloads whole. It runs last: the keeper reconciles the
// catalog with the files.
static void
test_snapshot_through_keeper(void)
{
	rill_keeper_options ko = {
		.dd               = nd.dd,
		.store            = nd.store,
		.log              = nd.log,
		.catalog          = nd.catalog,
		.metrics          = &nd.metrics,
		.generation       = nd.gen,
		.retain_snapshots = 10,
	};
	response    r;
	char        hex[17], auth[128], gdir[PATH_MAX], name[32];
	char        path[2 * PATH_MAX], cmd[5 * PATH_MAX];
	const char *url;
	uint64_t    seq, hash, keys;
	int         port;

	CHECK_EQ_INT(rill_keeper_open(&nd.keeper, &ko), RILL_OK);
	CHECK_EQ_INT(
	    open_admin(&nd.keeper_admin, "127.0.0.1:0", tokens, 2), RILL_OK);
	port = rill_admin_port(nd.keeper_admin);
	snprintf(auth, sizeof(auth), "-H 'Authorization: Bearer %s'", TOKEN);

	// Still 401 first.
	http_port(&r, port, "POST", "/v1/snapshots", NULL);
	CHECK(is_error(&r, 401, "unauthenticated"));
	response_free(&r);

	CHECK_EQ_INT(
	    rill_state_hash_store(nd.store, &seq, &hash, &keys), RILL_OK);
	http_port(&r, port, "POST", "/v1/snapshots?wait=true", auth);
	if (r.status != 200) {
		fprintf(stderr, "%d: %.*s\n", r.status, (int) r.len,
		    r.body != NULL ? r.body : "");
	}
	CHECK_EQ_INT(r.status, 200);
	gen_hex(hex, nd.gen);
	CHECK_EQ_STR(json_str(&r, "generation"), hex);
	CHECK(json_num(r.json, "seq") == seq);
	CHECK(json_num(r.json, "keys") == keys);
	gen_hex(hex, hash);
	CHECK_EQ_STR(json_str(&r, "hash"), hex);
	CHECK(json_num(r.json, "size") > 0);
	CHECK((url = json_str(&r, "url")) != NULL);
	snprintf(path, sizeof(path), "%s", url);
	response_free(&r);

	// The file it names downloads whole.
	http_port(&r, port, NULL, path, NULL);
	CHECK_EQ_INT(r.status, 200);
	response_free(&r);
	CHECK_EQ_INT(
	    rill_datadir_generation_path(nd.dd, nd.gen, gdir, sizeof(gdir)),
	    RILL_OK);
	rill_snapshot_name(name, sizeof(name), seq);
	snprintf(path, sizeof(path), "%s/snapshots/%s", gdir, name);
	snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s'", path, nd.body_path);
	CHECK_EQ_INT(system(cmd), 0);

	http_port(&r, port, "POST", "/v1/snapshots?wait=false", auth);
	CHECK_EQ_INT(r.status, 202);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "queued")));
	response_free(&r);

	http_port(&r, port, NULL, "/v1/status", NULL);
	CHECK_EQ_INT(r.status, 200);
	CHECK(json_num(r.json, "snapshots") >= 1);
	CHECK(json_num(r.json, "snapshot_bytes") > 0);
	response_free(&r);

	rill_admin_close(nd.keeper_admin);
	nd.keeper_admin = NULL;
	rill_keeper_close(nd.keeper);
	nd.keeper = NULL;
}

RILL_TEST_GLOBALS

int
main(void)
{
	RILL_TEST_RUN(test_setup);
	if (rill_test_n_fail_ == 0) {
		RILL_TEST_RUN(test_health);
		RILL_TEST_RUN(test_idle_connections_leave_probes_an_answer);
		RILL_TEST_RUN(test_ready_follows_set_ready);
		RILL_TEST_RUN(test_status_fields);
		RILL_TEST_RUN(test_hash_matches_store);
		RILL_TEST_RUN(test_unknown_is_404);
		RILL_TEST_RUN(test_wrong_method_is_405);
		RILL_TEST_RUN(test_bad_ids_and_traversal_are_400);
		RILL_TEST_RUN(test_snapshot_post_needs_token);
		RILL_TEST_RUN(test_snapshot_list_and_download);
		RILL_TEST_RUN(test_generations);
		RILL_TEST_RUN(test_events);
		RILL_TEST_RUN(test_metrics_text);
		RILL_TEST_RUN(test_keep_alive_and_parallel_clients);
		RILL_TEST_RUN(test_open_errors);
		RILL_TEST_RUN(test_open_beyond_loopback_warns);
		RILL_TEST_RUN(test_snapshot_through_keeper);
	}
	teardown();
	return RILL_TEST_SUMMARY();
}
