#include "CGitShims.h"
#include <git2.h>
#include <git2/sys/odb_backend.h>

int lvx_git_set_search_path(int level, const char *path) {
    return git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, path);
}

int lvx_git_set_owner_validation(int enabled) {
    return git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, enabled);
}

int lvx_git_set_fsync_gitdir(int enabled) {
    return git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, enabled);
}

int lvx_git_odb_new_packs_only(git_odb **out, const char *objects_dir) {
    git_odb *odb = NULL;
    git_odb_backend *backend = NULL;
    int error = git_odb_new(&odb);
    if (error < 0) return error;
    error = git_odb_backend_pack(&backend, objects_dir);
    if (error < 0) { git_odb_free(odb); return error; }
    error = git_odb_add_backend(odb, backend, 1);
    if (error < 0) { backend->free(backend); git_odb_free(odb); return error; }
    *out = odb;
    return 0;
}
