// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// followers: the table of followers behind followers.h. Rows live in one
// array sorted by node id under mu; each remembers whether it changed
// since the last persist (dirty), and the ids of dropped rows wait in
// gone until their catalog rows are deleted. rill_followers_persist
// takes both under mu and writes them with mu released, so
// rill_followers_seen (nng callbacks) only ever waits for other memory
// work. persist_mu keeps two persists from racing each other.
#include "followers.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rill/status.h>

#include "diag.h"
#include "mem.h"

_Static_assert(RILL_FOLLOWER_ID_MAX == RILL_CAT_FOLLOWER_ID_MAX,
    "follower ids fit the catalog's");
_Static_assert(RILL_FOLLOWER_ADDRESS_MAX == RILL_CAT_FOLLOWER_ADDRESS_MAX,
    "follower addresses fit the catalog's");

#define DEFAULT_FORGET_MS (7 * 24 * 3600 * 1000ull)
// MAX_ROWS bounds the table: any client may send a FetchLog with a new
// follower id. Past it, the row seen least recently makes room.
#define MAX_ROWS 1024

typedef struct row {
	rill_follower_info info;
	bool               dirty; // changed since the last persist
} row;

typedef struct gone_id {
	char id[RILL_FOLLOWER_ID_MAX + 1];
} gone_id;

struct rill_followers {
	rill_catalog   *catalog;
	uint64_t        forget_ms;
	pthread_mutex_t persist_mu; // one persist at a time
	pthread_mutex_t mu;         // guards what follows
	row            *rows;       // sorted by node id (strcmp)
	size_t          n_rows, cap_rows;
	gone_id        *gone; // dropped rows still in the catalog
	size_t          n_gone, cap_gone;
};

// Text -------------------------------------------------------------------

// utf8_len returns the length of the well-formed UTF-8 sequence at s
// (n bytes available), or 0 when s does not start one.
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t        len;

	if (s[0] < 0x80) {
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		lo  = s[0] == 0xe0 ? 0xa0 : 0x80; // no overlong form
		hi  = s[0] == 0xed ? 0x9f : 0xbf; // no surrogate
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		lo  = s[0] == 0xf0 ? 0x90 : 0x80;
		hi  = s[0] == 0xf4 ? 0x8f : 0xbf; // up to U+10FFFF
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi) {
		return 0;
	}
	for (size_t i = 2; i < len; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf) {
			return 0;
		}
	}
	return len;
}

// clean_text copies src into dst[n] as one line of valid UTF-8: control
// characters and bytes that do not start a well-formed sequence become
// '?', and the text is cut to fit at a character boundary. The result
// is safe in JSON, in a Prometheus label and in the catalog alike.
static void
clean_text(char *dst, size_t n, const char *src)
{
	const unsigned char *s   = (const unsigned char *) src;
	size_t               len = strlen(src), i = 0, o = 0;

	while (i < len) {
		size_t c = utf8_len(s + i, len - i);

		if (c == 0 || s[i] < 0x20 || s[i] == 0x7f) {
			if (o + 1 >= n) {
				break;
			}
			dst[o++] = '?';
			i++;
			continue;
		}
		if (o + c >= n) {
			break;
		}
		memcpy(dst + o, s + i, c);
		o += c;
		i += c;
	}
	dst[o] = '\0';
}

// Rows -------------------------------------------------------------------

// find returns whether id has a row, and in *atp its index or where it
// would go. mu is held.
static bool
find(const rill_followers *f, const char *id, size_t *atp)
{
	size_t lo = 0, hi = f->n_rows;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int    cmp = strcmp(f->rows[mid].info.node_id, id);

		if (cmp == 0) {
			*atp = mid;
			return true;
		}
		if (cmp < 0) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	*atp = lo;
	return false;
}

// insert_row makes room for a row at index at. mu is held.
static row *
insert_row(rill_followers *f, size_t at)
{
	if (f->n_rows == f->cap_rows) {
		size_t cap = f->cap_rows ? 2 * f->cap_rows : 8;
		row   *v   = rill_realloc(f->rows, cap * sizeof(*v));

		if (v == NULL) {
			return NULL;
		}
		f->rows     = v;
		f->cap_rows = cap;
	}
	memmove(&f->rows[at + 1], &f->rows[at],
	    (f->n_rows - at) * sizeof(*f->rows));
	f->n_rows++;
	memset(&f->rows[at], 0, sizeof(f->rows[at]));
	return &f->rows[at];
}

// unforget removes id from the ids waiting to be deleted (it was seen
// again). mu is held.
static void
unforget(rill_followers *f, const char *id)
{
	for (size_t i = 0; i < f->n_gone; i++) {
		if (strcmp(f->gone[i].id, id) == 0) {
			f->gone[i] = f->gone[--f->n_gone];
			return;
		}
	}
}

// forget_id queues id for its catalog row's deletion (and the log line
// saying so); false when out of memory. mu is held.
static bool
forget_id(rill_followers *f, const char *id)
{
	if (f->n_gone == f->cap_gone) {
		size_t   cap = f->cap_gone ? 2 * f->cap_gone : 8;
		gone_id *v   = rill_realloc(f->gone, cap * sizeof(*v));

		if (v == NULL) {
			return false;
		}
		f->gone     = v;
		f->cap_gone = cap;
	}
	snprintf(
	    f->gone[f->n_gone].id, sizeof(f->gone[f->n_gone].id), "%s", id);
	f->n_gone++;
	return true;
}

static int
by_node_id(const void *a, const void *b)
{
	const row *x = a, *y = b;

	return strcmp(x->info.node_id, y->info.node_id);
}

// load fills the rows from the catalog. mu need not be held (no other
// thread has f yet).
static int
load(rill_followers *f)
{
	rill_cat_follower *cat;
	size_t             n;
	int                rv;

	if ((rv = rill_catalog_followers(f->catalog, &cat, &n)) != RILL_OK) {
		if (rv == RILL_ENOMEM) {
			return rv;
		}
		rill_diag_warn("FOLLOWERS-LOAD",
		    "cannot read the followers from the catalog (%s): "
		    "starting with none",
		    rill_strerror(rv));
		return RILL_OK;
	}
	if (n > 0 && (f->rows = rill_zalloc(n * sizeof(*f->rows))) == NULL) {
		rill_free(cat);
		return RILL_ENOMEM;
	}
	f->cap_rows = n;
	for (size_t i = 0; i < n; i++) {
		rill_follower_info *fi = &f->rows[f->n_rows].info;

		clean_text(fi->node_id, sizeof(fi->node_id), cat[i].node_id);
		if (fi->node_id[0] == '\0') {
			continue;
		}
		clean_text(fi->address, sizeof(fi->address), cat[i].address);
		fi->generation      = cat[i].generation;
		fi->applied_seq     = cat[i].applied_seq;
		fi->applied_time_us = cat[i].applied_time_us;
		fi->first_seen_us   = cat[i].first_seen_us;
		fi->last_seen_us    = cat[i].last_seen_us;
		f->n_rows++;
	}
	rill_free(cat);
	if (f->n_rows > 1) {
		// The catalog's order is bytewise too; sort anyway, so that
		// find's invariant does not rest on SQLite's collation.
		qsort(f->rows, f->n_rows, sizeof(*f->rows), by_node_id);
	}
	return RILL_OK;
}

int
rill_followers_new(
    rill_followers **fp, rill_catalog *catalog, uint64_t forget_ms)
{
	rill_followers *f;
	int             rv;

	if ((f = rill_zalloc(sizeof(*f))) == NULL) {
		return RILL_ENOMEM;
	}
	f->catalog   = catalog;
	f->forget_ms = forget_ms != 0 ? forget_ms : DEFAULT_FORGET_MS;
	if (catalog != NULL && (rv = load(f)) != RILL_OK) {
		rill_free(f->rows);
		rill_free(f);
		return rv;
	}
	pthread_mutex_init(&f->mu, NULL);
	pthread_mutex_init(&f->persist_mu, NULL);
	*fp = f;
	return RILL_OK;
}

void
rill_followers_free(rill_followers *f)
{
	if (f == NULL) {
		return;
	}
	pthread_mutex_destroy(&f->persist_mu);
	pthread_mutex_destroy(&f->mu);
	rill_free(f->rows);
	rill_free(f->gone);
	rill_free(f);
}

// evict_oldest drops the row seen least recently, queueing its catalog
// row's deletion; false when out of memory. mu is held.
static bool
evict_oldest(rill_followers *f)
{
	size_t old = 0;

	for (size_t i = 1; i < f->n_rows; i++) {
		if (f->rows[i].info.last_seen_us <
		    f->rows[old].info.last_seen_us) {
			old = i;
		}
	}
	if (!forget_id(f, f->rows[old].info.node_id)) {
		return false;
	}
	memmove(&f->rows[old], &f->rows[old + 1],
	    (f->n_rows - old - 1) * sizeof(*f->rows));
	f->n_rows--;
	return true;
}

void
rill_followers_seen(rill_followers *f, const char *node_id,
    const char *address, uint64_t generation, uint64_t applied_seq,
    uint64_t applied_time_us, uint64_t now_us)
{
	char   id[RILL_FOLLOWER_ID_MAX + 1];
	char   addr[RILL_FOLLOWER_ADDRESS_MAX + 1];
	row   *r;
	size_t at;

	if (f == NULL || node_id == NULL) {
		return;
	}
	clean_text(id, sizeof(id), node_id);
	if (id[0] == '\0') {
		return;
	}
	clean_text(addr, sizeof(addr), address != NULL ? address : "");
	pthread_mutex_lock(&f->mu);
	if (find(f, id, &at)) {
		r = &f->rows[at];
	} else {
		if (f->n_rows >= MAX_ROWS && !evict_oldest(f)) {
			pthread_mutex_unlock(&f->mu);
			return;
		}
		find(f, id, &at);
		// Out of memory: this fetch goes unrecorded; the next one
		// tries again.
		if ((r = insert_row(f, at)) == NULL) {
			pthread_mutex_unlock(&f->mu);
			return;
		}
		memcpy(r->info.node_id, id, sizeof(id));
		r->info.first_seen_us = now_us;
		unforget(f, id);
	}
	memcpy(r->info.address, addr, sizeof(addr));
	r->info.generation      = generation;
	r->info.applied_seq     = applied_seq;
	r->info.applied_time_us = applied_time_us;
	r->info.last_seen_us    = now_us;
	r->info.fetches++;
	r->dirty = true;
	pthread_mutex_unlock(&f->mu);
}

int
rill_followers_list(rill_followers *f, rill_follower_info **outp, size_t *np)
{
	rill_follower_info *out = NULL;
	size_t              n;

	pthread_mutex_lock(&f->mu);
	n = f->n_rows;
	if (n > 0) {
		if ((out = rill_alloc(n * sizeof(*out))) == NULL) {
			pthread_mutex_unlock(&f->mu);
			return RILL_ENOMEM;
		}
		for (size_t i = 0; i < n; i++) {
			out[i] = f->rows[i].info;
		}
	}
	pthread_mutex_unlock(&f->mu);
	*outp = out;
	*np   = n;
	return RILL_OK;
}

// within tells whether a row last seen at last_us is within window_ms of
// now_us (a row seen "later" than now is).
static bool
within(uint64_t last_us, uint64_t window_ms, uint64_t now_us)
{
	return now_us <= last_us || window_ms > UINT64_MAX / 1000 ||
	    now_us - last_us <= window_ms * 1000;
}

uint64_t
rill_followers_needed(rill_followers *f, uint64_t generation,
    uint64_t window_ms, uint64_t now_us)
{
	uint64_t low = UINT64_MAX;

	if (window_ms == 0) {
		return UINT64_MAX;
	}
	pthread_mutex_lock(&f->mu);
	for (size_t i = 0; i < f->n_rows; i++) {
		const rill_follower_info *fi = &f->rows[i].info;

		if (fi->generation == generation && fi->applied_seq < low &&
		    within(fi->last_seen_us, window_ms, now_us)) {
			low = fi->applied_seq;
		}
	}
	pthread_mutex_unlock(&f->mu);
	return low;
}

// Persistence ------------------------------------------------------------

// take_work drops the rows not seen for forget_ms and moves what must be
// written out of the table: copies of the dirty rows (their flags
// cleared; none without a catalog) into *putsp, the ids of the dropped
// rows into *delsp. mu is held.
static int
take_work(rill_followers *f, uint64_t now_us, rill_cat_follower **putsp,
    size_t *n_putsp, gone_id **delsp, size_t *n_delsp)
{
	rill_cat_follower *puts  = NULL;
	size_t             n_put = 0, kept = 0;

	for (size_t i = 0; i < f->n_rows; i++) {
		const rill_follower_info *fi = &f->rows[i].info;

		if (!within(fi->last_seen_us, f->forget_ms, now_us) &&
		    forget_id(f, fi->node_id)) {
			continue;
		}
		f->rows[kept++] = f->rows[i];
	}
	f->n_rows = kept;
	for (size_t i = 0; i < f->n_rows && f->catalog != NULL; i++) {
		n_put += f->rows[i].dirty;
	}
	if (n_put > 0 && (puts = rill_alloc(n_put * sizeof(*puts))) == NULL) {
		return RILL_ENOMEM;
	}
	n_put = 0;
	for (size_t i = 0; i < f->n_rows && puts != NULL; i++) {
		const rill_follower_info *fi = &f->rows[i].info;

		if (!f->rows[i].dirty) {
			continue;
		}
		f->rows[i].dirty     = false;
		rill_cat_follower *c = &puts[n_put++];
		memcpy(c->node_id, fi->node_id, sizeof(c->node_id));
		memcpy(c->address, fi->address, sizeof(c->address));
		c->generation      = fi->generation;
		c->applied_seq     = fi->applied_seq;
		c->applied_time_us = fi->applied_time_us;
		c->first_seen_us   = fi->first_seen_us;
		c->last_seen_us    = fi->last_seen_us;
	}
	*putsp      = puts;
	*n_putsp    = n_put;
	*delsp      = f->gone;
	*n_delsp    = f->n_gone;
	f->gone     = NULL;
	f->n_gone   = 0;
	f->cap_gone = 0;
	return RILL_OK;
}

int
rill_followers_persist(rill_followers *f, uint64_t now_us)
{
	rill_cat_follower *puts  = NULL;
	gone_id           *dels  = NULL;
	size_t             n_put = 0, n_del = 0, at;
	bool              *failed = NULL; // the deletes', then the puts'
	int                rv;
	int                first = RILL_OK;

	pthread_mutex_lock(&f->persist_mu);
	pthread_mutex_lock(&f->mu);
	rv = take_work(f, now_us, &puts, &n_put, &dels, &n_del);
	pthread_mutex_unlock(&f->mu);
	if (rv != RILL_OK) {
		pthread_mutex_unlock(&f->persist_mu);
		return rv;
	}
	for (size_t i = 0; i < n_del; i++) {
		rill_diag_info("FOLLOWER-FORGOTTEN",
		    "follower %s not seen for %" PRIu64 " s: forgotten",
		    dels[i].id, f->forget_ms / 1000);
	}
	if (f->catalog == NULL) {
		n_del = 0; // nothing to delete
	}
	if (n_put + n_del > 0 &&
	    (failed = rill_zalloc(n_put + n_del)) == NULL) {
		// Nothing is written; all of it is tried again next time.
		first = RILL_ENOMEM;
	}
	// Deletes first: a row forgotten and seen again since is among the
	// puts (seen removed it from the deletes), and must end up written.
	for (size_t i = 0; i < n_del && failed != NULL; i++) {
		rv = rill_catalog_del_follower(f->catalog, dels[i].id);
		if (rv != RILL_OK) {
			first     = first != RILL_OK ? first : rv;
			failed[i] = true;
		}
	}
	for (size_t i = 0; i < n_put && failed != NULL; i++) {
		rv = rill_catalog_put_follower(f->catalog, &puts[i]);
		if (rv != RILL_OK) {
			first             = first != RILL_OK ? first : rv;
			failed[n_del + i] = true;
		}
	}
	if (first != RILL_OK) {
		pthread_mutex_lock(&f->mu);
		for (size_t i = 0; i < n_del; i++) {
			// Unless it was seen again since.
			if ((failed == NULL || failed[i]) &&
			    !find(f, dels[i].id, &at)) {
				(void) forget_id(f, dels[i].id);
			}
		}
		for (size_t i = 0; i < n_put; i++) {
			if ((failed == NULL || failed[n_del + i]) &&
			    find(f, puts[i].node_id, &at)) {
				f->rows[at].dirty = true;
			}
		}
		pthread_mutex_unlock(&f->mu);
	}
	pthread_mutex_unlock(&f->persist_mu);
	rill_free(failed);
	rill_free(puts);
	rill_free(dels);
	return first;
}

// Lag, JSON and metrics --------------------------------------------------

void
rill_follower_lag(const rill_follower_info *fi, uint64_t last_seq,
    uint64_t last_time_us, uint64_t now_us, uint64_t *recordsp,
    double *secondsp)
{
	uint64_t us = 0;

	*recordsp =
	    last_seq > fi->applied_seq ? last_seq - fi->applied_seq : 0;
	if (*recordsp == 0) {
		*secondsp = 0;
		return;
	}
	if (fi->applied_time_us != 0 && last_time_us != 0) {
		// Both times come from the same history's clock.
		us = last_time_us > fi->applied_time_us
		    ? last_time_us - fi->applied_time_us
		    : 0;
	} else if (now_us > fi->first_seen_us) {
		us = now_us - fi->first_seen_us;
	}
	*secondsp = (double) us / 1e6;
}

static double
seconds_since(uint64_t then_us, uint64_t now_us)
{
	return now_us > then_us ? (double) (now_us - then_us) / 1e6 : 0;
}

// put_u64 adds v as a bare integer: cJSON's doubles would round seqs and
// times past 2^53.
static bool
put_u64(cJSON *o, const char *name, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return cJSON_AddRawToObject(o, name, buf) != NULL;
}

static bool
put_row(cJSON *arr, const rill_follower_info *fi, uint64_t last_seq,
    uint64_t last_time_us, uint64_t now_us)
{
	cJSON   *o = cJSON_CreateObject();
	char     gen[17];
	uint64_t lag_records;
	double   lag_s;

	if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return false;
	}
	rill_follower_lag(
	    fi, last_seq, last_time_us, now_us, &lag_records, &lag_s);
	snprintf(gen, sizeof(gen), "%016" PRIx64, fi->generation);
	return cJSON_AddStringToObject(o, "node_id", fi->node_id) != NULL &&
	    cJSON_AddStringToObject(o, "address", fi->address) != NULL &&
	    cJSON_AddStringToObject(o, "generation", gen) != NULL &&
	    put_u64(o, "applied_seq", fi->applied_seq) &&
	    put_u64(o, "applied_time_us", fi->applied_time_us) &&
	    put_u64(o, "lag_records", lag_records) &&
	    cJSON_AddNumberToObject(o, "lag_s", lag_s) != NULL &&
	    cJSON_AddNumberToObject(o, "last_seen_s",
	        seconds_since(fi->last_seen_us, now_us)) != NULL &&
	    put_u64(o, "first_seen_us", fi->first_seen_us) &&
	    put_u64(o, "last_seen_us", fi->last_seen_us) &&
	    put_u64(o, "fetches", fi->fetches);
}

cJSON *
rill_followers_json(rill_followers *f, uint64_t last_seq,
    uint64_t last_time_us, uint64_t now_us)
{
	rill_follower_info *rows;
	size_t              n;
	cJSON              *obj, *arr;
	bool                ok;

	if (rill_followers_list(f, &rows, &n) != RILL_OK) {
		return NULL;
	}
	obj = cJSON_CreateObject();
	arr = obj != NULL ? cJSON_AddArrayToObject(obj, "followers") : NULL;
	ok  = arr != NULL;
	for (size_t i = 0; i < n && ok; i++) {
		ok = put_row(arr, &rows[i], last_seq, last_time_us, now_us);
	}
	rill_free(rows);
	if (!ok) {
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

// prom_put appends s to the exposition text.
static void
prom_put(rill_prom *p, const char *s)
{
	rill_prom_append(p, s, strlen(s));
}

// prom_label_value appends s escaped as the format asks of a label
// value: backslash, double quote and newline.
static void
prom_label_value(rill_prom *p, const char *s)
{
	char one[2] = { 0, 0 };

	for (; *s != '\0'; s++) {
		if (*s == '\\') {
			prom_put(p, "\\\\");
		} else if (*s == '"') {
			prom_put(p, "\\\"");
		} else if (*s == '\n') {
			prom_put(p, "\\n");
		} else {
			one[0] = *s;
			prom_put(p, one);
		}
	}
}

// The per-follower gauges.
enum gauge { APPLIED_SEQ, LAG_RECORDS, LAG_SECONDS, LAST_SEEN, N_GAUGES };

static const struct {
	const char *name;
	const char *help;
} gauges[N_GAUGES] = {
	[APPLIED_SEQ] = { "rill_follower_applied_seq",
	    "The seq each follower reported applied." },
	[LAG_RECORDS] = { "rill_follower_lag_records",
	    "Records each follower is behind this node's last seq." },
	[LAG_SECONDS] = { "rill_follower_lag_seconds",
	    "Time between this node's last record and each follower's "
	    "applied one." },
	[LAST_SEEN]   = { "rill_follower_last_seen_seconds",
	      "Seconds since each follower's last fetch." },
};

// format_seconds writes seconds with microsecond resolution, without
// trailing zeros.
static void
format_seconds(char *buf, size_t n, double v)
{
	size_t len;

	snprintf(buf, n, "%.6f", v);
	len = strlen(buf);
	while (len > 0 && buf[len - 1] == '0') {
		buf[--len] = '\0';
	}
	if (len > 0 && buf[len - 1] == '.') {
		buf[--len] = '\0';
	}
}

void
rill_followers_render(rill_followers *f, rill_prom *p, uint64_t last_seq,
    uint64_t last_time_us, uint64_t now_us)
{
	rill_follower_info *rows;
	size_t              n;
	char                line[256];

	if (rill_followers_list(f, &rows, &n) != RILL_OK) {
		if (p->err == RILL_OK) {
			p->err = RILL_ENOMEM;
		}
		return;
	}
	rill_prom_gauge(p, "rill_followers",
	    "Followers this node has seen fetch its log (within the forget "
	    "period).",
	    (double) n);
	for (int g = 0; g < N_GAUGES && n > 0; g++) {
		snprintf(line, sizeof(line), "# HELP %s %s\n# TYPE %s gauge\n",
		    gauges[g].name, gauges[g].help, gauges[g].name);
		prom_put(p, line);
		for (size_t i = 0; i < n; i++) {
			uint64_t lag_records;
			double   lag_s;
			char     value[64];

			rill_follower_lag(&rows[i], last_seq, last_time_us,
			    now_us, &lag_records, &lag_s);
			switch ((enum gauge) g) {
			case APPLIED_SEQ:
				snprintf(value, sizeof(value), "%" PRIu64,
				    rows[i].applied_seq);
				break;
			case LAG_RECORDS:
				snprintf(value, sizeof(value), "%" PRIu64,
				    lag_records);
				break;
			case LAG_SECONDS:
				format_seconds(value, sizeof(value), lag_s);
				break;
			default:
				format_seconds(value, sizeof(value),
				    seconds_since(
				        rows[i].last_seen_us, now_us));
				break;
			}
			prom_put(p, gauges[g].name);
			prom_put(p, "{node_id=\"");
			prom_label_value(p, rows[i].node_id);
			prom_put(p, "\",address=\"");
			prom_label_value(p, rows[i].address);
			prom_put(p, "\"} ");
			prom_put(p, value);
			prom_put(p, "\n");
		}
	}
	rill_free(rows);
}
