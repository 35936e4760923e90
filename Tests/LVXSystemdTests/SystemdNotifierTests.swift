import Foundation
import LVXSystemd
import Testing

/// `SystemdNotifier` against a real datagram socket named by `NOTIFY_SOCKET`.
///
/// Serialized: the tests set and unset `NOTIFY_SOCKET` in this process.
@Suite(.serialized)
struct SystemdNotifierTests {
    @Test("status, ready and stopping arrive at NOTIFY_SOCKET as sd_notify datagrams")
    func sendsToTheNotifySocket() throws {
        let listener = try DatagramListener()
        try withNotifySocket(listener.path) {
            let notifier = SystemdNotifier()

            notifier.status("reading garage\nthen shed")
            #expect(listener.receive() == "STATUS=reading garage then shed")
            #expect(notifier.ready(status: "2 units") == .sent)
            #expect(listener.receive() == "READY=1\nSTATUS=2 units")
            #expect(notifier.stopping() == .sent)
            #expect(listener.receive() == "STOPPING=1")
        }
    }

    @Test("without NOTIFY_SOCKET nothing is sent and the call says so")
    func notSupervised() throws {
        try withNotifySocket(nil) {
            #expect(SystemdNotifier().send([("STATUS", "idle")]) == .notSupervised)
        }
    }

    @Test("a NOTIFY_SOCKET that does not exist is reported as a failure, not a crash")
    func missingSocket() throws {
        try withNotifySocket("/nonexistent/lvx-notify") {
            #expect(SystemdNotifier().send([("STATUS", "idle")]) == .failed(errno: ENOENT))
        }
    }

    @Test("assignments are joined one per line and line breaks in values are flattened")
    func messageText() {
        #expect(SystemdNotifier.message([("READY", "1"), ("STATUS", "a\r\nb")]) == "READY=1\nSTATUS=a b")
    }

    private func withNotifySocket(_ path: String?, _ body: () throws -> Void) throws {
        let previous = getenv("NOTIFY_SOCKET").map { String(cString: $0) }
        if let path { setenv("NOTIFY_SOCKET", path, 1) } else { unsetenv("NOTIFY_SOCKET") }
        defer {
            if let previous { setenv("NOTIFY_SOCKET", previous, 1) } else { unsetenv("NOTIFY_SOCKET") }
        }
        try body()
    }
}
