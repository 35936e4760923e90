#pragma once
#include <stddef.h>

typedef struct git_odb git_odb;

/// Non-variadic wrappers for git_libgit2_opts, which Swift cannot call (it is variadic).
int lvx_git_set_search_path(int level, const char *path);
int lvx_git_set_owner_validation(int enabled);
int lvx_git_set_fsync_gitdir(int enabled);

/// git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE) and (GIT_OPT_SET_MWINDOW_MAPPED_LIMIT): the most
/// memory the object cache and the mapped pack windows may hold.
int lvx_git_set_memory_limits(long long cache_bytes, long long mapped_bytes);

/// Calls cb with the 20 raw bytes of every object id in the pack whose index is index_path
/// (git_odb_backend_one_pack); cb returns 0 to go on.
int lvx_git_pack_foreach(const char *index_path, int (*cb)(const unsigned char *id, void *payload), void *payload);

/// git_libgit2_init without parsing the system CA bundle.
///
/// libgit2 1.5 built with mbedTLS (Debian's) parses its compiled-in CA file
/// (/etc/ssl/certs/ca-certificates.crt) inside git_libgit2_init: ~52 M instructions, most of a
/// short lvx command, for HTTPS, which lvx's file:// and ssh remotes never use. While this runs,
/// the shim's mbedtls_x509_crt_parse_file (which interposes on libmbedx509's) records the path and
/// parses nothing; lvx_git_load_deferred_ca_bundle loads it later, before an https remote is used.
/// Returns what git_libgit2_init returns.
int lvx_git_init_without_ca_bundle(void);

/// The CA file whose loading the last initialisation deferred, or NULL when nothing is deferred.
const char *lvx_git_deferred_ca_bundle(void);

/// Loads the deferred CA file (GIT_OPT_SET_SSL_CERT_LOCATIONS); 0 when nothing was deferred.
/// Callers serialise it with initialisation.
int lvx_git_load_deferred_ca_bundle(void);

/// An object database that sees only the packs in `objects_dir/pack` (no loose objects), for
/// pruning loose objects that a pack already holds. Free it with git_odb_free.
int lvx_git_odb_new_packs_only(git_odb **out, const char *objects_dir);
