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

#define CHECK(x)                                                             \
	do {                                                                 \
		if (!(x)) {                                                  \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n",         \
			    __FILE__, __LINE__, #x);                         \
			rill_test_failed_ = 1;                               \
			return;                                              \
		}                                                            \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                   \
	do {                                                                 \
		long long a_ = (long long) (a), b_ = (long long) (b);        \
		if (a_ != b_) {                                              \
			fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", \
			    __FILE__, __LINE__, #a, #b, a_, b_);             \
			rill_test_failed_ = 1;                               \
			return;                                              \
		}                                                            \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                   \
	do {                                                                 \
		const char *a_ = (a), *b_ = (b);                             \
		if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {       \
			fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", \
			    __FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)",  \
			    b_ ? b_ : "(null)");                             \
			rill_test_failed_ = 1;                               \
			return;                                              \
		}                                                            \
	} while (0)

// RILL_TEST_MAIN_BEGIN ... RILL_TEST_RUN(fn) ... RILL_TEST_MAIN_END
#define RILL_TEST_MAIN_BEGIN                                                 \
	int rill_test_failed_ = 0;                                           \
	int main(void)                                                       \
	{                                                                    \
		int n_pass_ = 0, n_fail_ = 0;
#define RILL_TEST_RUN(fn)                                                    \
	do {                                                                 \
		rill_test_failed_ = 0;                                       \
		fn();                                                        \
		if (rill_test_failed_) {                                     \
			n_fail_++;                                           \
			fprintf(stderr, "FAIL %s\n", #fn);                   \
		} else {                                                     \
			n_pass_++;                                           \
			fprintf(stderr, "ok   %s\n", #fn);                   \
		}                                                            \
	} while (0)
#define RILL_TEST_MAIN_END                                                   \
	fprintf(stderr, "%d passed, %d failed\n", n_pass_, n_fail_);         \
	return n_fail_ == 0 ? 0 : 1;                                         \
	}

#endif // RILL_TESTS_TEST_H
