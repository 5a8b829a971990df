// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// harness: fork and exec of rilld, readiness by polling Status through
// the SDK, stop by pid.
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rill/rill.h>

int
rill_test_free_port(void)
{
	struct sockaddr_in sa  = { .sin_family = AF_INET };
	socklen_t          len = sizeof(sa);
	int                fd  = socket(AF_INET, SOCK_STREAM, 0);
	int                port;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *) &sa, &len) != 0) {
		perror("free port");
		abort();
	}
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

void
rill_test_tmpdir(char *buf, size_t n, const char *tag)
{
	snprintf(buf, n, "/tmp/rill-%s-XXXXXX", tag);
	if (mkdtemp(buf) == NULL) {
		perror("mkdtemp");
		abort();
	}
}

void
rill_test_rm_rf(const char *path)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0) {
		fprintf(stderr, "harness: cannot remove %s\n", path);
	}
}

const char *
rill_test_rilld_path(void)
{
	const char *p = getenv("RILLD");
	return p != NULL ? p : RILLD_PATH;
}

void
rill_test_server_init(rill_test_server *srv, const char *tag)
{
	char dir[200];

	memset(srv, 0, sizeof(*srv));
	rill_test_tmpdir(dir, sizeof(dir), tag);
	snprintf(srv->data_dir, sizeof(srv->data_dir), "%s/data", dir);
	snprintf(srv->log_path, sizeof(srv->log_path), "%s/rilld.log", dir);
	srv->port = rill_test_free_port();
	snprintf(srv->url, sizeof(srv->url), "tcp://127.0.0.1:%d", srv->port);
	srv->pid = -1;
}

static bool
answers_status(const rill_test_server *srv)
{
	rill_client     *c;
	rill_options     o;
	rill_node_status st;
	int              rv;

	rill_options_init(&o);
	o.deadline_ms        = 200;
	o.attempt_timeout_ms = 200;
	o.reconnect_min_ms   = 10;
	o.reconnect_max_ms   = 50;
	if (rill_open(&c, srv->url, &o) != RILL_OK) {
		return false;
	}
	rv = rill_status(c, &st, NULL);
	rill_close(c);
	return rv == RILL_OK;
}

bool
rill_test_server_start(
    rill_test_server *srv, const char *const *args, const char *const *env)
{
	const char *argv[64];
	int         argc = 0;
	pid_t       pid;

	argv[argc++] = rill_test_rilld_path();
	argv[argc++] = "--data-dir";
	argv[argc++] = srv->data_dir;
	argv[argc++] = "--listen";
	argv[argc++] = srv->url;
	// Tests that use the admin API name its port; the others must not
	// collide on the default one.
	argv[argc++] = "--admin-listen";
	argv[argc++] = "127.0.0.1:0";
	for (int i = 0; args != NULL && args[i] != NULL && argc < 62; i++) {
		argv[argc++] = args[i];
	}
	argv[argc] = NULL;

	if ((pid = fork()) < 0) {
		perror("fork");
		abort();
	}
	if (pid == 0) {
		int fd = open(srv->log_path,
		    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd >= 0) {
			dup2(fd, STDERR_FILENO);
		}
		for (int i = 0; env != NULL && env[i] != NULL; i++) {
			putenv((char *) env[i]);
		}
		// Leak reports of a server killed on purpose are noise.
		setenv("ASAN_OPTIONS", "detect_leaks=0", 0);
		execv(argv[0], (char *const *) argv);
		_exit(127);
	}
	srv->pid = pid;
	for (int i = 0; i < 400; i++) {
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			srv->pid = -1;
			return false;
		}
		if (answers_status(srv)) {
			return true;
		}
		struct timespec ts = { 0, 50 * 1000000L };
		nanosleep(&ts, NULL); // back-off between polls
	}
	return false;
}

int
rill_test_server_stop(rill_test_server *srv, int sig)
{
	int status = -1;

	if (srv->pid <= 0) {
		return -1;
	}
	kill(srv->pid, sig);
	while (waitpid(srv->pid, &status, 0) < 0 && errno == EINTR) { }
	srv->pid = -1;
	return status;
}

void
rill_test_server_cleanup(rill_test_server *srv)
{
	char  dir[256];
	char *slash;

	rill_test_server_stop(srv, SIGKILL);
	snprintf(dir, sizeof(dir), "%s", srv->data_dir);
	if ((slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		rill_test_rm_rf(dir);
	}
}

bool
rill_test_log_contains(const rill_test_server *srv, const char *text)
{
	FILE *f = fopen(srv->log_path, "r");
	char  line[4096];
	bool  found = false;

	if (f == NULL) {
		return false;
	}
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		found = strstr(line, text) != NULL;
	}
	fclose(f);
	return found;
}
