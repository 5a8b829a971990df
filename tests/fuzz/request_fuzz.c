// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// request_fuzz: arbitrary bytes sent as one request to a real rill server
// running in this process (inproc://). Whatever the bytes, the server must
// answer with a Response that decodes, and must not crash, leak or hang.
// Built with -DRILL_LIBFUZZER it is a libFuzzer target; otherwise
// replay_main.c replays the files (or directories of files) named on the
// command line, which is how ctest runs the corpus. The server starts with
// the first input and stops at exit.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <rill/status.h>

#include "config.h"
#include "rill/v1/rill.pb-c.h"
#include "server.h"

static rill_server *server;
static rill_config  cfg;
static nng_socket   sock;
static char         dir[64];

static void
stop_server(void)
{
	char cmd[128];

	nng_close(sock);
	rill_server_close(server);
	rill_config_fini(&cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot remove %s\n", dir);
	}
}

static void
start_server(void)
{
	char  err[256];
	bool  help;
	char  data[96];
	char *argv[] = { "fuzz", "--data-dir", data, "--listen",
		"inproc://rill-fuzz", "--sync", "none", "--log-level", "err",
		"--admin-listen", "off", "--max-key-bytes", "64",
		"--max-value-bytes", "256", NULL };
	char *envp[] = { NULL };

	snprintf(dir, sizeof(dir), "/tmp/rill-fuzz-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		abort();
	}
	snprintf(data, sizeof(data), "%s/data", dir);
	if (rill_config_parse_args(
	        &cfg, 13, argv, envp, &help, err, sizeof(err)) != RILL_OK ||
	    rill_server_open(&server, &cfg) != RILL_OK) {
		fprintf(stderr, "cannot start the server: %s\n", err);
		abort();
	}
	if (nng_req0_open(&sock) != 0 ||
	    nng_dial(sock, "inproc://rill-fuzz", NULL, 0) != 0) {
		abort();
	}
	nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, 5000);
	atexit(stop_server);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Rill__V1__Response *resp;
	nng_msg            *msg;

	if (server == NULL) {
		start_server();
	}
	if (nng_msg_alloc(&msg, size) != 0) {
		abort();
	}
	if (size > 0) {
		memcpy(nng_msg_body(msg), data, size);
	}
	if (nng_sendmsg(sock, msg, 0) != 0 ||
	    nng_recvmsg(sock, &msg, 0) != 0) {
		fprintf(stderr, "no reply to a %zu-byte request\n", size);
		abort();
	}
	resp = rill__v1__response__unpack(
	    NULL, nng_msg_len(msg), nng_msg_body(msg));
	if (resp == NULL) {
		fprintf(stderr, "the reply does not decode\n");
		abort();
	}
	rill__v1__response__free_unpacked(resp, NULL);
	nng_msg_free(msg);
	return 0;
}
