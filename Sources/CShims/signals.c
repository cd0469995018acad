#define _GNU_SOURCE
#include "moeslim_signals.h"
#include "signals_private.h"
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { SLOT_FREE, SLOT_CLAIMED, SLOT_ACTIVE };
enum { MAPPING_SLOTS = 4096 };

struct mapping {
    atomic_int state;
    uintptr_t base;
    size_t length;
    char *path;
};

static struct mapping mappings[MAPPING_SLOTS];

int moeslim_mapping_register(const void *base, size_t length, const char *path) {
    char *copy = strdup(path);
    if (!copy) return -1;
    for (int i = 0; i < MAPPING_SLOTS; i++) {
        int expected = SLOT_FREE;
        if (!atomic_compare_exchange_strong(&mappings[i].state, &expected, SLOT_CLAIMED)) continue;
        mappings[i].base = (uintptr_t)base;
        mappings[i].length = length;
        mappings[i].path = copy;
        atomic_store(&mappings[i].state, SLOT_ACTIVE);
        return i;
    }
    free(copy);
    return -1;
}

void moeslim_mapping_unregister(int slot) {
    if (slot < 0 || slot >= MAPPING_SLOTS) return;
    int expected = SLOT_ACTIVE;
    if (!atomic_compare_exchange_strong(&mappings[slot].state, &expected, SLOT_CLAIMED)) return;
    free(mappings[slot].path);
    mappings[slot].path = NULL;
    atomic_store(&mappings[slot].state, SLOT_FREE);
}

static const char *mapped_file_at(uintptr_t address) {
    for (int i = 0; i < MAPPING_SLOTS; i++) {
        struct mapping *m = &mappings[i];
        if (atomic_load(&m->state) != SLOT_ACTIVE) continue;
        if (address >= m->base && address - m->base < m->length) return m->path;
    }
    return NULL;
}

static void write_all(const char *text) {
    size_t left = strlen(text);
    while (left > 0) {
        ssize_t n = write(STDERR_FILENO, text, left);
        if (n <= 0) return;
        text += n;
        left -= (size_t)n;
    }
}

/// One thread ends the process; any other that gets a signal meanwhile waits for it instead of racing it.
static atomic_flag exiting = ATOMIC_FLAG_INIT;
static int stderr_is_terminal;
static struct sigaction previous_bus_action;

static void wait_for_exit(void) {
    for (;;) pause();
}

/// _exit, not exit: atexit handlers (OpenBLAS frees its buffers under running threads) and stdio locks held by
/// the interrupted thread are how Ctrl-C used to crash or hang.
static void on_termination(int signal_number) {
    if (atomic_flag_test_and_set(&exiting)) wait_for_exit();
    moeslim_remove_temporaries_now();
    if (stderr_is_terminal) write_all("\r\033[K");
    write_all(signal_number == SIGINT ? "moe-slim: interrupted\n"
              : signal_number == SIGTERM ? "moe-slim: terminated\n" : "moe-slim: hangup\n");
    _exit(128 + signal_number);
}

/// A read of a mapped page past the end of a file truncated after it was mapped. Faults elsewhere are not
/// ours: the previous handler (Swift's backtracer, or the default) is put back and the fault repeats into it.
static void on_bus_error(int signal_number, siginfo_t *info, void *context) {
    (void)context;
    const char *path = mapped_file_at((uintptr_t)info->si_addr);
    if (!path) {
        sigaction(signal_number, &previous_bus_action, NULL);
        return;
    }
    if (atomic_flag_test_and_set(&exiting)) wait_for_exit();
    moeslim_remove_temporaries_now();
    if (stderr_is_terminal) write_all("\r\033[K");
    write_all("moe-slim: error: ");
    write_all(path);
    write_all(": the file changed or was truncated while it was being read\n");
    _exit(74);
}

void moeslim_install_signal_handlers(void) {
    stderr_is_terminal = isatty(STDERR_FILENO);
    struct sigaction termination;
    memset(&termination, 0, sizeof termination);
    termination.sa_handler = on_termination;
    sigemptyset(&termination.sa_mask);
    sigaddset(&termination.sa_mask, SIGINT);
    sigaddset(&termination.sa_mask, SIGTERM);
    sigaddset(&termination.sa_mask, SIGHUP);
    int signals[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        struct sigaction current;
        // A signal ignored by whoever started us (nohup, a background job) stays ignored.
        if (sigaction(signals[i], NULL, &current) == 0 && current.sa_handler == SIG_IGN) continue;
        sigaction(signals[i], &termination, NULL);
    }

    // A truncated file is not a stack overflow, so the faulting thread's own stack serves the handler; no
    // sigaltstack of our own (SA_ONSTACK uses one where the Swift runtime set it up).
    struct sigaction bus;
    memset(&bus, 0, sizeof bus);
    bus.sa_sigaction = on_bus_error;
    bus.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&bus.sa_mask);
    sigaction(SIGBUS, &bus, &previous_bus_action);
}
