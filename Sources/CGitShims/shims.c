#define _GNU_SOURCE
#include "CGitShims.h"
#include <dlfcn.h>
#include <git2.h>
#include <git2/sys/odb_backend.h>
#include <stdatomic.h>
#include <string.h>

int lvx_git_set_search_path(int level, const char *path) {
    return git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, path);
}

int lvx_git_set_owner_validation(int enabled) {
    return git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, enabled);
}

int lvx_git_set_fsync_gitdir(int enabled) {
    return git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, enabled);
}

int lvx_git_set_memory_limits(long long cache_bytes, long long mapped_bytes) {
    int code = git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, (ssize_t)cache_bytes);
    if (code < 0) return code;
    code = git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, (size_t)(mapped_bytes / 4));
    if (code < 0) return code;
    return git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, (size_t)mapped_bytes);
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

/* Deferring the CA bundle. libgit2 calls mbedtls_x509_crt_parse_file through its PLT, so this
 * definition in the executable is found before libmbedx509's. Outside
 * lvx_git_init_without_ca_bundle it forwards every call to the real function unchanged. */

struct mbedtls_x509_crt;
typedef int (*lvx_parse_file_fn)(struct mbedtls_x509_crt *, const char *);

static atomic_int deferring = 0;
static char deferred_path[4096];
static atomic_int deferred = 0;

int mbedtls_x509_crt_parse_file(struct mbedtls_x509_crt *chain, const char *path) {
    if (atomic_load(&deferring) && path != NULL && strlen(path) < sizeof(deferred_path)) {
        strcpy(deferred_path, path);
        atomic_store(&deferred, 1);
        return 0; /* an empty chain: nothing can be verified until the file is loaded */
    }
    lvx_parse_file_fn real = (lvx_parse_file_fn)dlsym(RTLD_NEXT, "mbedtls_x509_crt_parse_file");
    if (real == NULL) return -0x2900; /* MBEDTLS_ERR_X509_FILE_IO_ERROR */
    return real(chain, path);
}

int lvx_git_init_without_ca_bundle(void) {
    /* `deferred` is not cleared here: an initialisation that is not the first parses nothing, and
     * a load still pending from the first must stay pending. */
    atomic_store(&deferring, 1);
    int count = git_libgit2_init();
    atomic_store(&deferring, 0);
    return count;
}

const char *lvx_git_deferred_ca_bundle(void) {
    return atomic_load(&deferred) ? deferred_path : NULL;
}

int lvx_git_load_deferred_ca_bundle(void) {
    if (!atomic_load(&deferred)) return 0;
    int error = git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, deferred_path, NULL);
    if (error == 0) atomic_store(&deferred, 0);
    return error;
}

/* The object ids of one pack, through a backend that reads only that pack's .idx. */
struct lvx_pack_walk {
    int (*cb)(const unsigned char *id, void *payload);
    void *payload;
};

static int lvx_pack_walk_one(const git_oid *id, void *payload) {
    struct lvx_pack_walk *walk = payload;
    return walk->cb(id->id, walk->payload);
}

int lvx_git_pack_foreach(const char *index_path, int (*cb)(const unsigned char *id, void *payload), void *payload) {
    git_odb_backend *backend = NULL;
    int error = git_odb_backend_one_pack(&backend, index_path);
    if (error < 0) return error;
    struct lvx_pack_walk walk = {cb, payload};
    error = backend->foreach(backend, lvx_pack_walk_one, &walk);
    backend->free(backend);
    return error;
}
