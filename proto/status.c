// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// status: names and messages for the codes of RILL_STATUS_MAP, shared by the
// server and the SDK. The wire enum is checked against the table at compile
// time, so the two can never drift apart.
#include <rill/status.h>

#include "rill/v1/rill.pb-c.h"

#define CHECK_WIRE_(name, value, msg)                           \
	_Static_assert((int) RILL__V1__CODE__##name == (value), \
	    "wire code " #name " differs from rill.v1.Code");
RILL_WIRE_STATUS_MAP(CHECK_WIRE_)
#undef CHECK_WIRE_

const char *
rill_strerror(int code)
{
	switch (code) {
#define CASE_(name, value, msg) \
	case value:             \
		return msg;
		RILL_STATUS_MAP(CASE_)
#undef CASE_
	}
	return "unknown status code";
}

const char *
rill_status_name(int code)
{
	switch (code) {
#define CASE_(name, value, msg) \
	case value:             \
		return #name;
		RILL_STATUS_MAP(CASE_)
#undef CASE_
	}
	return "UNKNOWN_CODE";
}

int
rill_status_to_wire(int code)
{
	if (code >= 0 && code <= RILL_WIRE_CODE_MAX) {
		return code;
	}
	switch (code) {
	case RILL_ENOMEM:
		return RILL_RESOURCE_EXHAUSTED;
	case RILL_EIO:
	case RILL_ECORRUPT:
		return RILL_DATA_LOSS;
	case RILL_EPROTO:
		return RILL_INVALID_ARGUMENT;
	case RILL_ECLOSED:
		return RILL_UNAVAILABLE;
	case RILL_ENOENT:
		return RILL_NOT_FOUND;
	default:
		return RILL_INTERNAL;
	}
}
