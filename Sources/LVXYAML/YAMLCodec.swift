import LVXCore

/// The codec the use cases read and write records with: libyaml's parser and emitter.
///
/// Records are rendered with objects of scalars (up to twelve keys) and lists of scalars in flow
/// style, everything else in block style.
public struct YAMLCodec: RecordCodec {
    public init() {}

    public func parse(_ bytes: [UInt8], file: String) throws(RecordSyntaxError) -> Node {
        do {
            return try YAMLParser.parse(bytes, file: file)
        } catch {
            throw RecordSyntaxError(location: error.location, message: error.message, diagnostic: error.diagnostic)
        }
    }

    public func render(_ value: JSONValue, header: String?) throws(RecordSyntaxError) -> String {
        do {
            return (header.map { "# \($0)\n" } ?? "") + (try YAMLEmitter.render(Self.emitNode(value)))
        } catch {
            let location = SourceLocation(file: "<record>", line: 1, column: 1)
            throw RecordSyntaxError(
                location: location,
                message: "\(error.function): \(error.message)",
                diagnostic: Diagnostic(.error, at: location, "\(error.function): \(error.message)")
            )
        }
    }

    /// The emitter's tree for a record.
    public static func emitNode(_ value: JSONValue) -> EmitNode {
        switch value {
        case .null: return .plain("null")
        case .bool(let b): return .plain(b ? "true" : "false")
        case .int(let i): return .plain(String(i))
        case .decimal(let d): return .plain(d)
        case .string(let s): return .string(s)
        case .array(let items):
            let flow = items.allSatisfy(\.isScalar) && !items.isEmpty
            return .sequence(items.map(emitNode), flow ? .flow : .block)
        case .object(let pairs):
            let flow = pairs.allSatisfy { $0.1.isScalar } && !pairs.isEmpty && pairs.count <= 12
            return .mapping(pairs.map { (key: $0.0, value: emitNode($0.1)) }, flow ? .flow : .block)
        }
    }
}

extension JSONValue {
    /// Whether the value is a scalar (not a list or an object).
    public var isScalar: Bool {
        switch self {
        case .array, .object: false
        default: true
        }
    }
}
