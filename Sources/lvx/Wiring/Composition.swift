import Foundation
import LVXCore
import LVXGit
import LVXReconcile
import LVXSystemd
import LVXYAML

extension Reconciler {
    /// The real parts: the git repository, libyaml, the PI18 transports, systemd over D-Bus, the
    /// wall clock, and sd_notify when under systemd.
    ///
    /// `opened` is the repository when the command already opened it for its lock.
    static func real(
        repository: RepositoryOptions,
        opened: GitRepository? = nil,
        device: DeviceOptions? = nil,
        trust: TrustOptions? = nil,
        notifier: (any ServiceNotifier)? = nil
    ) throws -> Reconciler {
        let git = try opened ?? repository.open()
        return Reconciler(
            repository: git,
            codec: YAMLCodec(),
            connector: device.map { PortConnector(UnitResolver(device: $0, repository: repository)) }
                ?? PortConnector.standard,
            services: SystemdServiceManager(),
            clock: SystemClock(),
            notifier: notifier,
            toolVersion: LVXCommand.version,
            processID: Int(getpid()),
            verifier: trust.map {
                SignatureVerifier(
                    repository: git,
                    allowedSigners: $0.allowedSignersPath,
                    revokedKeys: $0.revokedKeysPath
                )
            }
        )
    }

    /// The plan text painter for `terminal`.
    static func painter(_ terminal: Terminal = .standardOutput) -> @Sendable (String, PlanText.Tone) -> String {
        { text, tone in
            switch tone {
            case .change: terminal.paint(text, .yellow)
            case .ok: terminal.paint(text, .green)
            case .note: terminal.paint(text, .cyan)
            case .problem: terminal.paint(text, .red)
            case .dim: terminal.paint(text, .dim)
            case .bold: terminal.paint(text, .bold)
            }
        }
    }
}

/// Who approves or withdraws: `--by`, else `LVX_APPROVER`, else the login name.
func person(_ by: String?) -> String {
    let env = ProcessInfo.processInfo.environment
    return by ?? env["LVX_APPROVER"] ?? env["USER"] ?? "unknown"
}
