#define _GNU_SOURCE
#include "CSpawn.h"

int orderly_spawn_setsid_flag(void) { return POSIX_SPAWN_SETSID; }

int orderly_spawn_close_from(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

int orderly_spawn_chdir(posix_spawn_file_actions_t *actions, const char *directory) {
    return posix_spawn_file_actions_addchdir_np(actions, directory);
}
