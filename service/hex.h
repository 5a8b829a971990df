// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// hex: the 16 lowercase hex digits that name what rill keeps by number
// (segments, snapshots, generations) and identify it in the admin API.
// Upper case is refused, so that each number has one name.
#ifndef RILL_SERVICE_HEX_H
#define RILL_SERVICE_HEX_H

#include <stdbool.h>
#include <stdint.h>

// rill_hex16_parse reads exactly 16 lowercase hex digits from s (which
// must hold 16 bytes, or a string that ends before a non-digit) into *vp.
// It reads no further and leaves *vp alone when it returns false.
static inline bool
rill_hex16_parse(const char *s, uint64_t *vp)
{
	uint64_t v = 0;

	for (int i = 0; i < 16; i++) {
		char c = s[i];
		int  d;

		if (c >= '0' && c <= '9') {
			d = c - '0';
		} else if (c >= 'a' && c <= 'f') {
			d = c - 'a' + 10;
		} else {
			return false;
		}
		v = v << 4 | (uint64_t) d;
	}
	*vp = v;
	return true;
}

#endif // RILL_SERVICE_HEX_H
