import Foundation

/// A temporary directory removed (with its contents) when the value goes away.
public final class TemporaryDirectory {
    public let path: String

    /// A new directory under the system's temporary folder, named `lvx-PREFIX-XXXXXX`.
    public init(_ prefix: String = "test") throws {
        var template = Array((NSTemporaryDirectory() + "/lvx-\(prefix)-XXXXXX").utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.flatMap { mkdtemp($0) }.map { String(cString: $0) }
        }
        guard let created else { throw CommandFailure(description: "mkdtemp failed: errno \(errno)") }
        path = created
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// `path/name`.
    public func callAsFunction(_ name: String) -> String { path + "/" + name }
}

/// A failed program run.
public struct CommandFailure: Error, CustomStringConvertible {
    public var description: String

    public init(description: String) { self.description = description }
}
