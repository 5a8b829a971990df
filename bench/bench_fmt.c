// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// bench_fmt: how the figures are printed, shared by every figure.
#include <stdio.h>
#include <string.h>

#include "bench.h"

const char *
rill_bench_fmt_count(char *buf, size_t n, double v)
{
	char               digits[32];
	unsigned long long u = v > 0 ? (unsigned long long) (v + 0.5) : 0;
	size_t             len, o = 0;

	snprintf(digits, sizeof(digits), "%llu", u);
	len = strlen(digits);
	for (size_t i = 0; i < len && o + 2 < n; i++) {
		if (i > 0 && (len - i) % 3 == 0) {
			buf[o++] = ',';
		}
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

void
rill_bench_json_num(const char *name, bool present, double v, const char *fmt)
{
	printf(",\"%s\":", name);
	if (present) {
		printf(fmt, v);
	} else {
		printf("null");
	}
}

double
rill_bench_secs_since(uint64_t t0)
{
	return (double) (rill_bench_now_ns() - t0) / 1e9;
}

double
rill_bench_pct_us(const rill_bench_hist *h, double q)
{
	return (double) rill_bench_hist_percentile(h, q) / 1e3;
}
