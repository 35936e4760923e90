/// The desired-state repository as the use cases see it: files at a revision, commits, the branch.
///
/// The real one is `LVXGit.GitRepository`; tests use an in-memory repository.
public protocol SiteRepository: DesiredStateSource, HistoryStore {
    /// Where the repository is, for messages.
    var path: String { get }
    /// The checked-out branch, or `nil` when HEAD is detached.
    func branch() throws(RepositoryError) -> String?
    /// Commits `files` authored by `author`, signed by `signer` over the commit buffer (as `git
    /// commit -S` does) when one is given; otherwise as ``HistoryStore/commit(files:message:author:time:)``.
    func commit(
        files: [String: [UInt8]],
        message: String,
        author: PersonIdentity,
        time: WallTime,
        signer: (@Sendable ([UInt8]) throws -> String)?
    ) throws(RepositoryError) -> String
}

/// Parses the YAML lvx reads and renders the records it writes.
///
/// The real one is `LVXYAML` (libyaml); every use case reads and writes through it.
public protocol RecordCodec: Sendable {
    /// Parses one document into located nodes.
    func parse(_ bytes: [UInt8], file: String) throws(RecordSyntaxError) -> Node
    /// Renders a record as YAML, with `header` as a comment line.
    func render(_ value: JSONValue, header: String?) throws(RecordSyntaxError) -> String
}

/// A YAML file that does not parse (or a record that cannot be rendered), with where.
public struct RecordSyntaxError: Error, Sendable, Hashable {
    public var location: SourceLocation
    public var message: String
    /// The validator's view of the same problem, with its code and hint.
    public var diagnostic: Diagnostic

    public init(location: SourceLocation, message: String, diagnostic: Diagnostic) {
        self.location = location
        self.message = message
        self.diagnostic = diagnostic
    }
}

/// Opens the units of the desired state: by their `port:`, else by one discovery pass.
public protocol UnitConnector: Sendable {
    /// A device for each unit, or why it could not be found or opened; nothing is sent yet
    /// except the discovery probes.
    func connect(_ units: [DesiredUnit]) async -> [SerialNumber: Result<any InverterDevice, DeviceError>]
    /// A device on a port string, as a plan recorded it.
    func device(onPort port: String) throws(DeviceError) -> any InverterDevice
}
