// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// mem: malloc with a countdown that tests set to fail one allocation.
#include "mem.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_ulong fail_countdown;

static int
should_fail(void)
{
	unsigned long n =
	    atomic_load_explicit(&fail_countdown, memory_order_relaxed);
	if (n == 0) {
		return 0;
	}
	return atomic_fetch_sub(&fail_countdown, 1) == 1;
}

void *
rill_alloc(size_t size)
{
	return should_fail() ? NULL : malloc(size ? size : 1);
}

void *
rill_zalloc(size_t size)
{
	return should_fail() ? NULL : calloc(1, size ? size : 1);
}

void *
rill_realloc(void *p, size_t size)
{
	return should_fail() ? NULL : realloc(p, size ? size : 1);
}

void
rill_free(void *p)
{
	free(p);
}

char *
rill_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char  *d = rill_alloc(n);
	if (d != NULL) {
		memcpy(d, s, n);
	}
	return d;
}

void
rill_mem_fail_after(unsigned long n)
{
	atomic_store(&fail_countdown, n);
}
