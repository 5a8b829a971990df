// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// test: the few macros every rill test uses. A test is a function; main()
// lists them with RILL_TEST_RUN. A failed check prints file, line and the
// expression, marks the test failed and returns from it.
#ifndef RILL_TESTS_TEST_H
#define RILL_TESTS_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int rill_test_failed_;

#define CHECK(x)                                                     \
	do {                                                         \
		if (!(x)) {                                          \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", \
			    __FILE__, __LINE__, #x);                 \
			rill_test_failed_ = 1;                       \
			return;                                      \
		}                                                    \
	} while (0)

#define CHECK_EQ_INT(a, b)                                            \
	do {                                                          \
		long long a_ = (long long) (a), b_ = (long long) (b); \
		if (a_ != b_) {                                       \
			fprintf(stderr,                               \
			    "%s:%d: %s == %s failed: %lld != %lld\n", \
			    __FILE__, __LINE__, #a, #b, a_, b_);      \
			rill_test_failed_ = 1;                        \
			return;                                       \
		}                                                     \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                  \
	do {                                                                \
		const char *a_ = (a), *b_ = (b);                            \
		if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {      \
			fprintf(stderr,                                     \
			    "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n",   \
			    __FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)", \
			    b_ ? b_ : "(null)");                            \
			rill_test_failed_ = 1;                              \
			return;                                             \
		}                                                           \
	} while (0)

// A test file defines the counters once with RILL_TEST_GLOBALS (the
// MAIN_BEGIN form does it), runs tests with RILL_TEST_RUN, and returns
// RILL_TEST_SUMMARY() from main, which prints "N passed, N failed".
extern int rill_test_n_pass_, rill_test_n_fail_;
#define RILL_TEST_GLOBALS \
	int rill_test_failed_, rill_test_n_pass_, rill_test_n_fail_;
#define RILL_TEST_RUN(fn)                                  \
	do {                                               \
		rill_test_failed_ = 0;                     \
		fn();                                      \
		if (rill_test_failed_) {                   \
			rill_test_n_fail_++;               \
			fprintf(stderr, "FAIL %s\n", #fn); \
		} else {                                   \
			rill_test_n_pass_++;               \
			fprintf(stderr, "ok   %s\n", #fn); \
		}                                          \
	} while (0)
#define RILL_TEST_SUMMARY()                                           \
	(fprintf(stderr, "%d passed, %d failed\n", rill_test_n_pass_, \
	     rill_test_n_fail_),                                      \
	    rill_test_n_fail_ == 0 ? 0 : 1)

// RILL_TEST_MAIN_BEGIN ... RILL_TEST_RUN(fn) ... RILL_TEST_MAIN_END
#define RILL_TEST_MAIN_BEGIN \
	RILL_TEST_GLOBALS    \
	int main(void)       \
	{
#define RILL_TEST_MAIN_END          \
	return RILL_TEST_SUMMARY(); \
	}

#endif // RILL_TESTS_TEST_H
