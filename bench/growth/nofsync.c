/* LD_PRELOAD shim for bench/growth.sh: fsync and fdatasync return at once, so the difference
 * between a run with and without it is what fsync costs on this disk. Never use it for real. */
int fsync(int fd) {
    (void)fd;
    return 0;
}

int fdatasync(int fd) {
    (void)fd;
    return 0;
}
