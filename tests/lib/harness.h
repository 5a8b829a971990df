// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// harness: real rilld processes for integration tests. A server is started
// on a free loopback port with a fresh data dir, waited for by polling its
// Status RPC (never by sleeping), and stopped by its pid.
#ifndef RILL_TESTS_HARNESS_H
#define RILL_TESTS_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <rill/v1/rill.pb-c.h>

typedef struct rill_test_server {
	pid_t pid;
	int   port;
	char  url[64];
	char  data_dir[256];
	char  log_path[300];
	long  log_start;  // size of log_path when the server last started
	int   admin_port; // 0 until rill_test_server_admin_port finds it
} rill_test_server;

// rill_test_free_port returns a loopback TCP port nobody listens on.
int rill_test_free_port(void);

// rill_test_tmpdir makes a fresh directory under /tmp into buf.
void rill_test_tmpdir(char *buf, size_t n, const char *tag);

// rill_test_rm_rf removes a directory tree.
void rill_test_rm_rf(const char *path);

// rill_test_server_init picks a port and a fresh data dir for srv.
void rill_test_server_init(rill_test_server *srv, const char *tag);

// rill_test_server_start runs rilld on srv's port and data dir, with the
// extra arguments (NULL-terminated; may be NULL) and environment entries
// ("NAME=value", NULL-terminated; may be NULL). Its stderr goes to
// srv->log_path. It returns true once the server answers Status, false if
// it exited or did not answer within 20 s.
bool rill_test_server_start(
    rill_test_server *srv, const char *const *args, const char *const *env);

// RILL_TEST_STOP_WAIT_MS bounds the wait for a server to exit after a
// stop signal: a sanitizer build on a busy machine takes seconds.
#define RILL_TEST_STOP_WAIT_MS 60000

// rill_test_server_stop sends sig to the server and waits for it; it
// returns the exit status as from waitpid (-1 if not running). A server
// still running RILL_TEST_STOP_WAIT_MS after the signal is a hang: its
// threads' stacks go to stderr, it is killed, and -1 is returned.
int rill_test_server_stop(rill_test_server *srv, int sig);

// rill_test_server_cleanup stops a running server with SIGKILL and removes
// its data dir, unless RILL_TEST_KEEP is set (to read the logs after).
void rill_test_server_cleanup(rill_test_server *srv);

// rill_test_log_contains tells whether the server's stderr holds text.
bool rill_test_log_contains(const rill_test_server *srv, const char *text);

// rill_test_log_contains_since_start tells whether the server's stderr
// holds text in what it wrote since it was last started.
bool rill_test_log_contains_since_start(
    const rill_test_server *srv, const char *text);

// rill_test_server_admin_port returns the port of the server's admin API,
// read from its "ADMIN-LISTEN ... (port N" log line of this start (it
// waits up to 20 s for the line), or -1 if there is none.
int rill_test_server_admin_port(rill_test_server *srv);

// rill_test_http sends one HTTP/1.0 request with an empty body to the
// admin API on 127.0.0.1:port and copies the reply's body into body (cap
// bytes with the NUL; may be NULL). It returns the HTTP status, or -1
// when there was no well-formed reply within 10 s.
int rill_test_http(
    int port, const char *method, const char *path, char *body, size_t cap);

// rill_test_rpc sends req to url as one nng message over a REQ socket of
// its own and unpacks the answer into *respp (free it with
// rill__v1__response__free_unpacked). It returns false when the node
// cannot be reached or sends nothing decodable within wait_ms.
bool rill_test_rpc(const char *url, Rill__V1__Request *req,
    Rill__V1__Response **respp, int wait_ms);

// rill_test_rilld_path returns the rilld binary under test.
const char *rill_test_rilld_path(void);

#endif // RILL_TESTS_HARNESS_H
