#pragma once
#include <stddef.h>

typedef struct git_odb git_odb;

/// Non-variadic wrappers for git_libgit2_opts, which Swift cannot call (it is variadic).
int lvx_git_set_search_path(int level, const char *path);
int lvx_git_set_owner_validation(int enabled);
int lvx_git_set_fsync_gitdir(int enabled);

/// An object database that sees only the packs in `objects_dir/pack` (no loose objects), for
/// pruning loose objects that a pack already holds. Free it with git_odb_free.
int lvx_git_odb_new_packs_only(git_odb **out, const char *objects_dir);
