import LVXCore
import LVXYAML
import Testing

/// Broken documents: the exact message and `line:column` a user sees.
@Suite struct ErrorMessageTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var text: [UInt8]
        var limits: DocumentLimits = .standard
        var expected: String
        var kind: YAMLError.Kind
        var testDescription: String { name }
    }

    static let billionLaughs = """
        a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]
        b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
        c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
        d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
        e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]

        """

    static let cases: [Case] = [
        Case(
            name: "unclosed flow sequence",
            text: Array("a: [1, 2\nb: 3\n".utf8),
            expected:
                "f.yaml:2:2: error: did not find expected ',' or ']' while parsing a flow sequence started at line 1, column 4",
            kind: .syntax
        ),
        Case(
            name: "key indented less than its siblings",
            text: Array("a:\n  b: 1\n c: 2\n".utf8),
            expected:
                "f.yaml:3:2: error: did not find expected key while parsing a block mapping started at line 1, column 1",
            kind: .syntax
        ),
        Case(
            name: "key indented under a scalar",
            text: Array("a: 1\n  b: 2\n".utf8),
            expected: "f.yaml:2:4: error: mapping values are not allowed in this context",
            kind: .syntax
        ),
        Case(
            name: "tab indentation",
            text: Array("a:\n\tb: 1\n".utf8),
            expected:
                "f.yaml:2:1: error: found character that cannot start any token while scanning for the next token",
            kind: .syntax
        ),
        Case(
            name: "unterminated double-quoted string",
            text: Array("a: \"abc\nb: 2\n".utf8),
            expected:
                "f.yaml:3:1: error: found unexpected end of stream while scanning a quoted scalar started at line 1, column 4",
            kind: .syntax
        ),
        Case(
            name: "duplicate key",
            text: Array("a: 1\nb: 2\na: 3\n".utf8),
            expected: "f.yaml:3:1: error: duplicate key 'a' (first defined at line 1)",
            kind: .duplicateKey
        ),
        Case(
            name: "duplicate key in a nested mapping",
            text: Array("unit:\n  port: a\n  baud: 2400\n  'port': b\n".utf8),
            expected: "f.yaml:4:3: error: duplicate key 'port' (first defined at line 2)",
            kind: .duplicateKey
        ),
        Case(
            name: "nesting deeper than the limit",
            text: Array("a:\n  b:\n    c:\n      d: 1\n".utf8),
            limits: DocumentLimits(maxDepth: 3),
            expected: "f.yaml:4:7: error: nesting is deeper than the limit of 3 levels",
            kind: .limit
        ),
        Case(
            name: "33 nested flow sequences against the standard limit of 32",
            text: Array((String(repeating: "[", count: 33) + String(repeating: "]", count: 33) + "\n").utf8),
            expected: "f.yaml:1:33: error: nesting is deeper than the limit of 32 levels",
            kind: .limit
        ),
        Case(
            // a = 10 nodes; b expands 9 x 10 = 90; c expands 9 x 91 = 819 (909 in all);
            // d's first alias of c adds 820 more: over 1000 at line 4, column 8.
            name: "alias bomb (billion laughs)",
            text: Array(billionLaughs.utf8),
            expected: "f.yaml:4:8: error: aliases expand to more than 1000 nodes, the limit",
            kind: .limit
        ),
        Case(
            name: "oversize document",
            text: Array("key: value that is long\n".utf8),
            limits: DocumentLimits(maxBytes: 16),
            expected: "f.yaml:1:1: error: the file is 24 bytes, more than the limit of 16 bytes",
            kind: .limit
        ),
        Case(
            name: "too many nodes",
            text: Array("[1, 2, 3, 4, 5]\n".utf8),
            limits: DocumentLimits(maxNodes: 4),
            expected: "f.yaml:1:11: error: the document has more than 4 nodes, the limit",
            kind: .limit
        ),
        Case(
            name: "two documents",
            text: Array("a: 1\n---\nb: 2\n".utf8),
            expected: "f.yaml:2:1: error: a second document starts here; a file holds exactly one YAML document",
            kind: .multipleDocuments
        ),
        Case(
            name: "invalid UTF-8",
            text: Array("a: 1\nb: x".utf8) + [0xFF, 0x0A],
            expected: "f.yaml:2:5: error: invalid leading UTF-8 octet 0xff",
            kind: .encoding
        ),
        Case(
            name: "merge key",
            text: Array("base: &b {x: 1}\nunit:\n  <<: *b\n".utf8),
            expected: "f.yaml:3:3: error: merge keys ('<<') are not supported",
            kind: .unsupported
        ),
        Case(
            name: "custom tag",
            text: Array("a: !secret 1\n".utf8),
            expected: "f.yaml:1:4: error: tag '!secret' is not supported on a scalar",
            kind: .unsupported
        ),
        Case(
            name: "standard tag on the wrong kind",
            text: Array("a: !!map [1]\n".utf8),
            expected: "f.yaml:1:4: error: tag '!!map' is not supported on a list",
            kind: .unsupported
        ),
        Case(
            name: "unknown alias",
            text: Array("a: *nope\n".utf8),
            expected: "f.yaml:1:4: error: unknown alias '*nope'",
            kind: .syntax
        ),
        Case(
            name: "collection as a key",
            text: Array("? [a, b]\n: 1\n".utf8),
            expected: "f.yaml:1:3: error: a mapping key must be a scalar, not a list",
            kind: .unsupported
        ),
    ]

    @Test(arguments: cases)
    func reportsExactMessageAndLocation(_ example: Case) {
        #expect(throws: YAMLError.self) {
            try YAMLParser.parse(example.text, file: "f.yaml", limits: example.limits)
        }
        do {
            _ = try YAMLParser.parse(example.text, file: "f.yaml", limits: example.limits)
        } catch {
            #expect(error.description == example.expected)
            #expect(error.kind == example.kind)
            #expect(error.diagnostic.location == error.location)
            #expect(error.diagnostic.severity == .error)
        }
    }

    @Test func hintsSayWhatToDo() throws {
        let tab = try #require(parseError("a:\n\tb: 1\n"))
        #expect(tab.hint == "indent with spaces; YAML does not allow tabs for indentation")
        let duplicate = try #require(parseError("a: 1\na: 2\n"))
        #expect(duplicate.diagnostic.hint == "keep one of them")
        let utf8 = try #require(parseError(bytes: [0x61, 0x3A, 0x20, 0xC3, 0x28, 0x0A]))
        #expect(utf8.hint == "save the file as UTF-8 text")
        let merge = try #require(parseError("a: &x {b: 1}\nc:\n  <<: *x\n"))
        #expect(merge.hint == "write the keys out in full")
    }

    @Test func aliasesWithinTheLimitAreExpanded() throws {
        // The same bomb, one level shorter, expands to 909 nodes: allowed, and really expanded.
        let text = Self.billionLaughs.split(separator: "\n").prefix(3).joined(separator: "\n") + "\n"
        let node = try YAMLParser.parse(Array(text.utf8), file: "f.yaml")
        guard case .mapping(let pairs, _) = node, case .sequence(let c, _) = pairs[2].value,
            case .sequence(let b, _) = c[8], case .sequence(let a, _) = b[8]
        else {
            Issue.record("unexpected shape \(node)")
            return
        }
        #expect(c.count == 9 && b.count == 9 && a.count == 9)
        #expect(a[0].scalarText == "lol")
        #expect(throws: YAMLError.self) {
            try YAMLParser.parse(Array(text.utf8), file: "f.yaml", limits: DocumentLimits(maxAliasExpansions: 908))
        }
    }

    @Test func sizeLimitIsCheckedBeforeParsing() {
        // Broken YAML larger than the limit reports the size, not the syntax.
        let error = parseError(bytes: Array("[[[".utf8), limits: DocumentLimits(maxBytes: 2))
        #expect(error?.kind == .limit)
        #expect(error?.location == LVXCore.SourceLocation(file: "f.yaml", line: 1, column: 1))
    }

    private func parseError(
        _ text: String = "",
        bytes: [UInt8]? = nil,
        limits: DocumentLimits = .standard
    ) -> YAMLError? {
        do {
            _ = try YAMLParser.parse(bytes ?? Array(text.utf8), file: "f.yaml", limits: limits)
            return nil
        } catch {
            return error
        }
    }
}
