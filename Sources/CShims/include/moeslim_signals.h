#ifndef MOE_SLIM_SIGNALS_H
#define MOE_SLIM_SIGNALS_H
#include <stddef.h>

/// Temporaries (files or folders beside a destination) that a termination signal or a fault must remove.
/// The registry is a fixed table the signal handlers read without locks or allocation.

/// Registers `path`, whose open descriptor `fd` holds its lock (closed when the slot is forgotten; -1 before
/// the path is created). Returns the slot, or -1 when the path is too long or the table is full.
int moeslim_temporary_register(const char *path, int fd);

/// Gives a slot registered before its path was created the descriptor that holds the path's lock.
void moeslim_temporary_adopt(int slot, int fd);

/// Forgets a slot without touching the file system (the temporary was renamed into place) and closes its fd.
void moeslim_temporary_forget(int slot);

/// Removes whatever is at the slot's path now (a folder's entries first), forgets it and closes its fd.
void moeslim_temporary_remove(int slot);

/// Removes the folder open as `fd` at `path`: its entries, then itself. 0 on success, -1 with errno set.
/// Our temporaries hold files only, so one level is enough; a subfolder makes it fail.
int moeslim_remove_folder_entries(int fd, const char *path);

/// Removes a file or link, or a folder of files, without following links. 0 on success, -1 with errno set.
int moeslim_remove_path(const char *path);

/// Mapped files, so that a SIGBUS (the file was truncated under its mapping) names the file.
/// Returns the slot, or -1 when the table is full (the fault then ends the process the default way).
int moeslim_mapping_register(const void *base, size_t length, const char *path);
void moeslim_mapping_unregister(int slot);

/// Installs the handlers: SIGINT, SIGTERM and SIGHUP remove the temporaries, print one line and exit
/// 128 + signal; SIGBUS inside a registered mapping removes them, names the file and exits 74 (EX_IOERR).
void moeslim_install_signal_handlers(void);

#endif
