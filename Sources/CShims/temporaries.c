#define _GNU_SOURCE
#include "moeslim_signals.h"
#include "signals_private.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { SLOT_FREE, SLOT_CLAIMED, SLOT_ACTIVE };
enum { TEMPORARY_SLOTS = 32 };
static const char aside_suffix[] = ".removing";

/// Paths are copied into the table (no allocation is safe in a handler); `aside` is precomputed for the same
/// reason.
struct temporary {
    atomic_int state;
    int fd;
    char path[PATH_MAX];
    char aside[PATH_MAX + sizeof aside_suffix];
};

static struct temporary temporaries[TEMPORARY_SLOTS];

int moeslim_temporary_register(const char *path, int fd) {
    size_t length = strlen(path);
    if (length >= PATH_MAX) return -1;
    for (int i = 0; i < TEMPORARY_SLOTS; i++) {
        int expected = SLOT_FREE;
        if (!atomic_compare_exchange_strong(&temporaries[i].state, &expected, SLOT_CLAIMED)) continue;
        struct temporary *t = &temporaries[i];
        t->fd = fd;
        memcpy(t->path, path, length + 1);
        memcpy(t->aside, path, length);
        memcpy(t->aside + length, aside_suffix, sizeof aside_suffix);
        atomic_store(&t->state, SLOT_ACTIVE);
        return i;
    }
    return -1;
}

void moeslim_temporary_adopt(int slot, int fd) {
    if (slot < 0 || slot >= TEMPORARY_SLOTS) return;
    temporaries[slot].fd = fd;
}

void moeslim_temporary_forget(int slot) {
    if (slot < 0 || slot >= TEMPORARY_SLOTS) return;
    struct temporary *t = &temporaries[slot];
    int expected = SLOT_ACTIVE;
    if (!atomic_compare_exchange_strong(&t->state, &expected, SLOT_CLAIMED)) return;
    if (t->fd >= 0) close(t->fd);
    atomic_store(&t->state, SLOT_FREE);
}

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

int moeslim_remove_folder_entries(int fd, const char *path) {
    char buffer[4096];
    if (lseek(fd, 0, SEEK_SET) < 0) return -1;
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buffer, sizeof buffer);
        if (n < 0) return -1;
        if (n == 0) break;
        for (long offset = 0; offset < n;) {
            struct linux_dirent64 *entry = (struct linux_dirent64 *)(buffer + offset);
            offset += entry->d_reclen;
            const char *name = entry->d_name;
            if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
            if (unlinkat(fd, name, 0) != 0 && errno != ENOENT) return -1;
        }
    }
    return rmdir(path);
}

int moeslim_remove_path(const char *path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return unlink(path);
    int result = moeslim_remove_folder_entries(fd, path);
    int saved = errno;
    close(fd);
    errno = saved;
    return result;
}

/// Async-signal-safe. The writing thread keeps running while a handler removes its folder: renaming the folder
/// aside first makes its later creates fail, and repeating catches a create that was already under way.
/// Removal goes by path, not by the lock's descriptor: just after a swap into place, the path holds the
/// previous output and the descriptor the new one.
void moeslim_remove_temporaries_now(void) {
    for (int i = 0; i < TEMPORARY_SLOTS; i++) {
        struct temporary *t = &temporaries[i];
        if (atomic_load(&t->state) != SLOT_ACTIVE) continue;
        const char *target = rename(t->path, t->aside) == 0 ? t->aside : t->path;
        for (int attempt = 0; attempt < 100; attempt++) {
            if (moeslim_remove_path(target) == 0 || errno == ENOENT) break;
        }
    }
}

void moeslim_temporary_remove(int slot) {
    if (slot < 0 || slot >= TEMPORARY_SLOTS) return;
    struct temporary *t = &temporaries[slot];
    if (atomic_load(&t->state) != SLOT_ACTIVE) return;
    moeslim_remove_path(t->path);
    moeslim_temporary_forget(slot);
}
