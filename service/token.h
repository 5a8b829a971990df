// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// token: the check of a bearer token against the ones a node accepts,
// shared by the admin API (Authorization header) and the RPC server (the
// request envelope's auth_token).
#ifndef RILL_SERVICE_TOKEN_H
#define RILL_SERVICE_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

// rill_token_equal compares in time that depends on the accepted token's
// length only, never on where the first difference is.
static inline bool
rill_token_equal(const char *got, size_t got_len, const char *want)
{
	size_t   want_len = strlen(want);
	unsigned diff     = got_len != want_len;

	for (size_t i = 0; i < want_len; i++) {
		unsigned char g = i < got_len ? (unsigned char) got[i] : 0;
		diff |= g ^ (unsigned char) want[i];
	}
	return diff == 0;
}

// rill_token_accepted tells whether got[0..got_len) is one of the n
// tokens. Every token is compared, so the time taken does not tell which
// one nearly matched. With no tokens, nothing is accepted: the caller
// decides what having none means.
static inline bool
rill_token_accepted(
    const char *const *tokens, size_t n, const char *got, size_t got_len)
{
	bool ok = false;

	for (size_t i = 0; i < n; i++) {
		ok |= rill_token_equal(got, got_len, tokens[i]);
	}
	return ok;
}

#endif // RILL_SERVICE_TOKEN_H
