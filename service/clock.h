// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// clock: wall-clock time for records and monotonic time for intervals and
// deadlines. Never compare one with the other.
#ifndef RILL_SERVICE_CLOCK_H
#define RILL_SERVICE_CLOCK_H

#include <stdint.h>
#include <time.h>

// rill_wall_us returns microseconds since the Unix epoch.
static inline uint64_t
rill_wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

// rill_mono_ns returns a monotonic clock in nanoseconds.
static inline uint64_t
rill_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

// rill_mono_ms returns a monotonic clock in milliseconds.
static inline uint64_t
rill_mono_ms(void)
{
	return rill_mono_ns() / 1000000u;
}

#endif // RILL_SERVICE_CLOCK_H
