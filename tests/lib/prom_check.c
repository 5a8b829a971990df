// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// prom_check: see prom_check.h.
#include "prom_check.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool
name_ok(const char *s, size_t n)
{
	if (n == 0) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char c     = s[i];
		bool alpha = (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
		if (!alpha && !(i > 0 && c >= '0' && c <= '9')) {
			return false;
		}
	}
	return true;
}

static family *
find_family(prom_check *pc, const char *name, size_t n)
{
	for (int i = 0; i < pc->n; i++) {
		if (strlen(pc->fams[i].name) == n &&
		    memcmp(pc->fams[i].name, name, n) == 0) {
			return &pc->fams[i];
		}
	}
	return NULL;
}

static bool
fail(prom_check *pc, const char *why)
{
	snprintf(pc->why, sizeof(pc->why), "line %d: %s", pc->line, why);
	return false;
}

// enter_family makes f the current family; a family's lines must be
// contiguous.
static bool
enter_family(prom_check *pc, family *f)
{
	if (pc->current == f) {
		return true;
	}
	if (f->closed) {
		return fail(pc, "a family's lines are not together");
	}
	if (pc->current != NULL) {
		pc->current->closed = true;
	}
	pc->current = f;
	return true;
}

// parse_value reads a sample value in full: a float, NaN or +-Inf.
static bool
parse_value(const char *s, size_t n, double *vp)
{
	char  buf[64];
	char *end;

	if (n == 0 || n >= sizeof(buf)) {
		return false;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	*vp    = strtod(buf, &end);
	return *end == '\0';
}

static bool
check_comment(prom_check *pc, const char *s, size_t n)
{
	const char *name, *rest;
	size_t      nlen;
	family     *f;
	bool        is_help;

	if (n >= 7 && memcmp(s, "# HELP ", 7) == 0) {
		is_help = true;
	} else if (n >= 7 && memcmp(s, "# TYPE ", 7) == 0) {
		is_help = false;
	} else {
		return true; // a plain comment
	}
	name = s + 7;
	rest = memchr(name, ' ', n - 7);
	if (rest == NULL) {
		return fail(pc, "HELP or TYPE without text");
	}
	nlen = (size_t) (rest - name);
	if (!name_ok(name, nlen) || nlen >= sizeof(f->name)) {
		return fail(pc, "bad metric name");
	}
	rest++;
	if ((f = find_family(pc, name, nlen)) == NULL) {
		if (pc->n == MAX_FAMILIES) {
			return fail(pc, "too many families");
		}
		f = &pc->fams[pc->n++];
		memcpy(f->name, name, nlen);
	}
	if (!enter_family(pc, f)) {
		return false;
	}
	if (is_help) {
		if (f->help) {
			return fail(pc, "second HELP");
		}
		f->help = true;
		return true;
	}
	size_t tlen = n - (size_t) (rest - s);
	if (f->type[0] != '\0') {
		return fail(pc, "second TYPE");
	}
	if (f->n_buckets > 0 || f->has_count || f->has_sum) {
		return fail(pc, "TYPE after samples");
	}
	if (tlen >= sizeof(f->type)) {
		return fail(pc, "bad type");
	}
	memcpy(f->type, rest, tlen);
	if (strcmp(f->type, "counter") != 0 && strcmp(f->type, "gauge") != 0 &&
	    strcmp(f->type, "histogram") != 0 &&
	    strcmp(f->type, "summary") != 0 &&
	    strcmp(f->type, "untyped") != 0) {
		return fail(pc, "unknown type");
	}
	return true;
}

// check_labels reads {name="value",...} at s; *lep gets the value of le.
static bool
check_labels(
    prom_check *pc, const char **sp, const char *end, char *le, size_t le_size)
{
	const char *s = *sp + 1;

	le[0] = '\0';
	while (s < end && *s != '}') {
		const char *ln = s;
		char        val[128];
		size_t      vn = 0;

		while (s < end && *s != '=') {
			s++;
		}
		if (s >= end || !name_ok(ln, (size_t) (s - ln)) ||
		    s + 1 >= end || s[1] != '"') {
			return fail(pc, "bad label");
		}
		bool is_le = s - ln == 2 && memcmp(ln, "le", 2) == 0;
		for (s += 2; s < end && *s != '"'; s++) {
			if (*s == '\\') {
				s++;
				if (s >= end ||
				    (*s != '\\' && *s != '"' && *s != 'n')) {
					return fail(pc, "bad escape");
				}
			}
			if (vn + 1 < sizeof(val)) {
				val[vn++] = *s;
			}
		}
		if (s >= end) {
			return fail(pc, "unterminated label value");
		}
		val[vn] = '\0';
		if (is_le) {
			snprintf(le, le_size, "%s", val);
		}
		s++;
		if (s < end && *s == ',') {
			s++;
		}
	}
	if (s >= end) {
		return fail(pc, "unterminated labels");
	}
	*sp = s + 1;
	return true;
}

static bool
ends_with(const char *s, size_t n, const char *suffix, size_t *stemp)
{
	size_t k = strlen(suffix);
	if (n > k && memcmp(s + n - k, suffix, k) == 0) {
		*stemp = n - k;
		return true;
	}
	return false;
}

static bool
check_sample(prom_check *pc, const char *s, size_t n)
{
	const char *end = s + n, *p = s, *vs;
	char        le[64];
	family     *f;
	size_t      nlen, stem;
	double      v;

	while (p < end && *p != '{' && *p != ' ') {
		p++;
	}
	nlen = (size_t) (p - s);
	if (!name_ok(s, nlen)) {
		return fail(pc, "bad sample name");
	}
	le[0] = '\0';
	if (p < end && *p == '{' &&
	    !check_labels(pc, &p, end, le, sizeof(le))) {
		return false;
	}
	if (p >= end || *p != ' ') {
		return fail(pc, "no value");
	}
	vs = ++p;
	while (p < end && *p != ' ') {
		p++;
	}
	if (!parse_value(vs, (size_t) (p - vs), &v)) {
		return fail(pc, "value does not parse");
	}
	if (p < end) { // an optional timestamp
		double ts;
		if (!parse_value(p + 1, (size_t) (end - p - 1), &ts)) {
			return fail(pc, "timestamp does not parse");
		}
	}
	// The family: the name itself, or a histogram's _bucket/_sum/_count.
	f = find_family(pc, s, nlen);
	if (f == NULL || f->type[0] == '\0') {
		if ((ends_with(s, nlen, "_bucket", &stem) ||
		        ends_with(s, nlen, "_sum", &stem) ||
		        ends_with(s, nlen, "_count", &stem)) &&
		    (f = find_family(pc, s, stem)) != NULL &&
		    strcmp(f->type, "histogram") == 0) {
			// a histogram's sample
		} else {
			return fail(
			    pc, "sample without a TYPE line before it");
		}
	} else if (strcmp(f->type, "histogram") == 0) {
		return fail(pc, "bare sample of a histogram");
	}
	if (!f->help) {
		return fail(pc, "family without HELP");
	}
	if (!enter_family(pc, f)) {
		return false;
	}
	if (strcmp(f->type, "counter") == 0 && !(v >= 0)) {
		return fail(pc, "negative counter");
	}
	if (strcmp(f->type, "histogram") != 0) {
		return true;
	}
	if (ends_with(s, nlen, "_bucket", &stem)) {
		double lev;
		if (le[0] == '\0' || !parse_value(le, strlen(le), &lev)) {
			return fail(pc, "bucket without a valid le");
		}
		if (f->has_inf || f->has_sum || f->has_count) {
			return fail(pc, "bucket after +Inf, _sum or _count");
		}
		if (f->n_buckets > 0 && !(lev > f->last_le)) {
			return fail(pc, "le not increasing");
		}
		if (v < 0 || v != (double) (uint64_t) v) {
			return fail(pc, "bucket count not a whole number");
		}
		if (f->n_buckets > 0 && (uint64_t) v < f->last_bucket) {
			return fail(pc, "buckets not cumulative");
		}
		f->n_buckets++;
		f->last_le     = lev;
		f->last_bucket = (uint64_t) v;
		if (strcmp(le, "+Inf") == 0) {
			f->has_inf    = true;
			f->inf_bucket = (uint64_t) v;
		}
	} else if (ends_with(s, nlen, "_sum", &stem)) {
		f->has_sum = true;
	} else {
		f->has_count = true;
		f->count     = (uint64_t) v;
	}
	return true;
}

// prom_check_text checks text by the rules; false with pc->why on the
// first problem.
bool
prom_check_text(prom_check *pc, const char *text, size_t len)
{
	const char *s = text, *end = text + len;

	memset(pc, 0, sizeof(*pc));
	if (len == 0 || text[len - 1] != '\n') {
		return fail(pc, "the text does not end with a newline");
	}
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t) (end - s));
		size_t      n  = (size_t) (nl - s);
		bool        ok;

		pc->line++;
		if (n == 0) {
			ok = true;
		} else if (s[0] == '#') {
			ok = check_comment(pc, s, n);
		} else {
			ok = check_sample(pc, s, n);
		}
		if (!ok) {
			return false;
		}
		s = nl + 1;
	}
	for (int i = 0; i < pc->n; i++) {
		family *f = &pc->fams[i];
		if (f->type[0] == '\0') {
			snprintf(pc->why, sizeof(pc->why), "%s has no TYPE",
			    f->name);
			return false;
		}
		if (strcmp(f->type, "histogram") != 0) {
			continue;
		}
		if (!f->has_inf || !f->has_sum || !f->has_count ||
		    f->inf_bucket != f->count) {
			snprintf(pc->why, sizeof(pc->why),
			    "histogram %s: +Inf bucket %" PRIu64
			    " vs _count %" PRIu64 " (sum %d count %d)",
			    f->name, f->inf_bucket, f->count, f->has_sum,
			    f->has_count);
			return false;
		}
	}
	return true;
}

// find_sample returns the value of the sample line that starts with
// prefix ("name{labels} "), or -1.

double
prom_find_sample(const char *text, const char *prefix)
{
	size_t      n = strlen(prefix);
	const char *s = text;

	while (s != NULL && *s != '\0') {
		if (strncmp(s, prefix, n) == 0) {
			return strtod(s + n, NULL);
		}
		s = strchr(s, '\n');
		if (s != NULL) {
			s++;
		}
	}
	return -1;
}
