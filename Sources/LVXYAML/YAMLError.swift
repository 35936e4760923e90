public import LVXCore

/// A YAML document that could not be read: where, and what went wrong.
///
/// Messages are lower-case and carry no trailing period. Syntax errors keep libyaml's own wording
/// (its `problem`, then its `context`), so they match what other libyaml-based tools print.
public struct YAMLError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The broad class of a YAML error, for callers that react differently to each.
    public enum Kind: Sendable, Hashable {
        /// libyaml's scanner or parser rejected the text.
        case syntax
        /// The bytes are not valid UTF-8 (or contain characters YAML forbids).
        case encoding
        /// A ``DocumentLimits`` limit was exceeded.
        case limit
        /// A mapping holds the same key twice.
        case duplicateKey
        /// A valid YAML feature lvx does not accept: merge keys, custom tags, complex keys.
        case unsupported
        /// The file holds more than one document.
        case multipleDocuments
    }

    /// The broad class of the error.
    public var kind: Kind
    /// Where the problem is (1-based line and column).
    public var location: SourceLocation
    /// What went wrong, lower-case.
    public var message: String
    /// What the user can do about it, if there is something specific.
    public var hint: String?

    /// Creates an error at `location`.
    public init(_ kind: Kind, at location: SourceLocation, _ message: String, hint: String? = nil) {
        self.kind = kind
        self.location = location
        self.message = message
        self.hint = hint
    }

    /// The error as a diagnostic, for the shared printer (`file:line:column: error: message`).
    public var diagnostic: Diagnostic { Diagnostic(.error, at: location, message, hint: hint) }

    /// `file:line:column: error: message`.
    public var description: String { diagnostic.description }
}

/// A failure of libyaml's emitter, which only happens on a bug in the event sequence lvx builds.
public struct YAMLEmitError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The libyaml function that failed, such as `yaml_emitter_emit`.
    public var function: String
    /// libyaml's `problem` text.
    public var message: String

    /// Creates an error for `function` with libyaml's message.
    public init(function: String, message: String) {
        self.function = function
        self.message = message
    }

    /// `yaml_emitter_emit failed: message`.
    public var description: String { "\(function) failed: \(message)" }
}
