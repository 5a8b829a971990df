// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
#include "cpus.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rill/status.h>

#include "store.h"

// parse_cpu reads a CPU number at *sp (digits only: no sign or space),
// moving *sp past it.
static bool
parse_cpu(const char **sp, int *cpu)
{
	char         *end;
	unsigned long v;

	if (**sp < '0' || **sp > '9') {
		return false;
	}
	errno = 0;
	v     = strtoul(*sp, &end, 10);
	if (errno != 0 || v >= CPU_SETSIZE) {
		return false;
	}
	*sp  = end;
	*cpu = (int) v;
	return true;
}

int
rill_cpus_parse(const char *text, cpu_set_t *set, char *err, size_t n)
{
	const char *s = text;

	CPU_ZERO(set);
	for (;;) {
		int lo, hi;

		if (!parse_cpu(&s, &lo)) {
			snprintf(err, n,
			    "bad CPU list \"%s\" (want CPU numbers below %d "
			    "and ranges, as in 0 or 0-1,4)",
			    text, CPU_SETSIZE);
			return RILL_INVALID_ARGUMENT;
		}
		hi = lo;
		if (*s == '-') {
			s++;
			if (!parse_cpu(&s, &hi) || hi < lo) {
				snprintf(err, n,
				    "bad CPU list \"%s\" (want ranges "
				    "LOW-HIGH "
				    "with LOW <= HIGH, as in 0-1)",
				    text);
				return RILL_INVALID_ARGUMENT;
			}
		}
		for (int c = lo; c <= hi; c++) {
			CPU_SET(c, set);
		}
		if (*s == '\0') {
			return RILL_OK;
		}
		if (*s++ != ',') {
			snprintf(err, n,
			    "bad CPU list \"%s\" (want CPU numbers and ranges "
			    "separated by commas, as in 0-1,4)",
			    text);
			return RILL_INVALID_ARGUMENT;
		}
	}
}

char *
rill_cpus_format(const cpu_set_t *set, char *buf, size_t n)
{
	size_t len = 0;

	if (n == 0) {
		return buf;
	}
	buf[0] = '\0';
	for (int c = 0; c < CPU_SETSIZE; c++) {
		int hi = c;
		int w;

		if (!CPU_ISSET(c, set)) {
			continue;
		}
		while (hi + 1 < CPU_SETSIZE && CPU_ISSET(hi + 1, set)) {
			hi++;
		}
		w = hi > c ? snprintf(buf + len, n - len, "%s%d-%d",
		                 len > 0 ? "," : "", c, hi)
		           : snprintf(buf + len, n - len, "%s%d",
		                 len > 0 ? "," : "", c);
		if (w < 0 || (size_t) w >= n - len) {
			break; // cut short
		}
		len += (size_t) w;
		c = hi;
	}
	return buf;
}

int
rill_cpus_confine(const char *text, char *err, size_t n)
{
	cpu_set_t want, may;
	char      list[256];
	int       rv;

	if ((rv = rill_cpus_parse(text, &want, err, n)) != RILL_OK) {
		return rv;
	}
	if (sched_getaffinity(0, sizeof(may), &may) != 0) {
		snprintf(err, n,
		    "cannot read the CPUs this process may use: %s",
		    strerror(errno));
		return RILL_INVALID_ARGUMENT;
	}
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (CPU_ISSET(c, &want) && !CPU_ISSET(c, &may)) {
			snprintf(err, n,
			    "CPU %d is not one this process may use (it may "
			    "use %s)",
			    c, rill_cpus_format(&may, list, sizeof(list)));
			return RILL_INVALID_ARGUMENT;
		}
	}
	rill_store_start_background();
	if (sched_setaffinity(0, sizeof(want), &want) != 0) {
		snprintf(err, n, "cannot run on CPUs %s: %s", text,
		    strerror(errno));
		return RILL_INVALID_ARGUMENT;
	}
	return RILL_OK;
}
