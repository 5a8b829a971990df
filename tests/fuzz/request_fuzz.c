// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// request_fuzz: arbitrary bytes sent as one request to a real rill server
// running in this process (inproc://). Whatever the bytes, the server must
// answer with a Response that decodes, and must not crash, leak or hang.
// Built with -DRILL_LIBFUZZER it is a libFuzzer target; otherwise main
// replays the files (or directories of files) named on the command line,
// which is how ctest runs the corpus.
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
		"--max-key-bytes", "64", "--max-value-bytes", "256", NULL };
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

#ifndef RILL_LIBFUZZER
static int
replay_file(const char *path)
{
	FILE    *f = fopen(path, "rb");
	uint8_t *buf;
	long     n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0) {
		fprintf(stderr, "cannot read %s\n", path);
		return 1;
	}
	rewind(f);
	if ((buf = malloc((size_t) n + 1)) == NULL ||
	    fread(buf, 1, (size_t) n, f) != (size_t) n) {
		fprintf(stderr, "cannot read %s\n", path);
		return 1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t) n);
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	int n = 0;

	for (int i = 1; i < argc; i++) {
		struct stat    st;
		DIR           *d;
		struct dirent *e;
		char           path[4096];

		if (stat(argv[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
			if (replay_file(argv[i]) != 0) {
				return 1;
			}
			n++;
			continue;
		}
		if ((d = opendir(argv[i])) == NULL) {
			return 1;
		}
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.') {
				continue;
			}
			snprintf(
			    path, sizeof(path), "%s/%s", argv[i], e->d_name);
			if (replay_file(path) != 0) {
				closedir(d);
				return 1;
			}
			n++;
		}
		closedir(d);
	}
	fprintf(stderr, "%d passed, 0 failed\n", n);
	return 0;
}
#endif
