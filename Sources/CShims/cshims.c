#define _GNU_SOURCE
#include "cshims.h"
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <errno.h>

ssize_t moeslim_copy_file_range(int fd_in, int64_t *off_in, int fd_out, int64_t *off_out, size_t len) {
#ifdef __linux__
    loff_t in = *off_in;
    loff_t out_value = off_out ? *off_out : 0;
    ssize_t n = copy_file_range(fd_in, &in, fd_out, off_out ? &out_value : NULL, len, 0);
    if (n > 0) {
        *off_in = in;
        if (off_out) *off_out = out_value;
    }
    return n;
#else
    errno = ENOSYS;
    return -1;
#endif
}

int moeslim_rename_exchange(const char *from, const char *to) {
#ifdef __linux__
    return renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_EXCHANGE);
#else
    errno = ENOSYS;
    return -1;
#endif
}

int moeslim_rename_noreplace(const char *from, const char *to) {
#ifdef __linux__
    return renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
#else
    errno = ENOSYS;
    return -1;
#endif
}
