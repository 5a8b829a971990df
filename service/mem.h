// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// mem: the allocator every rill module uses for its own memory. Going
// through one pair of functions lets a test fail the Nth allocation and
// check that each caller unwinds without a leak. Foreign memory (LevelDB,
// nng, protobuf-c unpacked messages) goes back to its own allocator.
#ifndef RILL_SERVICE_MEM_H
#define RILL_SERVICE_MEM_H

#include <stddef.h>

// rill_alloc returns size bytes (uninitialised) or NULL.
void *rill_alloc(size_t size);
// rill_zalloc returns size zeroed bytes or NULL.
void *rill_zalloc(size_t size);
// rill_realloc resizes p (NULL allocates); on failure p is untouched.
void *rill_realloc(void *p, size_t size);
// rill_free releases what the functions above returned; NULL is a no-op.
void rill_free(void *p);
// rill_strdup copies s with rill_alloc, or returns NULL.
char *rill_strdup(const char *s);

// rill_mem_fail_after makes the nth allocation from now on fail (1 is the
// next one); 0 turns failures off. For tests only.
void rill_mem_fail_after(unsigned long n);

#endif // RILL_SERVICE_MEM_H
