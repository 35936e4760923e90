internal import CYAML

/// A YAML value to write: scalars with a chosen style, ordered mappings and sequences.
public indirect enum EmitNode: Sendable {
    /// How a scalar is written.
    public enum ScalarStyle: Sendable, Hashable {
        /// libyaml chooses: plain when that is valid YAML syntax, quoted otherwise.
        case any
        /// Plain (`value`); libyaml still quotes it when plain would be invalid syntax.
        case plain
        /// Single-quoted (`'value'`).
        case singleQuoted
        /// Double-quoted with escapes (`"value"`).
        case doubleQuoted
    }

    /// How a mapping or sequence is written.
    public enum CollectionStyle: Sendable, Hashable {
        /// One entry per line, indented.
        case block
        /// Inline: `{a: 1}` or `[1, 2]`.
        case flow
    }

    /// A scalar written as `text` in `style`.
    case scalar(String, ScalarStyle)
    /// A mapping in the given key order. Keys are written with ``string(_:)``'s quoting rule.
    case mapping([(key: String, value: EmitNode)], CollectionStyle = .block)
    /// A sequence.
    case sequence([EmitNode], CollectionStyle = .block)

    /// A string that reads back as the same string.
    ///
    /// Plain style is kept when it is unambiguous (`USER`, `main`); text that a YAML reader would
    /// take as null, a boolean or a number (`""`, `null`, `yes`, `1e3`, `0x10`, `96142109100037`)
    /// is single-quoted, and text with control characters or line breaks is double-quoted.
    /// libyaml itself quotes text that is not valid plain syntax (`a: b`, `#x`, edge spaces).
    public static func string(_ text: String) -> EmitNode {
        if text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return .scalar(text, .doubleQuoted)
        }
        return .scalar(text, plainWouldChangeMeaning(text) ? .singleQuoted : .any)
    }

    /// A scalar written plain, for values meant to be read as numbers or symbols (`48.0`, `USER`).
    public static func plain(_ text: String) -> EmitNode { .scalar(text, .plain) }

    /// Whether a YAML 1.1 or 1.2 reader would take plain `text` as something other than a string.
    static func plainWouldChangeMeaning(_ text: String) -> Bool {
        if text.isEmpty || specialWords.contains(text) { return true }
        let scalars = Array(text.unicodeScalars)
        func isDigit(_ index: Int) -> Bool {
            index < scalars.count && ("0"..."9").contains(scalars[index])
        }
        // Numbers in any YAML schema start with a digit, a sign or a dot followed by a digit or a dot
        // (`1e3`, `0x10`, `-1`, `+.5`, `.5`, `1:20`, `2024-01-01`, `.inf` is in the word list).
        switch scalars[0] {
        case "0"..."9": return true
        case "+", "-": return isDigit(1) || (scalars.count > 1 && scalars[1] == ".")
        case ".": return isDigit(1)
        default: return false
        }
    }

    private static let specialWords: Set<String> = [
        "~", "null", "Null", "NULL",
        "true", "True", "TRUE", "false", "False", "FALSE",
        "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF",
        "y", "Y", "n", "N",
        ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
        ".nan", ".NaN", ".NAN", "=", "<<",
    ]
}

/// Writes ``EmitNode`` trees as YAML text through libyaml's emitter.
///
/// Output is UTF-8 with Unicode left unescaped, 2-space indentation, no line folding, and no
/// document markers (`---`, `...`).
public enum YAMLEmitter {
    /// Renders `node` as a YAML document ending in one newline.
    /// - Throws: ``YAMLEmitError`` if libyaml rejects the event sequence (a bug in lvx).
    public static func render(_ node: EmitNode) throws(YAMLEmitError) -> String {
        let emitter = try Emitter()
        try emitter.emitDocument(node)
        return emitter.output
    }

    /// Renders a commented file: header comment lines, then one-key mappings each preceded by
    /// its comment lines, separated by blank lines.
    ///
    /// libyaml cannot write comments, so each entry is emitted on its own and the comment lines
    /// (`# ` + text) are placed around it. The result ends with exactly one newline.
    /// - Throws: ``YAMLEmitError`` if libyaml rejects an entry (a bug in lvx).
    public static func renderCommented(
        _ entries: [(comments: [String], key: String, value: EmitNode)],
        header: [String]
    ) throws(YAMLEmitError) -> String {
        var blocks: [String] = []
        if !header.isEmpty { blocks.append(commentLines(header)) }
        for entry in entries {
            let body = try render(.mapping([(key: entry.key, value: entry.value)]))
            blocks.append(commentLines(entry.comments) + body)
        }
        return blocks.map { $0.hasSuffix("\n") ? String($0.dropLast()) : $0 }.joined(separator: "\n\n") + "\n"
    }

    private static func commentLines(_ lines: [String]) -> String {
        lines.flatMap { $0.split(separator: "\n", omittingEmptySubsequences: false) }
            .map { $0.isEmpty ? "#\n" : "# \($0)\n" }
            .joined()
    }
}

/// Collects the emitter's output; passed to libyaml as the write handler's opaque pointer.
private final class OutputSink {
    var bytes: [UInt8] = []
}

/// The owner of one `yaml_emitter_t`.
private final class Emitter {
    private let emitter: UnsafeMutablePointer<yaml_emitter_t>
    private let sink = OutputSink()

    /// Creates an emitter writing into a private buffer.
    ///
    /// The corresponding C functions are `yaml_emitter_initialize`, `yaml_emitter_set_output` and
    /// the `yaml_emitter_set_*` style setters.
    init() throws(YAMLEmitError) {
        emitter = .allocate(capacity: 1)
        // yaml_emitter_initialize zeroes the struct before allocating, so deinit's delete is safe.
        guard yaml_emitter_initialize(emitter) == 1 else {
            throw YAMLEmitError(function: "yaml_emitter_initialize", message: "out of memory")
        }
        yaml_emitter_set_output(
            emitter,
            { data, buffer, size in
                guard let data, let buffer else { return 0 }
                let sink = Unmanaged<OutputSink>.fromOpaque(data).takeUnretainedValue()
                sink.bytes.append(contentsOf: UnsafeBufferPointer(start: buffer, count: size))
                return 1
            },
            Unmanaged.passUnretained(sink).toOpaque()
        )
        yaml_emitter_set_encoding(emitter, YAML_UTF8_ENCODING)
        yaml_emitter_set_unicode(emitter, 1)
        yaml_emitter_set_indent(emitter, 2)
        yaml_emitter_set_width(emitter, -1)
        yaml_emitter_set_break(emitter, YAML_LN_BREAK)
    }

    deinit {
        yaml_emitter_delete(emitter)
        emitter.deallocate()
    }

    var output: String { String(decoding: sink.bytes, as: UTF8.self) }

    func emitDocument(_ node: EmitNode) throws(YAMLEmitError) {
        var event = yaml_event_t()
        try initialized(yaml_stream_start_event_initialize(&event, YAML_UTF8_ENCODING), "stream_start")
        try emit(&event)
        try initialized(yaml_document_start_event_initialize(&event, nil, nil, nil, 1), "document_start")
        try emit(&event)
        try emitNode(node)
        try initialized(yaml_document_end_event_initialize(&event, 1), "document_end")
        try emit(&event)
        try initialized(yaml_stream_end_event_initialize(&event), "stream_end")
        try emit(&event)
        guard yaml_emitter_flush(emitter) == 1 else { throw failure("yaml_emitter_flush") }
    }

    private func emitNode(_ node: EmitNode) throws(YAMLEmitError) {
        var event = yaml_event_t()
        switch node {
        case .scalar(let text, let style):
            try emitScalar(text, style: style)
        case .mapping(let pairs, let style):
            let cStyle = style == .flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE
            try initialized(yaml_mapping_start_event_initialize(&event, nil, nil, 1, cStyle), "mapping_start")
            try emit(&event)
            for pair in pairs {
                try emitNode(.string(pair.key))
                try emitNode(pair.value)
            }
            try initialized(yaml_mapping_end_event_initialize(&event), "mapping_end")
            try emit(&event)
        case .sequence(let items, let style):
            let cStyle = style == .flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE
            try initialized(yaml_sequence_start_event_initialize(&event, nil, nil, 1, cStyle), "sequence_start")
            try emit(&event)
            for item in items { try emitNode(item) }
            try initialized(yaml_sequence_end_event_initialize(&event), "sequence_end")
            try emit(&event)
        }
    }

    private func emitScalar(_ text: String, style: EmitNode.ScalarStyle) throws(YAMLEmitError) {
        let cStyle: yaml_scalar_style_t
        switch style {
        case .any: cStyle = YAML_ANY_SCALAR_STYLE
        case .plain: cStyle = YAML_PLAIN_SCALAR_STYLE
        case .singleQuoted: cStyle = YAML_SINGLE_QUOTED_SCALAR_STYLE
        case .doubleQuoted: cStyle = YAML_DOUBLE_QUOTED_SCALAR_STYLE
        }
        var event = yaml_event_t()
        let utf8 = Array(text.utf8)
        let ok = utf8.withUnsafeBufferPointer { buffer in
            yaml_scalar_event_initialize(&event, nil, nil, buffer.baseAddress, Int32(buffer.count), 1, 1, cStyle)
        }
        try initialized(ok, "scalar")
        try emit(&event)
    }

    /// Hands `event` to libyaml, which takes ownership of it whether or not it succeeds.
    private func emit(_ event: inout yaml_event_t) throws(YAMLEmitError) {
        guard yaml_emitter_emit(emitter, &event) == 1 else { throw failure("yaml_emitter_emit") }
    }

    private func initialized(_ result: Int32, _ kind: String) throws(YAMLEmitError) {
        guard result == 1 else {
            throw YAMLEmitError(function: "yaml_\(kind)_event_initialize", message: "out of memory")
        }
    }

    private func failure(_ function: String) -> YAMLEmitError {
        YAMLEmitError(
            function: function,
            message: emitter.pointee.problem.map { String(cString: $0) } ?? "unknown error"
        )
    }
}
