import LVXCore
import LVXYAML
import Testing

/// The test helper that lets repeated keys reach the loader must otherwise give libyaml's tree exactly.
@Suite struct FixturesTests {
    private func at(_ line: Int, _ column: Int) -> LVXCore.SourceLocation {
        LVXCore.SourceLocation(file: "t.yaml", line: line, column: column)
    }

    @Test("without repeated keys the tree is YAMLParser's")
    func sameTree() throws {
        let text = Fixture.seedSite
        #expect(try parseYAMLKeepingDuplicateKeys(text, file: "t.yaml") == parseYAML(text, file: "t.yaml"))
    }

    @Test("a repeated key is kept, with the columns after it on its line where libyaml puts them")
    func repeatedKeys() throws {
        let node = try parseYAMLKeepingDuplicateKeys("a: {x: 1, \"x\": 2, y: 3}\na: 4", file: "t.yaml")
        let expected = Node.mapping(
            [
                (
                    .scalar("a", quoted: false, at(1, 1)),
                    .mapping(
                        [
                            (.scalar("x", quoted: false, at(1, 5)), .scalar("1", quoted: false, at(1, 8))),
                            (.scalar("x", quoted: true, at(1, 11)), .scalar("2", quoted: false, at(1, 16))),
                            (.scalar("y", quoted: false, at(1, 19)), .scalar("3", quoted: false, at(1, 22))),
                        ],
                        at(1, 4)
                    )
                ),
                (.scalar("a", quoted: false, at(2, 1)), .scalar("4", quoted: false, at(2, 4))),
            ],
            at(1, 1)
        )
        #expect(node == expected)
    }

    @Test("other YAML errors are still thrown")
    func otherErrors() {
        #expect(throws: YAMLError.self) { try parseYAMLKeepingDuplicateKeys("a: [1, 2", file: "t.yaml") }
    }
}
