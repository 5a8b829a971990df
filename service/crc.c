// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// crc: CRC32C through ISA-L. crc32_iscsi takes and returns the register
// without the final inversion, so the standard value is the inverted one.
#include "crc.h"

#include <isa-l/crc.h>

uint32_t
rill_crc32c_extend(uint32_t crc, const void *buf, size_t len)
{
	return crc32_iscsi(
	           (unsigned char *) buf, (int) len, crc ^ 0xFFFFFFFFu) ^
	    0xFFFFFFFFu;
}

uint32_t
rill_crc32c(const void *buf, size_t len)
{
	return rill_crc32c_extend(0, buf, len);
}
