#ifndef ORDERLY_CSPAWN_H
#define ORDERLY_CSPAWN_H

// What glibc's spawn.h offers only to GNU sources, which Swift's Glibc module is not.
#include <spawn.h>

/// POSIX_SPAWN_SETSID: the child leads a new session and process group.
int orderly_spawn_setsid_flag(void);

/// posix_spawn_file_actions_addclosefrom_np: the child closes every descriptor from `from` on.
int orderly_spawn_close_from(posix_spawn_file_actions_t *actions, int from);

/// posix_spawn_file_actions_addchdir_np: the child starts in `directory`.
int orderly_spawn_chdir(posix_spawn_file_actions_t *actions, const char *directory);

#endif
