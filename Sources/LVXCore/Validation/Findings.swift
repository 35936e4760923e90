/// Collects every diagnostic a validation pass finds, so all problems are reported at once.
struct Findings {
    private(set) var diagnostics: [Diagnostic] = []

    var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    mutating func error(_ code: ValidationCode, at location: SourceLocation?, _ message: String, hint: String? = nil) {
        diagnostics.append(Diagnostic(.error, at: location, message, hint: hint, code: code.rawValue))
    }

    mutating func warning(_ code: ValidationCode, at location: SourceLocation?, _ message: String, hint: String? = nil)
    {
        diagnostics.append(Diagnostic(.warning, at: location, message, hint: hint, code: code.rawValue))
    }

    /// The diagnostics ordered by place (file, line, column), unplaced ones first, otherwise as found.
    var sorted: [Diagnostic] {
        diagnostics.enumerated()
            .sorted { a, b in
                switch (a.element.location, b.element.location) {
                case (nil, nil): return a.offset < b.offset
                case (nil, _): return true
                case (_, nil): return false
                case (let la?, let lb?): return la == lb ? a.offset < b.offset : la < lb
                }
            }
            .map(\.element)
    }
}

/// The keys of one mapping, checked against the keys allowed there.
struct Fields {
    /// The mapping's own location.
    let location: SourceLocation
    /// The first entry for each allowed key, in document order.
    private(set) var entries: [(name: String, key: Node, value: Node)] = []

    init(location: SourceLocation) { self.location = location }

    /// The value of `name`, or `nil` when it is absent or null.
    func value(_ name: String) -> Node? {
        guard let entry = entries.first(where: { $0.name == name }), !entry.value.isNull else { return nil }
        return entry.value
    }

    /// The key node of `name`, if present.
    func keyNode(_ name: String) -> Node? { entries.first { $0.name == name }?.key }

    fileprivate mutating func add(_ name: String, key: Node, value: Node) { entries.append((name, key, value)) }
}

/// Reading typed values out of ``Node``s, reporting each problem to ``Findings``.
extension Findings {
    /// The pairs of a mapping, reporting a wrong type.
    ///
    /// `label` says what the mapping is, for messages: `'units'`, `unit '96142109100037'`.
    mutating func pairs(of node: Node, label: String) -> [(key: Node, value: Node)]? {
        guard case .mapping(let pairs, _) = node else {
            error(.wrongType, at: node.location, "expected a mapping for \(label), got \(Self.describe(node))")
            return nil
        }
        return pairs
    }

    /// The entries of a list, reporting a wrong type.
    mutating func items(of node: Node, label: String, hint: String? = nil) -> [Node]? {
        guard case .sequence(let items, _) = node else {
            error(.wrongType, at: node.location, "expected a list for \(label), got \(Self.describe(node))", hint: hint)
            return nil
        }
        return items
    }

    /// A mapping's entries with scalar keys: reports a wrong type, non-scalar keys and duplicate
    /// keys (keeping the first).
    mutating func uniquePairs(of node: Node, label: String) -> [(name: String, key: Node, value: Node)]? {
        guard let pairs = pairs(of: node, label: label) else { return nil }
        var result: [(name: String, key: Node, value: Node)] = []
        var seen: [String: SourceLocation] = [:]
        for pair in pairs {
            guard let name = keyText(pair.key) else { continue }
            if let first = seen[name] {
                error(
                    .duplicateKey,
                    at: pair.key.location,
                    "duplicate key '\(name)' (first at line \(first.line))",
                    hint: "remove one of them"
                )
                continue
            }
            seen[name] = pair.key.location
            result.append((name, pair.key, pair.value))
        }
        return result
    }

    /// A mapping's fields: reports a wrong type, non-scalar keys, duplicate keys and unknown keys
    /// (with a suggestion), and returns the allowed ones.
    mutating func fields(of node: Node, label: String, allowed: [String]) -> Fields? {
        guard let pairs = uniquePairs(of: node, label: label) else { return nil }
        var fields = Fields(location: node.location)
        for pair in pairs {
            guard allowed.contains(pair.name) else {
                unknownKey(pair.name, at: pair.key.location, allowed: allowed)
                continue
            }
            fields.add(pair.name, key: pair.key, value: pair.value)
        }
        return fields
    }

    /// The text of a mapping key, reporting a key that is a list or mapping.
    mutating func keyText(_ key: Node) -> String? {
        guard let text = key.scalarText else {
            error(.wrongType, at: key.location, "expected a key name, got \(Self.describe(key))")
            return nil
        }
        return text
    }

    /// Reports `name` as an unknown key, suggesting the closest allowed one.
    mutating func unknownKey(_ name: String, at location: SourceLocation, allowed: [String]) {
        let suggestion = Suggestion.closest(to: name, among: allowed)
        let message = "unknown key '\(name)'" + (suggestion.map { "; did you mean '\($0)'?" } ?? "")
        error(.unknownKey, at: location, message, hint: "allowed here: \(allowed.joined(separator: ", "))")
    }

    /// Reports a required key that is absent (or null).
    mutating func requireValue(_ fields: Fields, _ name: String, in label: String, hint: String) -> Node? {
        if let value = fields.value(name) { return value }
        let location = fields.keyNode(name)?.location ?? fields.location
        if fields.keyNode(name) != nil {
            error(.emptyValue, at: location, "'\(name)' has no value \(label)", hint: hint)
        } else {
            error(.missingKey, at: location, "missing required key '\(name)' \(label)", hint: hint)
        }
        return nil
    }

    /// A string scalar (quoted or not), reporting a collection or an empty value.
    mutating func string(_ node: Node, label: String, hint: String? = nil) -> String? {
        guard case .scalar(let text, _, _) = node, !node.isNull else {
            error(
                .wrongType,
                at: node.location,
                "expected a string for \(label), got \(Self.describe(node))",
                hint: hint
            )
            return nil
        }
        guard !text.isEmpty else {
            error(.emptyValue, at: node.location, "\(label) must not be empty", hint: hint)
            return nil
        }
        return text
    }

    /// An unquoted decimal number, reporting text, quoted numbers and collections.
    mutating func number(_ node: Node, label: String, hint: String? = nil) -> DecimalNumber? {
        guard case .scalar(let text, let quoted, _) = node, !node.isNull else {
            error(
                .wrongType,
                at: node.location,
                "expected a number for \(label), got \(Self.describe(node))",
                hint: hint
            )
            return nil
        }
        guard let number = DecimalNumber(text) else {
            error(.wrongType, at: node.location, "expected a number for \(label), got '\(text)'", hint: hint)
            return nil
        }
        guard !quoted else {
            error(
                .wrongType,
                at: node.location,
                "expected a number for \(label), got the string \"\(text)\"",
                hint: "remove the quotes"
            )
            return nil
        }
        return number
    }

    /// An unquoted `true` or `false`.
    mutating func bool(_ node: Node, label: String) -> Bool? {
        if case .scalar(let text, false, _) = node {
            switch text {
            case "true", "True", "TRUE": return true
            case "false", "False", "FALSE": return false
            default: break
            }
        }
        error(.wrongType, at: node.location, "expected true or false for \(label), got \(Self.describe(node))")
        return nil
    }

    /// How a node is named in "got ..." messages: its text in quotes, `nothing`, or its kind.
    static func describe(_ node: Node) -> String {
        if node.isNull { return "nothing" }
        if let text = node.scalarText { return "'\(text)'" }
        return node.kindName
    }
}
