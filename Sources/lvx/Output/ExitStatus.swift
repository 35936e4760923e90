import ArgumentParser
import Foundation
import LVXCore

/// An error as the person at the terminal sees it: what happened, what to do, and the exit code.
struct CLIError: UserFacingError {
    var message: String
    var hint: String?
    var status: ExitStatus

    var exitStatus: ExitStatus { status }

    init(_ message: String, hint: String? = nil, status: ExitStatus = .failure) {
        self.message = message
        self.hint = hint
        self.status = status
    }
}

/// Runs a command body and renders its outcome once, at the edge: errors to stderr, the exit code.
func execute(_ body: () async throws -> ExitStatus) async throws {
    // `lvx ... | head`: a closed pipe loses output, it does not kill an apply between two writes.
    signal(SIGPIPE, SIG_IGN)
    let status: ExitStatus
    do {
        status = try await body()
    } catch let error as any UserFacingError {
        for line in error.details { Terminal.standardError.line(line) }
        Terminal.standardError.error(error.message, hint: error.hint)
        status = error.exitStatus
    } catch let error as ExitCode {
        throw error
    } catch {
        Terminal.standardError.error(String(describing: error))
        status = .failure
    }
    if status != .success { throw ExitCode(status.rawValue) }
}
