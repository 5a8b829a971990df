// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// le: little-endian stores and loads, the byte order of every file rill
// writes (segments, snapshots).
#ifndef RILL_SERVICE_LE_H
#define RILL_SERVICE_LE_H

#include <stdint.h>

static inline void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
	p[2] = (uint8_t) (v >> 16);
	p[3] = (uint8_t) (v >> 24);
}

static inline void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t) v);
	put32(p + 4, (uint32_t) (v >> 32));
}

static inline uint32_t
get32(const uint8_t *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
	    (uint32_t) p[3] << 24;
}

static inline uint64_t
get64(const uint8_t *p)
{
	return (uint64_t) get32(p) | (uint64_t) get32(p + 4) << 32;
}

#endif // RILL_SERVICE_LE_H
