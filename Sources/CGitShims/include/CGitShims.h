#pragma once
#include <stddef.h>

/// Non-variadic wrappers for git_libgit2_opts, which Swift cannot call (it is variadic).
int lvx_git_set_search_path(int level, const char *path);
int lvx_git_set_owner_validation(int enabled);
int lvx_git_set_fsync_gitdir(int enabled);
