// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// tsan_suppressions: the ThreadSanitizer suppressions of a program that
// runs rill's service, and so the system's LevelDB. Include it in exactly
// one .c file of each such program (it defines the function
// ThreadSanitizer reads at start); without ThreadSanitizer it is empty.
//
// The system LevelDB (with the snappy and libstdc++ code it calls) is not
// instrumented: its skiplist publishes memtable entries, and its block
// cache shares blocks, with atomics ThreadSanitizer cannot see, so an
// iterator reading while another thread commits (and compacts) looks like
// races inside LevelDB's own memcmp and memcpy calls. Only reports with a
// frame in those libraries are suppressed; rill's code uses none of them
// itself, so its accesses are still checked.
#ifndef RILL_SERVICE_TSAN_SUPPRESSIONS_H
#define RILL_SERVICE_TSAN_SUPPRESSIONS_H

#if defined(__SANITIZE_THREAD__)
#define RILL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RILL_TSAN 1
#endif
#endif

#ifdef RILL_TSAN
const char *__tsan_default_suppressions(void);
const char *
__tsan_default_suppressions(void)
{
	return "race:libleveldb.so\n"
	       "race:libsnappy.so\n"
	       "race:libstdc++.so\n";
}
#endif

#endif // RILL_SERVICE_TSAN_SUPPRESSIONS_H
