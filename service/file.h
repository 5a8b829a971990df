// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// file: the few file-system steps every durable file goes through. A file
// that must appear whole is written to a temporary name, fsynced, renamed,
// and its directory fsynced. Errors are logged here, naming the path, and
// returned as RILL_EIO (or RILL_ENOENT for a missing file).
#ifndef RILL_SERVICE_FILE_H
#define RILL_SERVICE_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

// rill_file_write_atomic replaces path with data[0..len) so that a crash
// leaves either the old file or the new one, never a mix.
int rill_file_write_atomic(const char *path, const void *data, size_t len);

// rill_file_read_all reads the whole file at path (at most max_len bytes)
// into *datap (free with rill_free) and its length into *lenp.
int rill_file_read_all(
    const char *path, size_t max_len, uint8_t **datap, size_t *lenp);

// rill_fsync_dir makes the entries of the directory at path durable.
int rill_fsync_dir(const char *path);

// rill_mkdirs creates path and its missing parents (mode 0755); each
// directory it creates is made durable in its parent (fsync of the parent).
int rill_mkdirs(const char *path);

// rill_path_join writes "a/b" into buf of size n; it returns RILL_EIO
// (after logging) if the result does not fit.
int rill_path_join(char *buf, size_t n, const char *a, const char *b);

// rill_path_printf formats a path into buf of size n; it returns RILL_EIO
// (after logging) if the result does not fit.
int rill_path_printf(char *buf, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

// rill_write_full and rill_pwrite_full write all n bytes (retrying short
// writes and EINTR); they return 0, or -1 with errno set.
int rill_write_full(int fd, const void *buf, size_t n);
int rill_pwrite_full(int fd, const void *buf, size_t n, uint64_t off);
// rill_pread_full reads n bytes at off, retrying short reads; it returns
// the bytes read (fewer at the end of the file) or -1 with errno set.
ssize_t rill_pread_full(int fd, void *buf, size_t n, uint64_t off);

// rill_remove_tree removes path and everything under it (symbolic links
// are removed, never followed). Failures are logged; a missing path is
// fine.
void rill_remove_tree(const char *path);

#endif // RILL_SERVICE_FILE_H
