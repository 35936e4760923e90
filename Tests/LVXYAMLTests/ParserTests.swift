import LVXCore
import LVXYAML
import Testing

/// Valid documents: the tree, every node's 1-based location, and quoting.
@Suite struct ParserTests {
    private func parse(_ text: String) throws -> Node {
        try YAMLParser.parse(Array(text.utf8), file: "units/shed.yaml")
    }

    private func at(_ line: Int, _ column: Int) -> LVXCore.SourceLocation {
        LVXCore.SourceLocation(file: "units/shed.yaml", line: line, column: column)
    }

    @Test func buildsLocatedTree() throws {
        let text = """
            # a unit
            serial: "96142109100037"
            profile: profiles/lead.yaml
            tolerance:
              cutoff_voltage: 0.5
            ports: [hidraw0, 'ttyUSB0']

            """
        let expected = Node.mapping(
            [
                (.scalar("serial", quoted: false, at(2, 1)), .scalar("96142109100037", quoted: true, at(2, 9))),
                (.scalar("profile", quoted: false, at(3, 1)), .scalar("profiles/lead.yaml", quoted: false, at(3, 10))),
                (
                    .scalar("tolerance", quoted: false, at(4, 1)),
                    .mapping(
                        [
                            (
                                .scalar("cutoff_voltage", quoted: false, at(5, 3)),
                                .scalar("0.5", quoted: false, at(5, 19))
                            )
                        ],
                        at(5, 3)
                    )
                ),
                (
                    .scalar("ports", quoted: false, at(6, 1)),
                    .sequence(
                        [.scalar("hidraw0", quoted: false, at(6, 9)), .scalar("ttyUSB0", quoted: true, at(6, 18))],
                        at(6, 8)
                    )
                ),
            ],
            at(2, 1)
        )
        #expect(try parse(text) == expected)
    }

    @Test func columnsCountCharactersNotBytes() throws {
        let node = try parse("name: ünï\nnext: [ä, b]\n")
        guard case .mapping(let pairs, _) = node, case .sequence(let items, _) = pairs[1].value else {
            Issue.record("unexpected shape")
            return
        }
        #expect(items[1].location == at(2, 11))
    }

    @Test(arguments: ["", "# only a comment\n", "---\n", "\n\n"])
    func emptyDocumentIsEmptyMapping(_ text: String) throws {
        #expect(try parse(text) == .mapping([], at(1, 1)))
    }

    @Test func quotedMeansNotPlain() throws {
        let text = """
            plain: 60
            single: '60'
            double: "60"
            literal: |
              60
            folded: >
              60
            tagged_str: !!str 60
            tagged_int: !!int "60"
            bare_bang: ! 60
            empty:
            tilde: ~

            """
        guard case .mapping(let pairs, _) = try parse(text) else {
            Issue.record("not a mapping")
            return
        }
        let quoted = Dictionary(
            uniqueKeysWithValues: pairs.map { pair -> (String, Bool) in
                guard case .scalar(_, let q, _) = pair.value else { return (pair.key.scalarText ?? "", false) }
                return (pair.key.scalarText ?? "", q)
            }
        )
        #expect(quoted["plain"] == false)
        #expect(quoted["single"] == true)
        #expect(quoted["double"] == true)
        #expect(quoted["literal"] == true)
        #expect(quoted["folded"] == true)
        #expect(quoted["tagged_str"] == true)
        #expect(quoted["tagged_int"] == false)
        #expect(quoted["bare_bang"] == true)
        #expect(pairs[3].value.scalarText == "60\n")
        #expect(pairs.count == 10)
        #expect(pairs[8].value.isNull)
        #expect(pairs[9].value.isNull)
    }

    @Test func aliasBecomesCopyOfAnchoredNode() throws {
        let text = """
            defaults: &d
              float_voltage: 54.0
              bulk_voltage: 56.4
            unit: *d

            """
        guard case .mapping(let pairs, _) = try parse(text) else {
            Issue.record("not a mapping")
            return
        }
        #expect(pairs[1].value == pairs[0].value)
        guard case .mapping(let copied, _) = pairs[1].value else {
            Issue.record("alias did not expand to a mapping")
            return
        }
        #expect(copied.map { $0.key.scalarText } == ["float_voltage", "bulk_voltage"])
    }

    @Test func escapesAreDecoded() throws {
        guard case .mapping(let pairs, _) = try parse("a: \"tab\\there \\u00e9\"\n") else {
            Issue.record("not a mapping")
            return
        }
        #expect(pairs[0].value.scalarText == "tab\there é")
    }

    @Test func byteOrderMarkIsAccepted() throws {
        let node = try YAMLParser.parse([0xEF, 0xBB, 0xBF] + Array("a: 1\n".utf8), file: "f")
        #expect(node.kindName == "a mapping")
    }
}
