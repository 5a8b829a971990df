// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// crc: CRC32C (Castagnoli), the checksum of every record and file header.
// It uses ISA-L's SSE4.2 code. rill_crc32c("123456789") is 0xe3069283.
#ifndef RILL_SERVICE_CRC_H
#define RILL_SERVICE_CRC_H

#include <stddef.h>
#include <stdint.h>

// rill_crc32c returns the CRC32C of buf[0..len).
uint32_t rill_crc32c(const void *buf, size_t len);
// rill_crc32c_extend continues crc (a previous result) over more bytes.
uint32_t rill_crc32c_extend(uint32_t crc, const void *buf, size_t len);

#endif // RILL_SERVICE_CRC_H
