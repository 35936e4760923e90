/// A place in a source file: 1-based line and column, as editors and compilers print them.
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`.
    public var description: String { "\(file):\(line):\(column)" }

    public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        (lhs.file, lhs.line, lhs.column) < (rhs.file, rhs.line, rhs.column)
    }
}

/// A YAML-neutral document tree in which every node remembers where it came from.
///
/// The YAML adapter builds it; validation reads it, so messages can say `file:line:column`.
public indirect enum Node: Sendable, Hashable {
    /// A scalar with its text as written and whether it was quoted (a quoted `"60"` is a string).
    case scalar(String, quoted: Bool, SourceLocation)
    /// A sequence of nodes.
    case sequence([Node], SourceLocation)
    /// A mapping, in document order; keys are scalars (their own locations kept).
    case mapping([(key: Node, value: Node)], SourceLocation)

    /// Where the node starts.
    public var location: SourceLocation {
        switch self {
        case .scalar(_, _, let l), .sequence(_, let l), .mapping(_, let l): l
        }
    }

    /// The scalar text, or `nil` for a collection.
    public var scalarText: String? {
        if case .scalar(let text, _, _) = self { return text }
        return nil
    }

    /// Whether a plain (unquoted) scalar means null: empty, `~`, `null`.
    public var isNull: Bool {
        if case .scalar(let text, let quoted, _) = self, !quoted {
            return text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL"
        }
        return false
    }

    /// A short name for the node's kind, for messages: `a mapping`, `a list`, `a scalar`.
    public var kindName: String {
        switch self {
        case .scalar: "a scalar"
        case .sequence: "a list"
        case .mapping: "a mapping"
        }
    }

    public static func == (lhs: Node, rhs: Node) -> Bool {
        switch (lhs, rhs) {
        case (.scalar(let a, let qa, let la), .scalar(let b, let qb, let lb)): a == b && qa == qb && la == lb
        case (.sequence(let a, let la), .sequence(let b, let lb)): a == b && la == lb
        case (.mapping(let a, let la), .mapping(let b, let lb)):
            la == lb && a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .scalar(let t, let q, let l):
            hasher.combine(0)
            hasher.combine(t)
            hasher.combine(q)
            hasher.combine(l)
        case .sequence(let items, let l):
            hasher.combine(1)
            hasher.combine(items)
            hasher.combine(l)
        case .mapping(let pairs, let l):
            hasher.combine(2)
            for p in pairs {
                hasher.combine(p.key)
                hasher.combine(p.value)
            }
            hasher.combine(l)
        }
    }
}

/// A problem found in a source file, rendered as `file:line:column: error: message`.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable {
        case error
        case warning
        case note
    }

    public var severity: Severity
    public var location: SourceLocation?
    public var message: String
    /// An optional hint, printed as a `note:` line after the caret.
    public var hint: String?
    /// A stable short code naming the kind of problem (such as `unknown-key`), for tests and tools.
    public var code: String?

    public init(
        _ severity: Severity,
        at location: SourceLocation?,
        _ message: String,
        hint: String? = nil,
        code: String? = nil
    ) {
        self.severity = severity
        self.location = location
        self.message = message
        self.hint = hint
        self.code = code
    }

    public var description: String {
        let place = location.map { "\($0): " } ?? ""
        return "\(place)\(severity.rawValue): \(message)"
    }
}

/// Limits on what a YAML document may contain, so a hostile file cannot exhaust memory.
public struct DocumentLimits: Sendable, Hashable {
    public var maxBytes: Int
    public var maxDepth: Int
    public var maxNodes: Int
    public var maxAliasExpansions: Int

    public init(maxBytes: Int = 1 << 20, maxDepth: Int = 32, maxNodes: Int = 100_000, maxAliasExpansions: Int = 1_000) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
        self.maxNodes = maxNodes
        self.maxAliasExpansions = maxAliasExpansions
    }

    public static let standard = DocumentLimits()
}
