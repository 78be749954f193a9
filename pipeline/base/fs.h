/* Files and directories: mkdir -p, reading a whole file, and text outputs
 * written atomically (temporary name, fsync, rename), as every output of
 * attnmix is. HDF5 outputs have the same protocol in h5/h5io.h. */
#ifndef AM_FS_H
#define AM_FS_H

#include <stddef.h>
#include <stdio.h>

#include "base/error.h"

/* mkdir -p: create path and its missing parents. */
int am_mkdirs(const char *path, am_err *e);

/* 1 if path exists (any kind of file), else 0. */
int am_exists(const char *path);
/* 1 if path is a directory, else 0. */
int am_is_dir(const char *path);
/* Copy the file src to dst (created or truncated). */
int am_copy_file(const char *src, const char *dst, am_err *e);
/* pwrite all n bytes of buf at offset off, retrying short writes and EINTR:
 * 0, or -1 with errno set. */
int am_pwrite_all(int fd, const void *buf, size_t n, long long off);

/* FNV-1a fingerprint of a file's bytes as 16 hex digits (base/hash.h). */
int am_file_fingerprint(const char *path, char hex[17], am_err *e);

/* Read all of path into *buf (malloc'd, NUL-terminated; *len bytes before
 * the NUL). what names the file in messages ("the configuration"). */
int am_read_file(const char *path, const char *what, char **buf, size_t *len, am_err *e);
/* Read all of an open stream (stdin) the same way; name is for messages. */
int am_read_stream(FILE *f, const char *name, char **buf, size_t *len, am_err *e);

/* Temporary name of an output being written: "<path>.tmp-<pid>", and the
 * lock "<tmp>.lock" that marks its writer alive (held until the file is
 * renamed, am_commit_file, or removed, am_tmp_release). */
int am_tmp_name(const char *path, char *tmp, size_t n, am_err *e);
/* The writer of tmp is done (renamed or removed it): drop its lock. */
void am_tmp_release(const char *tmp);
/* Remove "<path>.tmp-<pid>" files left by writers that are gone: the writer
 * holds flock(LOCK_EX) on "<tmp>.lock" while it writes (am_tmp_name), so a
 * temporary file whose lock can be taken (or that has none) is stale. A
 * file system without flock support leaves such files alone. */
void am_remove_stale_tmp(const char *path);
/* Make a written file's bytes durable (fsync) and give it its name. */
int am_commit_file(const char *tmp, const char *path, am_err *e);

/* A text output being written: f writes "<path>.tmp-<pid>"; commit flushes,
 * fsyncs and renames it onto path; abort removes it. */
typedef struct am_file_out {
    FILE *f;
    char path[4096];
    char tmp[4200];
} am_file_out;
int am_file_out_create(am_file_out *o, const char *path, am_err *e);
int am_file_out_commit(am_file_out *o, am_err *e);
void am_file_out_abort(am_file_out *o);

#endif
