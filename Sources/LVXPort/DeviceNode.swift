import Glibc

/// Opening the device node behind a `hidraw:` or `serial:` port, and refusing anything else.
///
/// A port string may name a regular file, a directory or a FIFO by mistake. Nothing may be read
/// from or written to such a path, so the node is checked with `fstat` right after `open`, before
/// the first byte: only a character device (a hidraw node, a tty, a pseudo-terminal) is kept.
enum DeviceNode {
    /// Opens `path` `O_RDWR | O_NONBLOCK | O_NOCTTY | O_CLOEXEC` and checks that it is a character
    /// device.
    ///
    /// The corresponding C functions are `open` and `fstat`.
    /// - Returns: the open descriptor, owned by the caller.
    /// - Throws: ``TransportError`` of kind `open` when `open` or `fstat` fails, or when the path
    ///   is not a character device (the descriptor is closed again, nothing was sent).
    static func open(_ path: String, port: String) throws(TransportError) -> PolledDescriptor {
        let fd: Int32
        do throws(TransportError) {
            fd = try Syscall.call("open", port: port, kind: .open) {
                Glibc.open(path, O_RDWR | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
            }
        } catch {
            // A directory cannot be opened for writing at all; say what it is, as fstat would.
            if error.errno == EISDIR { throw notACharacterDevice(port: port, what: "a directory") }
            throw error
        }
        // Owned from here on, so every failure below closes it.
        let descriptor = PolledDescriptor(fd: fd, port: port)
        var info = stat()
        try Syscall.call("fstat", port: port, kind: .open) { fstat(fd, &info) }
        let type = info.st_mode & S_IFMT
        guard type == S_IFCHR else { throw notACharacterDevice(port: port, what: describe(type)) }
        return descriptor
    }

    /// What a file of type `type` (`st_mode & S_IFMT`) is, for messages: `a regular file`.
    static func describe(_ type: mode_t) -> String {
        switch type {
        case S_IFREG: "a regular file"
        case S_IFDIR: "a directory"
        case S_IFBLK: "a block device"
        case S_IFIFO: "a FIFO"
        case S_IFSOCK: "a socket"
        case S_IFLNK: "a symbolic link"
        default: "a file of unknown type"
        }
    }

    private static func notACharacterDevice(port: String, what: String) -> TransportError {
        TransportError(
            kind: .open,
            port: port,
            detail: "not a character device (\(what))",
            openFailure: .notACharacterDevice
        )
    }
}
