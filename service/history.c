// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// history: a read-only listing of generations/ from its files.
#include "history.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rill/status.h>

#include "datadir.h"
#include "diag.h"
#include "file.h"
#include "log.h"
#include "mem.h"

int
rill_history_gen_dir(
    char *buf, size_t n, const char *root, uint64_t generation)
{
	return rill_path_printf(
	    buf, n, "%s/generations/%016" PRIx64, root, generation);
}

int
rill_history_snapshot_path(
    char *buf, size_t n, const char *root, uint64_t generation, uint64_t seq)
{
	char name[32];

	rill_snapshot_name(name, sizeof(name), seq);
	return rill_path_printf(buf, n,
	    "%s/generations/%016" PRIx64 "/snapshots/%s", root, generation,
	    name);
}

int
rill_history_segment_path(char *buf, size_t n, const char *root,
    uint64_t generation, uint64_t first_seq)
{
	char name[32];

	rill_log_segment_name(name, sizeof(name), first_seq);
	return rill_path_printf(buf, n, "%s/generations/%016" PRIx64 "/log/%s",
	    root, generation, name);
}

static int
compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

	return x < y ? -1 : x > y;
}

static int
compare_snapshots(const void *a, const void *b)
{
	return compare_u64(&((const struct rill_hist_snapshot *) a)->seq,
	    &((const struct rill_hist_snapshot *) b)->seq);
}

static int
compare_gens(const void *a, const void *b)
{
	const rill_hist_generation *x = a, *y = b;

	if (x->created_us != y->created_us) {
		return x->created_us < y->created_us ? -1 : 1;
	}
	return compare_u64(&x->id, &y->id);
}

// list_dir calls fn for each entry name of dir; a missing dir is empty.
static int
list_dir(const char *dir, int (*fn)(void *, const char *), void *arg)
{
	DIR           *d;
	struct dirent *de;
	int            rv = RILL_OK;

	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT) {
			return RILL_OK;
		}
		rill_diag_err("HISTORY-IO", "cannot open directory %s: %s",
		    dir, strerror(errno));
		return RILL_EIO;
	}
	errno = 0;
	while (rv == RILL_OK && (de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.') {
			rv = fn(arg, de->d_name);
		}
		errno = 0;
	}
	if (rv == RILL_OK && errno != 0) {
		rill_diag_err("HISTORY-IO", "cannot read directory %s: %s",
		    dir, strerror(errno));
		rv = RILL_EIO;
	}
	closedir(d);
	return rv;
}

typedef struct walk {
	rill_history         *h;
	rill_hist_generation *g;
	size_t                cap;
} walk;

static int
add_snapshot(void *arg, const char *name)
{
	walk                      *w = arg;
	rill_hist_generation      *g = w->g;
	struct rill_hist_snapshot *s;
	uint64_t                   seq;
	char                       path[4096];
	int                        rv;

	if (!rill_snapshot_parse_name(name, &seq)) {
		return RILL_OK;
	}
	s = rill_realloc(g->snapshots, (g->n_snapshots + 1) * sizeof(*s));
	if (s == NULL) {
		return RILL_ENOMEM;
	}
	g->snapshots = s;
	s            = &s[g->n_snapshots++];
	memset(s, 0, sizeof(*s));
	s->seq = seq;
	if ((rv = rill_history_snapshot_path(
	         path, sizeof(path), w->h->root, g->id, seq)) != RILL_OK) {
		return rv;
	}
	rv = rill_snapshot_read_info(path, &s->info);
	s->ok =
	    rv == RILL_OK && s->info.seq == seq && s->info.generation == g->id;
	if (rv == RILL_ENOMEM) {
		return rv;
	}
	return RILL_OK;
}

static int
add_segment(void *arg, const char *name)
{
	walk                 *w = arg;
	rill_hist_generation *g = w->g;
	uint64_t              first, *v;

	if (!rill_log_parse_segment_name(name, &first)) {
		return RILL_OK;
	}
	v = rill_realloc(g->segments, (g->n_segments + 1) * sizeof(*v));
	if (v == NULL) {
		return RILL_ENOMEM;
	}
	g->segments                  = v;
	g->segments[g->n_segments++] = first;
	return RILL_OK;
}

static int
add_generation(void *arg, const char *name)
{
	walk                 *w = arg;
	rill_history         *h = w->h;
	rill_hist_generation *g;
	uint64_t              id;
	char                  dir[4096];
	int                   rv;

	if (!rill_generation_parse_name(name, &id) || id == 0) {
		return RILL_OK;
	}
	if (h->n_gens == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 8;
		g          = rill_realloc(h->gens, cap * sizeof(*g));
		if (g == NULL) {
			return RILL_ENOMEM;
		}
		h->gens = g;
		w->cap  = cap;
	}
	g = &h->gens[h->n_gens];
	memset(g, 0, sizeof(*g));
	g->id = id;
	rv    = rill_generation_read(
	       h->root, id, &g->parent, &g->parent_seq, &g->created_us);
	if (rv == RILL_NOT_FOUND) {
		return RILL_OK; // went away, or not a directory
	}
	if (rv != RILL_OK) {
		return rv;
	}
	h->n_gens++;
	w->g = g;
	if ((rv = rill_path_printf(dir, sizeof(dir),
	         "%s/generations/%s/snapshots", h->root, name)) != RILL_OK ||
	    (rv = list_dir(dir, add_snapshot, w)) != RILL_OK ||
	    (rv = rill_path_printf(dir, sizeof(dir), "%s/generations/%s/log",
	         h->root, name)) != RILL_OK ||
	    (rv = list_dir(dir, add_segment, w)) != RILL_OK) {
		return rv;
	}
	if (g->n_snapshots > 1) {
		qsort(g->snapshots, g->n_snapshots, sizeof(*g->snapshots),
		    compare_snapshots);
	}
	if (g->n_segments > 1) {
		qsort(g->segments, g->n_segments, sizeof(*g->segments),
		    compare_u64);
	}
	return RILL_OK;
}

int
rill_history_load(const char *root, rill_history **hp)
{
	rill_history *h;
	walk          w = { 0 };
	char          dir[4096];
	int           rv;

	if ((h = rill_zalloc(sizeof(*h))) == NULL) {
		return RILL_ENOMEM;
	}
	if (strlen(root) >= sizeof(h->root)) {
		rill_free(h);
		return RILL_EIO;
	}
	strcpy(h->root, root);
	w.h = h;
	if ((rv = rill_path_printf(
	         dir, sizeof(dir), "%s/generations", root)) != RILL_OK ||
	    (rv = list_dir(dir, add_generation, &w)) != RILL_OK) {
		rill_history_free(h);
		return rv;
	}
	if (h->n_gens > 1) {
		qsort(h->gens, h->n_gens, sizeof(*h->gens), compare_gens);
	}
	*hp = h;
	return RILL_OK;
}

void
rill_history_free(rill_history *h)
{
	if (h == NULL) {
		return;
	}
	for (size_t i = 0; i < h->n_gens; i++) {
		rill_free(h->gens[i].snapshots);
		rill_free(h->gens[i].segments);
	}
	rill_free(h->gens);
	rill_free(h);
}

rill_hist_generation *
rill_history_find(rill_history *h, uint64_t id)
{
	for (size_t i = 0; i < h->n_gens; i++) {
		if (h->gens[i].id == id) {
			return &h->gens[i];
		}
	}
	return NULL;
}

int
rill_history_verify(const char *root, bool allow_torn_tail, uint64_t *filesp)
{
	rill_history *h;
	char          path[4096];
	uint64_t      files = 0;
	int           rv, first = RILL_OK;

	if ((rv = rill_history_load(root, &h)) != RILL_OK) {
		return rv;
	}
	for (size_t i = 0; i < h->n_gens; i++) {
		rill_hist_generation *g = &h->gens[i];
		for (size_t j = 0; j < g->n_snapshots; j++) {
			if ((rv = rill_history_snapshot_path(path,
			         sizeof(path), root, g->id,
			         g->snapshots[j].seq)) == RILL_OK) {
				rv = rill_snapshot_verify(path, NULL);
			}
			if (rv == RILL_ENOENT) {
				continue; // removed by retention meanwhile
			}
			files++;
			if (rv != RILL_OK && first == RILL_OK) {
				first = rv;
			}
		}
		for (size_t j = 0; j < g->n_segments; j++) {
			rill_segment_info si;
			bool last = allow_torn_tail && j + 1 == g->n_segments;
			if ((rv = rill_history_segment_path(path, sizeof(path),
			         root, g->id, g->segments[j])) == RILL_OK) {
				rv = rill_segment_scan(
				    path, last, NULL, NULL, &si);
			}
			if (rv == RILL_ENOENT) {
				continue;
			}
			files++;
			if (rv == RILL_OK && j + 1 < g->n_segments &&
			    si.last_seq + 1 != g->segments[j + 1]) {
				rill_diag_err("HISTORY-GAP",
				    "%s ends at seq %" PRIu64
				    " but the next segment starts at seq "
				    "%" PRIu64 ": records are missing",
				    path, si.last_seq, g->segments[j + 1]);
				rv = RILL_ECORRUPT;
			}
			if (rv != RILL_OK && first == RILL_OK) {
				first = rv;
			}
		}
	}
	rill_history_free(h);
	if (filesp != NULL) {
		*filesp = files;
	}
	return first;
}
