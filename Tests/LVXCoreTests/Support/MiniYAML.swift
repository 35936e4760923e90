import LVXCore

/// A failure of the test-only YAML reader: the tests' own input is malformed.
struct MiniYAMLError: Error, CustomStringConvertible {
    var line: Int
    var column: Int
    var message: String
    var description: String { "\(line):\(column): \(message)" }
}

/// A tiny reader for the block-YAML subset the tests use, producing ``Node``s with the locations
/// libyaml would report (1-based line and column of the node's first character; a block mapping
/// or list starts at its first key or dash).
///
/// Supported: block mappings and lists (including `- key: value` items), one-line flow mappings
/// and lists (`{a: 1, b: [x, y]}`), plain, single- and double-quoted scalars, `#` comments and
/// empty values (null). Not supported: anchors, tags, multi-line scalars or flows, documents.
struct MiniYAML {
    private var lines: [[Character]]
    private let file: String
    private var row = 0

    /// Parses `text` as the file `file`; an empty document is a null scalar at 1:1.
    static func parse(_ text: String, file: String) throws(MiniYAMLError) -> Node {
        var reader = MiniYAML(text: text, file: file)
        return try reader.document()
    }

    private init(text: String, file: String) {
        self.lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0) }
        self.file = file
    }

    private mutating func document() throws(MiniYAMLError) -> Node {
        skipBlank()
        guard row < lines.count else { return .scalar("", quoted: false, location(0, 0)) }
        let node = try block()
        skipBlank()
        if row < lines.count { throw failure(row, indent(row), "unexpected content after the document") }
        return node
    }

    // MARK: block structure

    private mutating func block() throws(MiniYAMLError) -> Node {
        let column = indent(row)
        if isListItem(row, column) { return try list(column) }
        if try key(row, column) != nil { return try mapping(column) }
        var index = column
        let node = try inline(row, &index, inFlow: false)
        try expectLineEnd(row, index)
        row += 1
        return node
    }

    private mutating func mapping(_ column: Int) throws(MiniYAMLError) -> Node {
        let start = location(row, column)
        var pairs: [(key: Node, value: Node)] = []
        while true {
            skipBlank()
            guard row < lines.count, indent(row) == column, !isListItem(row, column) else { break }
            guard let (keyNode, afterColon) = try key(row, column) else {
                throw failure(row, column, "expected 'key: value'")
            }
            let valueColumn = skipSpaces(row, afterColon)
            let value: Node
            if isLineEnd(row, valueColumn) {
                let keyRow = row
                row += 1
                skipBlank()
                if row < lines.count, indent(row) > column || (indent(row) == column && isListItem(row, column)) {
                    value = try block()
                } else {
                    value = .scalar("", quoted: false, location(keyRow, afterColon))
                }
            } else {
                var index = valueColumn
                value = try inline(row, &index, inFlow: false)
                try expectLineEnd(row, index)
                row += 1
            }
            pairs.append((keyNode, value))
        }
        if row < lines.count, indent(row) > column { throw failure(row, indent(row), "unexpected indentation") }
        return .mapping(pairs, start)
    }

    private mutating func list(_ column: Int) throws(MiniYAMLError) -> Node {
        let start = location(row, column)
        var items: [Node] = []
        while true {
            skipBlank()
            guard row < lines.count, indent(row) == column, isListItem(row, column) else { break }
            let contentColumn = skipSpaces(row, column + 1)
            if isLineEnd(row, contentColumn) {
                let dashRow = row
                row += 1
                skipBlank()
                if row < lines.count, indent(row) > column {
                    items.append(try block())
                } else {
                    items.append(.scalar("", quoted: false, location(dashRow, column + 1)))
                }
            } else {
                // Blank out the dash: the item's content becomes a line indented to its first character.
                lines[row][column] = " "
                items.append(try block())
            }
        }
        return .sequence(items, start)
    }

    /// The key at `column` of `row` and the column after its colon, or `nil` if the line is no `key:` line.
    private func key(_ row: Int, _ column: Int) throws(MiniYAMLError) -> (Node, Int)? {
        let line = lines[row]
        var index = column
        let keyNode: Node
        if line[index] == "\"" || line[index] == "'" {
            keyNode = try quoted(row, &index)
        } else {
            guard line[index] != "{", line[index] != "[" else { return nil }
            while index < line.count {
                if line[index] == ":" && (index + 1 == line.count || line[index + 1] == " ") { break }
                if line[index] == "#" && index > column && line[index - 1] == " " { return nil }
                index += 1
            }
            guard index < line.count else { return nil }
            let text = String(line[column..<index]).trimmingTrailingSpaces()
            keyNode = .scalar(text, quoted: false, location(row, column))
        }
        index = skipSpaces(row, index)
        guard index < line.count, line[index] == ":", index + 1 == line.count || line[index + 1] == " " else {
            return nil
        }
        return (keyNode, index + 1)
    }

    // MARK: inline values

    private func inline(_ row: Int, _ index: inout Int, inFlow: Bool) throws(MiniYAMLError) -> Node {
        let line = lines[row]
        index = skipSpaces(row, index)
        guard index < line.count else { throw failure(row, index, "expected a value") }
        switch line[index] {
        case "{":
            let start = location(row, index)
            index += 1
            var pairs: [(key: Node, value: Node)] = []
            while true {
                index = skipSpaces(row, index)
                guard index < line.count else { throw failure(row, index, "unterminated '{'") }
                if line[index] == "}" {
                    index += 1
                    break
                }
                let keyNode = try inline(row, &index, inFlow: true)
                index = skipSpaces(row, index)
                guard index < line.count, line[index] == ":" else { throw failure(row, index, "expected ':'") }
                index = skipSpaces(row, index + 1)
                let value: Node
                if index < line.count, line[index] == "," || line[index] == "}" {
                    value = .scalar("", quoted: false, location(row, index))
                } else {
                    value = try inline(row, &index, inFlow: true)
                }
                pairs.append((keyNode, value))
                index = skipSpaces(row, index)
                if index < line.count, line[index] == "," { index += 1 }
            }
            return .mapping(pairs, start)
        case "[":
            let start = location(row, index)
            index += 1
            var items: [Node] = []
            while true {
                index = skipSpaces(row, index)
                guard index < line.count else { throw failure(row, index, "unterminated '['") }
                if line[index] == "]" {
                    index += 1
                    break
                }
                items.append(try inline(row, &index, inFlow: true))
                index = skipSpaces(row, index)
                if index < line.count, line[index] == "," { index += 1 }
            }
            return .sequence(items, start)
        case "\"", "'":
            return try quoted(row, &index)
        default:
            let start = index
            while index < line.count {
                let c = line[index]
                if c == "#" && index > start && line[index - 1] == " " { break }
                if inFlow {
                    if c == "," || c == "]" || c == "}" || c == "[" || c == "{" { break }
                    if c == ":" && (index + 1 == line.count || " ,]}".contains(line[index + 1])) { break }
                }
                index += 1
            }
            let text = String(line[start..<index]).trimmingTrailingSpaces()
            return .scalar(text, quoted: false, location(row, start))
        }
    }

    private func quoted(_ row: Int, _ index: inout Int) throws(MiniYAMLError) -> Node {
        let line = lines[row]
        let quote = line[index]
        let start = location(row, index)
        index += 1
        var text = ""
        while true {
            guard index < line.count else { throw failure(row, index, "unterminated string") }
            let c = line[index]
            if c == quote {
                if quote == "'", index + 1 < line.count, line[index + 1] == "'" {
                    text.append("'")
                    index += 2
                    continue
                }
                index += 1
                break
            }
            if quote == "\"", c == "\\", index + 1 < line.count {
                let escaped = line[index + 1]
                text.append(escaped == "n" ? "\n" : escaped == "t" ? "\t" : escaped)
                index += 2
                continue
            }
            text.append(c)
            index += 1
        }
        return .scalar(text, quoted: true, start)
    }

    // MARK: lines

    private func indent(_ row: Int) -> Int { lines[row].prefix { $0 == " " }.count }

    private func isListItem(_ row: Int, _ column: Int) -> Bool {
        let line = lines[row]
        return column < line.count && line[column] == "-" && (column + 1 == line.count || line[column + 1] == " ")
    }

    private func skipSpaces(_ row: Int, _ index: Int) -> Int {
        var index = index
        while index < lines[row].count, lines[row][index] == " " { index += 1 }
        return index
    }

    private func isLineEnd(_ row: Int, _ index: Int) -> Bool {
        let index = skipSpaces(row, index)
        return index >= lines[row].count || lines[row][index] == "#"
    }

    private func expectLineEnd(_ row: Int, _ index: Int) throws(MiniYAMLError) {
        if !isLineEnd(row, index) { throw failure(row, index, "unexpected text after the value") }
    }

    private mutating func skipBlank() {
        while row < lines.count, isLineEnd(row, 0) { row += 1 }
    }

    private func location(_ row: Int, _ index: Int) -> SourceLocation {
        SourceLocation(file: file, line: row + 1, column: index + 1)
    }

    private func failure(_ row: Int, _ index: Int, _ message: String) -> MiniYAMLError {
        MiniYAMLError(line: row + 1, column: index + 1, message: message)
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
