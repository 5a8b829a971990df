// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// bench_proc: the processes and files around a run: starting rilld and the
// echo server as children (which die with us), stopping them by pid,
// temporary directories, free ports and the RSS of a child.
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

pid_t
rill_bench_spawn(char *const *argv, const char *log_path, char *err, size_t n)
{
	pid_t    parent = getpid();
	pid_t    pid;
	int      fd;
	sigset_t all;

	fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		rill_bench_errf(err, n, "%s: %s", log_path, strerror(errno));
		return -1;
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		rill_bench_errf(err, n, "fork: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (pid == 0) {
		// Die with the bench, so a crash or Ctrl-C leaves no server
		// behind; then undo what the bench set up for itself.
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent) {
			_exit(127);
		}
		// A group of its own: Ctrl-C reaches the bench alone, which
		// then stops the child in order.
		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execv(argv[0], argv);
		dprintf(
		    fd, "rill_bench: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fd);
	return pid;
}

bool
rill_bench_child_alive(pid_t pid, int *statusp)
{
	int status;

	if (waitpid(pid, &status, WNOHANG) == pid) {
		if (statusp != NULL) {
			*statusp = status;
		}
		return false;
	}
	return true;
}

int
rill_bench_stop(pid_t pid, uint64_t wait_ms)
{
	int      status;
	uint64_t end = rill_bench_now_ns() + wait_ms * 1000000u;

	if (waitpid(pid, &status, WNOHANG) == pid) {
		return status; // it had already gone
	}
	kill(pid, SIGTERM);
	while (rill_bench_now_ns() < end) {
		struct timespec ts = { 0, 10000000 };

		if (waitpid(pid, &status, WNOHANG) == pid) {
			return status;
		}
		nanosleep(&ts, NULL);
	}
	fprintf(stderr,
	    "rill_bench: pid %d ignored SIGTERM for %llu ms, "
	    "sending SIGKILL\n",
	    (int) pid, (unsigned long long) wait_ms);
	kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) == pid) {
		return status;
	}
	return -1;
}

void
rill_bench_describe_status(int status, char *buf, size_t n)
{
	if (status < 0) {
		snprintf(buf, n, "could not be reaped");
	} else if (WIFEXITED(status)) {
		snprintf(buf, n, "exited with status %d", WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		snprintf(buf, n, "was killed by signal %d (%s)",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	} else {
		snprintf(buf, n, "ended with wait status %#x", status);
	}
}

int
rill_bench_free_port(void)
{
	struct sockaddr_in sa;
	socklen_t          len = sizeof(sa);
	int                fd, port = -1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family      = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port        = 0;
	if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *) &sa, &len) == 0) {
		port = ntohs(sa.sin_port);
	}
	close(fd);
	return port;
}

int
rill_bench_self_path(char *buf, size_t n)
{
	ssize_t len = readlink("/proc/self/exe", buf, n - 1);

	if (len < 0 || (size_t) len >= n - 1) {
		return -1;
	}
	buf[len] = '\0';
	return 0;
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void) st;
	(void) flag;
	(void) f;
	if (remove(path) != 0) {
		fprintf(stderr, "rill_bench: cannot remove %s: %s\n", path,
		    strerror(errno));
	}
	return 0;
}

int
rill_bench_remove_tree(const char *path)
{
	return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

bool
rill_bench_is_tmpfs(const char *path)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && sf.f_type == TMPFS_MAGIC;
}

int
rill_bench_proc_rss(pid_t pid, uint64_t *rssp, uint64_t *peakp)
{
	char               path[64], line[256];
	FILE              *f;
	unsigned long long kb;
	int                found = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
	if ((f = fopen(path, "r")) == NULL) {
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "VmRSS: %llu kB", &kb) == 1) {
			*rssp = kb * 1024u;
			found |= 1;
		} else if (sscanf(line, "VmHWM: %llu kB", &kb) == 1) {
			*peakp = kb * 1024u;
			found |= 2;
		}
	}
	fclose(f);
	return found == 3 ? 0 : -1;
}

void
rill_bench_print_log_tail(const char *path, int n_lines)
{
	FILE *f;
	char  buf[8192];
	long  size, from;
	int   nl = 0;

	if ((f = fopen(path, "r")) == NULL) {
		return;
	}
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	from =
	    size > (long) sizeof(buf) - 1 ? size - (long) sizeof(buf) + 1 : 0;
	fseek(f, from, SEEK_SET);
	size = (long) fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[size] = '\0';
	// Walk back over the last n_lines line ends.
	for (from = size - 1; from > 0; from--) {
		if (buf[from - 1] == '\n' && ++nl >= n_lines) {
			break;
		}
	}
	if (from < 0) {
		from = 0;
	}
	fprintf(stderr, "--- last lines of %s ---\n%s", path, buf + from);
	if (size > 0 && buf[size - 1] != '\n') {
		fputc('\n', stderr);
	}
	fprintf(stderr, "---\n");
}
