// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// status: the codes every rill call returns, in the SDK, the server and on
// the wire. RILL_OK is 0. Codes 1 to 17 are the wire's rill.v1.Code values
// (gRPC's numbers plus NOT_LEADER), so a code crosses the wire unchanged.
// Codes from 100 on arise only locally and never travel.
#ifndef RILL_STATUS_H
#define RILL_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

// RILL_WIRE_STATUS_MAP(X) lists the codes that travel: X(NAME, value, msg).
#define RILL_WIRE_STATUS_MAP(X)                                        \
	X(OK, 0, "ok")                                                 \
	X(CANCELLED, 1, "cancelled")                                   \
	X(UNKNOWN, 2, "unknown error")                                 \
	X(INVALID_ARGUMENT, 3, "invalid argument")                     \
	X(DEADLINE_EXCEEDED, 4, "deadline exceeded")                   \
	X(NOT_FOUND, 5, "not found")                                   \
	X(ALREADY_EXISTS, 6, "already exists")                         \
	X(PERMISSION_DENIED, 7, "permission denied")                   \
	X(RESOURCE_EXHAUSTED, 8, "resource exhausted or over a limit") \
	X(FAILED_PRECONDITION, 9, "failed precondition")               \
	X(ABORTED, 10, "aborted")                                      \
	X(OUT_OF_RANGE, 11, "out of range")                            \
	X(UNIMPLEMENTED, 12, "not implemented")                        \
	X(INTERNAL, 13, "internal error")                              \
	X(UNAVAILABLE, 14, "unavailable")                              \
	X(DATA_LOSS, 15, "data loss or corruption")                    \
	X(UNAUTHENTICATED, 16, "unauthenticated")                      \
	X(NOT_LEADER, 17, "not the leader")

// RILL_LOCAL_STATUS_MAP(X) lists the codes that arise only on one side.
#define RILL_LOCAL_STATUS_MAP(X)                      \
	X(ENOMEM, 100, "out of memory")               \
	X(EIO, 101, "input/output error")             \
	X(ECORRUPT, 102, "damaged data on disk")      \
	X(EPROTO, 103, "malformed message from peer") \
	X(ELOCKED, 104, "already in use")             \
	X(ECLOSED, 105, "closed")                     \
	X(ENOENT, 106, "no such file or directory")   \
	X(EVERSION, 107, "written by a newer format version")

// RILL_STATUS_MAP(X) is the one table of every code.
#define RILL_STATUS_MAP(X) RILL_WIRE_STATUS_MAP(X) RILL_LOCAL_STATUS_MAP(X)

#define RILL_STATUS_ENUM_(name, value, msg) RILL_##name = value,
// enum rill_status: every code; functions return int holding one of them.
// (No typedef: rill_status is also the name of the SDK's status call.)
enum rill_status { RILL_STATUS_MAP(RILL_STATUS_ENUM_) };
#undef RILL_STATUS_ENUM_

// RILL_WIRE_CODE_MAX is the highest code that travels on the wire.
#define RILL_WIRE_CODE_MAX 17

// rill_strerror returns a static, human description of code; never NULL.
const char *rill_strerror(int code);

// rill_status_name returns the code's name ("NOT_FOUND"); never NULL.
const char *rill_status_name(int code);

// rill_status_to_wire maps any code to one that may travel: local codes
// become INTERNAL (EIO, ECORRUPT: DATA_LOSS; ENOMEM: RESOURCE_EXHAUSTED;
// EPROTO: INVALID_ARGUMENT; ECLOSED: UNAVAILABLE).
int rill_status_to_wire(int code);

#ifdef __cplusplus
}
#endif

#endif // RILL_STATUS_H
