// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// prom_check: a small checker of the Prometheus text format 0.0.4 for
// tests: every sample's family has a TYPE (and HELP) line before it,
// names are valid, values parse whole, a family's lines are contiguous,
// histogram buckets are cumulative with +Inf equal to _count.
#ifndef RILL_TESTS_PROM_CHECK_H
#define RILL_TESTS_PROM_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_FAMILIES 64

typedef struct family {
	char name[128];
	char type[16];
	bool help, closed;
	// Histograms: the buckets seen so far.
	int      n_buckets;
	double   last_le;
	uint64_t last_bucket, inf_bucket, count;
	bool     has_inf, has_sum, has_count;
} family;

typedef struct prom_check {
	family  fams[MAX_FAMILIES];
	int     n;
	family *current; // the family of the previous line
	int     line;
	char    why[256];
} prom_check;

// prom_check_text checks text; on false, pc->why (and pc->line) say
// what is wrong. pc must be zeroed first.
bool prom_check_text(prom_check *pc, const char *text, size_t len);

// prom_find_sample returns the value of the first sample line starting
// with prefix (a name, or a name with labels), or -1.
double prom_find_sample(const char *text, const char *prefix);

#endif // RILL_TESTS_PROM_CHECK_H
