#ifndef MOE_SLIM_CSHIMS_H
#define MOE_SLIM_CSHIMS_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "moeslim_signals.h"

/// Kernel-side copy between files (Linux copy_file_range); returns bytes copied or -1 with errno set.
/// Glibc declares it only under _GNU_SOURCE, which Swift's Glibc module does not define.
ssize_t moeslim_copy_file_range(int fd_in, int64_t *off_in, int fd_out, int64_t *off_out, size_t len);

/// Atomically swaps two paths (renameat2 RENAME_EXCHANGE); -1 with errno set where unsupported.
int moeslim_rename_exchange(const char *from, const char *to);

/// Replaces `to` only if it does not exist (renameat2 RENAME_NOREPLACE); -1 with errno set otherwise.
int moeslim_rename_noreplace(const char *from, const char *to);

#endif
