// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// file: temporary name, fsync, rename, fsync of the directory.
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rill/status.h>

#include "diag.h"
#include "mem.h"

static int
io_error(const char *what, const char *path)
{
	rill_diag_err("FILE-IO", "%s %s: %s", what, path, strerror(errno));
	return errno == ENOENT ? RILL_ENOENT : RILL_EIO;
}

int
rill_fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		return io_error("open directory", path);
	}
	if (fsync(fd) != 0) {
		int rv = io_error("fsync directory", path);
		close(fd);
		return rv;
	}
	close(fd);
	return RILL_OK;
}

int
rill_file_write_atomic(const char *path, const void *data, size_t len)
{
	char tmp[PATH_MAX];
	char dir[PATH_MAX];
	int  fd;
	int  rv;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int) sizeof(tmp) ||
	    snprintf(dir, sizeof(dir), "%s", path) >= (int) sizeof(dir)) {
		rill_diag_err("FILE-IO", "path too long: %s", path);
		return RILL_EIO;
	}
	char *slash = strrchr(dir, '/');
	if (slash == NULL) {
		strcpy(dir, ".");
	} else if (slash == dir) {
		dir[1] = '\0';
	} else {
		*slash = '\0';
	}

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		return io_error("create", tmp);
	}
	if (rill_write_full(fd, data, len) != 0) {
		rv = io_error("write", tmp);
		goto out_unlink;
	}
	if (fsync(fd) != 0) {
		rv = io_error("fsync", tmp);
		goto out_unlink;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path) != 0) {
		rv = io_error("rename into place", path);
		goto out_unlink;
	}
	return rill_fsync_dir(dir);

out_unlink:
	if (fd >= 0) {
		close(fd);
	}
	unlink(tmp);
	return rv;
}

int
rill_file_read_all(
    const char *path, size_t max_len, uint8_t **datap, size_t *lenp)
{
	struct stat st;
	uint8_t    *data;
	size_t      got = 0;
	int         fd  = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		return errno == ENOENT ? RILL_ENOENT : io_error("open", path);
	}
	if (fstat(fd, &st) != 0) {
		int rv = io_error("stat", path);
		close(fd);
		return rv;
	}
	if ((size_t) st.st_size > max_len) {
		rill_diag_err("FILE-IO",
		    "%s: %lld bytes, more than %zu allowed", path,
		    (long long) st.st_size, max_len);
		close(fd);
		return RILL_ECORRUPT;
	}
	if ((data = rill_alloc((size_t) st.st_size + 1)) == NULL) {
		close(fd);
		return RILL_ENOMEM;
	}
	while (got < (size_t) st.st_size) {
		ssize_t n = read(fd, data + got, (size_t) st.st_size - got);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			int rv = io_error("read", path);
			rill_free(data);
			close(fd);
			return rv == RILL_OK ? RILL_EIO : rv;
		}
		got += (size_t) n;
	}
	close(fd);
	data[got] = 0;
	*datap    = data;
	*lenp     = got;
	return RILL_OK;
}

// make_dir creates the directory path unless it exists, and makes a new
// one durable in its parent.
static int
make_dir(char *path)
{
	char *slash;
	int   rv;

	if (mkdir(path, 0755) != 0) {
		return errno == EEXIST ? RILL_OK : io_error("mkdir", path);
	}
	if ((slash = strrchr(path, '/')) == NULL) {
		return rill_fsync_dir(".");
	}
	if (slash == path) {
		return rill_fsync_dir("/");
	}
	*slash = '\0';
	rv     = rill_fsync_dir(path);
	*slash = '/';
	return rv;
}

int
rill_mkdirs(const char *path)
{
	char buf[PATH_MAX];
	int  rv;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int) sizeof(buf)) {
		rill_diag_err("FILE-IO", "path too long: %s", path);
		return RILL_EIO;
	}
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/') {
			continue;
		}
		*p = '\0';
		rv = make_dir(buf);
		*p = '/';
		if (rv != RILL_OK) {
			return rv;
		}
	}
	return make_dir(buf);
}

int
rill_path_join(char *buf, size_t n, const char *a, const char *b)
{
	if (snprintf(buf, n, "%s/%s", a, b) >= (int) n) {
		rill_diag_err("FILE-IO", "path too long: %s/%s", a, b);
		return RILL_EIO;
	}
	return RILL_OK;
}

static int
remove_entry(
    const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void) st;
	(void) flag;
	(void) ftw;
	if (remove(path) != 0 && errno != ENOENT) {
		rill_diag_warn("FILE-REMOVE", "cannot remove %s: %s", path,
		    strerror(errno));
	}
	return 0;
}

void
rill_remove_tree(const char *path)
{
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int
rill_path_printf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	int     len;

	va_start(ap, fmt);
	len = vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t) len >= n) {
		rill_diag_err("FILE-PATH",
		    "path too long for a %zu-byte buffer: %s...", n, buf);
		return RILL_EIO;
	}
	return RILL_OK;
}

int
rill_write_full(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w < 0) {
			return -1;
		}
		p += w;
		n -= (size_t) w;
	}
	return 0;
}

int
rill_pwrite_full(int fd, const void *buf, size_t n, uint64_t off)
{
	const uint8_t *p = buf;

	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, (off_t) off);
		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w < 0) {
			return -1;
		}
		p += w;
		n -= (size_t) w;
		off += (uint64_t) w;
	}
	return 0;
}

ssize_t
rill_pread_full(int fd, void *buf, size_t n, uint64_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(
		    fd, (uint8_t *) buf + got, n - got, (off_t) (off + got));
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r < 0) {
			return -1;
		}
		if (r == 0) {
			break;
		}
		got += (size_t) r;
	}
	return (ssize_t) got;
}
