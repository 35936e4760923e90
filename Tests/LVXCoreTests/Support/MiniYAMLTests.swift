import LVXCore
import Testing

/// The test reader must place nodes where libyaml does, or every location asserted elsewhere is suspect.
@Suite struct MiniYAMLTests {
    private func at(_ line: Int, _ column: Int) -> LVXCore.SourceLocation {
        LVXCore.SourceLocation(file: "t.yaml", line: line, column: column)
    }

    @Test func blockMappingWithFlowValuesKeepsLocations() throws {
        let node = try MiniYAML.parse(
            """
            # comment
            units:
              "961": {name: a, port: "x:y"}
            list: [1, 'it''s']
            empty:
            """,
            file: "t.yaml"
        )
        let expected = Node.mapping(
            [
                (
                    .scalar("units", quoted: false, at(2, 1)),
                    .mapping(
                        [
                            (
                                .scalar("961", quoted: true, at(3, 3)),
                                .mapping(
                                    [
                                        (
                                            .scalar("name", quoted: false, at(3, 11)),
                                            .scalar("a", quoted: false, at(3, 17))
                                        ),
                                        (
                                            .scalar("port", quoted: false, at(3, 20)),
                                            .scalar("x:y", quoted: true, at(3, 26))
                                        ),
                                    ],
                                    at(3, 10)
                                )
                            )
                        ],
                        at(3, 3)
                    )
                ),
                (
                    .scalar("list", quoted: false, at(4, 1)),
                    .sequence(
                        [.scalar("1", quoted: false, at(4, 8)), .scalar("it's", quoted: true, at(4, 11))],
                        at(4, 7)
                    )
                ),
                (.scalar("empty", quoted: false, at(5, 1)), .scalar("", quoted: false, at(5, 7))),
            ],
            at(2, 1)
        )
        #expect(node == expected)
    }

    @Test func listItemsMayBeBlockMappings() throws {
        let node = try MiniYAML.parse(
            """
            accept:
              - unit: a   # trailing comment
                key: b
              - plain text
            """,
            file: "t.yaml"
        )
        let expected = Node.mapping(
            [
                (
                    .scalar("accept", quoted: false, at(1, 1)),
                    .sequence(
                        [
                            .mapping(
                                [
                                    (.scalar("unit", quoted: false, at(2, 5)), .scalar("a", quoted: false, at(2, 11))),
                                    (.scalar("key", quoted: false, at(3, 5)), .scalar("b", quoted: false, at(3, 10))),
                                ],
                                at(2, 5)
                            ),
                            .scalar("plain text", quoted: false, at(4, 5)),
                        ],
                        at(2, 3)
                    )
                )
            ],
            at(1, 1)
        )
        #expect(node == expected)
    }

    @Test func emptyDocumentIsNull() throws {
        #expect(try MiniYAML.parse("# nothing\n", file: "t.yaml").isNull)
    }

    @Test func malformedInputIsRejected() {
        #expect(throws: MiniYAMLError.self) { try MiniYAML.parse("a: {b: 1", file: "t.yaml") }
        #expect(throws: MiniYAMLError.self) { try MiniYAML.parse("a: 1\n    b: 2", file: "t.yaml") }
    }
}
