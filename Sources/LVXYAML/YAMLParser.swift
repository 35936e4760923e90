internal import CYAML
public import LVXCore

/// Reads one YAML document into a located ``Node`` tree, using libyaml's event API.
///
/// Every node keeps its 1-based `file:line:column` and every scalar whether it was quoted, so
/// validation can tell `"60"` (a string) from `60` and point at the exact spot. The parser is
/// deliberately stricter than YAML: one document per file, no duplicate keys, no merge keys, only
/// the standard tags, and ``DocumentLimits`` against hostile input (anchors and aliases are
/// resolved, but the nodes they expand to are counted).
public enum YAMLParser {
    /// Parses `bytes` (UTF-8 YAML) as one document.
    ///
    /// An empty document (nothing, or only comments) is an empty mapping at 1:1.
    /// - Parameters:
    ///   - bytes: the file content.
    ///   - file: the name used in locations and messages.
    ///   - limits: size, depth, node-count and alias-expansion limits.
    /// - Returns: the document's root node.
    /// - Throws: ``YAMLError`` with the location and a message built from libyaml's `problem`
    ///   and `context`, or naming the violated rule or limit.
    public static func parse(
        _ bytes: [UInt8],
        file: String,
        limits: DocumentLimits = .standard
    ) throws(YAMLError) -> Node {
        guard bytes.count <= limits.maxBytes else {
            throw YAMLError(
                .limit,
                at: SourceLocation(file: file, line: 1, column: 1),
                "the file is \(bytes.count) bytes, more than the limit of \(limits.maxBytes) bytes",
                hint: "split it into smaller files"
            )
        }
        let stream = try EventStream(bytes: bytes, file: file)
        var builder = TreeBuilder(stream: stream, file: file, limits: limits)
        return try builder.document()
    }
}

/// One libyaml event, copied out of the C struct so the struct can be freed at once.
private struct Event {
    var type: yaml_event_type_t
    var location: SourceLocation
    var anchor: String?
    var tag: String?
    var value: String
    var style: yaml_scalar_style_t
}

/// The owner of one `yaml_parser_t` and the input buffer it reads from.
private final class EventStream {
    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let input: UnsafeMutableBufferPointer<UInt8>
    private let bytes: [UInt8]
    private let file: String

    /// Creates a parser over a private copy of `bytes`.
    ///
    /// The corresponding C functions are `yaml_parser_initialize` and `yaml_parser_set_input_string`.
    init(bytes: [UInt8], file: String) throws(YAMLError) {
        self.bytes = bytes
        self.file = file
        parser = .allocate(capacity: 1)
        input = .allocate(capacity: max(bytes.count, 1))
        _ = input.initialize(from: bytes)
        // yaml_parser_initialize zeroes the struct first and frees what it allocated on failure,
        // so yaml_parser_delete in deinit is safe either way.
        guard yaml_parser_initialize(parser) == 1 else {
            throw YAMLError(.syntax, at: location(line: 1, column: 1), "yaml_parser_initialize failed: out of memory")
        }
        yaml_parser_set_input_string(parser, input.baseAddress, bytes.count)
    }

    deinit {
        yaml_parser_delete(parser)
        parser.deallocate()
        input.deallocate()
    }

    /// The next event, or the libyaml error that stopped the parser.
    ///
    /// The corresponding C function is `yaml_parser_parse`.
    func next() throws(YAMLError) -> Event {
        var event = yaml_event_t()
        guard yaml_parser_parse(parser, &event) == 1 else { throw parserError() }
        defer { yaml_event_delete(&event) }
        var result = Event(
            type: event.type,
            location: location(line: event.start_mark.line + 1, column: event.start_mark.column + 1),
            anchor: nil,
            tag: nil,
            value: "",
            style: YAML_ANY_SCALAR_STYLE
        )
        switch event.type {
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            result.anchor = cString(scalar.anchor)
            result.tag = cString(scalar.tag)
            result.style = scalar.style
            if let value = scalar.value {
                result.value = String(decoding: UnsafeBufferPointer(start: value, count: scalar.length), as: UTF8.self)
            }
        case YAML_SEQUENCE_START_EVENT:
            result.anchor = cString(event.data.sequence_start.anchor)
            result.tag = cString(event.data.sequence_start.tag)
        case YAML_MAPPING_START_EVENT:
            result.anchor = cString(event.data.mapping_start.anchor)
            result.tag = cString(event.data.mapping_start.tag)
        case YAML_ALIAS_EVENT:
            result.anchor = cString(event.data.alias.anchor)
        default:
            break
        }
        return result
    }

    func location(line: Int, column: Int) -> SourceLocation {
        SourceLocation(file: file, line: line, column: column)
    }

    private func cString(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    /// Builds the error from the parser's `problem`, `context` and marks.
    private func parserError() -> YAMLError {
        let state = parser.pointee
        let problem = state.problem.map { String(cString: $0) } ?? "unknown libyaml error"
        switch state.error {
        case YAML_READER_ERROR:
            let place = location(ofByte: state.problem_offset)
            var message = problem
            if state.problem_value >= 0 {
                message += " 0x" + String(UInt8(truncatingIfNeeded: state.problem_value), radix: 16)
            }
            return YAMLError(.encoding, at: place, message, hint: "save the file as UTF-8 text")
        case YAML_MEMORY_ERROR:
            return YAMLError(.syntax, at: location(line: 1, column: 1), "libyaml ran out of memory")
        default:
            let mark = state.problem_mark
            var message = problem
            if let context = state.context.map({ String(cString: $0) }) {
                let started = state.context_mark
                message += " \(context)"
                if started.line != mark.line || started.column != mark.column {
                    message += " started at line \(started.line + 1), column \(started.column + 1)"
                }
            }
            let hint =
                bytes[safe: mark.index] == UInt8(ascii: "\t")
                ? "indent with spaces; YAML does not allow tabs for indentation" : nil
            return YAMLError(.syntax, at: location(line: mark.line + 1, column: mark.column + 1), message, hint: hint)
        }
    }

    /// The 1-based line and column of byte `offset`, counting characters as libyaml does.
    private func location(ofByte offset: Int) -> SourceLocation {
        var line = 1
        var column = 1
        var index = 0
        let end = min(offset, bytes.count)
        while index < end {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\n")
                || (byte == UInt8(ascii: "\r") && bytes[safe: index + 1] != UInt8(ascii: "\n"))
            {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 && byte != UInt8(ascii: "\r") {
                column += 1
            }
            index += 1
        }
        return location(line: line, column: column)
    }
}

extension Array where Element == UInt8 {
    fileprivate subscript(safe index: Int) -> UInt8? { indices.contains(index) ? self[index] : nil }
}

/// A node built from events, with what the limits need to know about it.
private struct Built {
    var node: Node
    /// The number of nodes in the subtree, the node itself included.
    var size: Int
    /// How many collections deep the subtree is (0 for a scalar).
    var height: Int
}

/// Turns the event stream into a ``Node`` tree, enforcing lvx's rules and the limits.
private struct TreeBuilder {
    let stream: EventStream
    let file: String
    let limits: DocumentLimits
    var anchors: [String: Built] = [:]
    var nodeCount = 0
    var aliasExpansions = 0

    init(stream: EventStream, file: String, limits: DocumentLimits) {
        self.stream = stream
        self.file = file
        self.limits = limits
    }

    mutating func document() throws(YAMLError) -> Node {
        let empty = Node.mapping([], stream.location(line: 1, column: 1))
        _ = try stream.next()  // STREAM-START
        let first = try stream.next()
        guard first.type == YAML_DOCUMENT_START_EVENT else { return empty }
        let root = try build(try stream.next(), depth: 0).node
        _ = try stream.next()  // DOCUMENT-END
        let after = try stream.next()
        if after.type == YAML_DOCUMENT_START_EVENT {
            throw YAMLError(
                .multipleDocuments,
                at: after.location,
                "a second document starts here; a file holds exactly one YAML document",
                hint: "remove the '---' separator or move the second document to its own file"
            )
        }
        if case .scalar("", quoted: false, _) = root { return empty }
        return root
    }

    private mutating func build(_ event: Event, depth: Int) throws(YAMLError) -> Built {
        let built: Built
        switch event.type {
        case YAML_ALIAS_EVENT:
            return try expand(event, depth: depth)
        case YAML_SCALAR_EVENT:
            try count(1, at: event.location)
            let quoted = try scalarIsQuoted(event)
            built = Built(node: .scalar(event.value, quoted: quoted, event.location), size: 1, height: 0)
        case YAML_SEQUENCE_START_EVENT:
            try checkCollectionTag(event, standard: "seq", kind: "a list")
            try enter(event, depth: depth)
            var items: [Node] = []
            var size = 1
            var height = 0
            while true {
                let next = try stream.next()
                if next.type == YAML_SEQUENCE_END_EVENT { break }
                let item = try build(next, depth: depth + 1)
                items.append(item.node)
                size += item.size
                height = max(height, item.height)
            }
            built = Built(node: .sequence(items, event.location), size: size, height: height + 1)
        case YAML_MAPPING_START_EVENT:
            try checkCollectionTag(event, standard: "map", kind: "a mapping")
            try enter(event, depth: depth)
            built = try buildMapping(event, depth: depth)
        default:
            throw YAMLError(.syntax, at: event.location, "unexpected libyaml event \(event.type.rawValue)")
        }
        if let anchor = event.anchor { anchors[anchor] = built }
        return built
    }

    private mutating func buildMapping(_ start: Event, depth: Int) throws(YAMLError) -> Built {
        var pairs: [(key: Node, value: Node)] = []
        var firstLines: [String: Int] = [:]
        var size = 1
        var height = 0
        while true {
            let keyEvent = try stream.next()
            if keyEvent.type == YAML_MAPPING_END_EVENT { break }
            if keyEvent.type == YAML_SCALAR_EVENT && keyEvent.style == YAML_PLAIN_SCALAR_STYLE
                && keyEvent.tag == nil && keyEvent.value == "<<"
            {
                throw YAMLError(
                    .unsupported,
                    at: keyEvent.location,
                    "merge keys ('<<') are not supported",
                    hint: "write the keys out in full"
                )
            }
            let key = try build(keyEvent, depth: depth + 1)
            guard case .scalar(let text, _, _) = key.node else {
                throw YAMLError(
                    .unsupported,
                    at: keyEvent.location,
                    "a mapping key must be a scalar, not \(key.node.kindName)"
                )
            }
            if let firstLine = firstLines[text] {
                throw YAMLError(
                    .duplicateKey,
                    at: keyEvent.location,
                    "duplicate key '\(text)' (first defined at line \(firstLine))",
                    hint: "keep one of them"
                )
            }
            firstLines[text] = keyEvent.location.line
            let value = try build(try stream.next(), depth: depth + 1)
            pairs.append((key: key.node, value: value.node))
            size += key.size + value.size
            height = max(height, value.height)
        }
        return Built(node: .mapping(pairs, start.location), size: size, height: height + 1)
    }

    /// Resolves an alias to a copy of its anchored node, counting what it expands to.
    private mutating func expand(_ event: Event, depth: Int) throws(YAMLError) -> Built {
        let name = event.anchor ?? ""
        guard let anchored = anchors[name] else {
            throw YAMLError(
                .syntax,
                at: event.location,
                "unknown alias '*\(name)'",
                hint: "define the anchor '&\(name)' before using it"
            )
        }
        aliasExpansions += anchored.size
        guard aliasExpansions <= limits.maxAliasExpansions else {
            throw YAMLError(
                .limit,
                at: event.location,
                "aliases expand to more than \(limits.maxAliasExpansions) nodes, the limit",
                hint: "write the values out instead of nesting aliases"
            )
        }
        try count(anchored.size, at: event.location)
        guard depth + anchored.height <= limits.maxDepth else { throw tooDeep(at: event.location) }
        return anchored
    }

    private mutating func count(_ nodes: Int, at location: SourceLocation) throws(YAMLError) {
        nodeCount += nodes
        guard nodeCount <= limits.maxNodes else {
            throw YAMLError(
                .limit,
                at: location,
                "the document has more than \(limits.maxNodes) nodes, the limit",
                hint: "split it into smaller files"
            )
        }
    }

    private mutating func enter(_ event: Event, depth: Int) throws(YAMLError) {
        guard depth + 1 <= limits.maxDepth else { throw tooDeep(at: event.location) }
        try count(1, at: event.location)
    }

    private func tooDeep(at location: SourceLocation) -> YAMLError {
        YAMLError(.limit, at: location, "nesting is deeper than the limit of \(limits.maxDepth) levels")
    }

    /// Whether a scalar is a string by its style or tag; rejects tags lvx does not know.
    private func scalarIsQuoted(_ event: Event) throws(YAMLError) -> Bool {
        guard let tag = event.tag else { return event.style != YAML_PLAIN_SCALAR_STYLE }
        switch tag {
        case "!", Self.standardPrefix + "str": return true
        case Self.standardPrefix + "int", Self.standardPrefix + "float", Self.standardPrefix + "bool",
            Self.standardPrefix + "null":
            return false
        default: throw unsupportedTag(tag, on: "a scalar", at: event.location)
        }
    }

    private func checkCollectionTag(_ event: Event, standard: String, kind: String) throws(YAMLError) {
        guard let tag = event.tag, tag != "!", tag != Self.standardPrefix + standard else { return }
        throw unsupportedTag(tag, on: kind, at: event.location)
    }

    private func unsupportedTag(_ tag: String, on kind: String, at location: SourceLocation) -> YAMLError {
        let shown = tag.hasPrefix(Self.standardPrefix) ? "!!" + tag.dropFirst(Self.standardPrefix.count) : tag
        return YAMLError(
            .unsupported,
            at: location,
            "tag '\(shown)' is not supported on \(kind)",
            hint: "remove the tag; only !!str, !!int, !!float, !!bool, !!null, !!seq and !!map are accepted"
        )
    }

    private static let standardPrefix = "tag:yaml.org,2002:"
}
