import LVXCore
import LVXYAML
import Testing

/// The emitter's exact output, and that what it writes reads back as the same strings.
@Suite struct EmitterTests {
    @Test func rendersBlockMappingWithoutDocumentMarkers() throws {
        let node = EmitNode.mapping([
            (key: "serial", value: .string("96142109100037")),
            (key: "battery_type", value: .plain("USER")),
            (key: "cutoff_voltage", value: .plain("48.0")),
            (key: "ports", value: .sequence([.string("hidraw0"), .string("ttyUSB0")])),
            (key: "tolerance", value: .mapping([(key: "bulk_voltage", value: .plain("0.2"))])),
            (key: "flow", value: .mapping([(key: "a", value: .plain("1")), (key: "b", value: .string("x y"))], .flow)),
            (key: "list", value: .sequence([.plain("1"), .plain("2")], .flow)),
            (key: "name", value: .string("Schuppen ünï")),
        ])
        let expected = """
            serial: '96142109100037'
            battery_type: USER
            cutoff_voltage: 48.0
            ports:
            - hidraw0
            - ttyUSB0
            tolerance:
              bulk_voltage: 0.2
            flow: {a: 1, b: x y}
            list: [1, 2]
            name: Schuppen ünï

            """
        #expect(try YAMLEmitter.render(node) == expected)
    }

    @Test func explicitStyles() throws {
        let node = EmitNode.sequence([
            .scalar("a", .singleQuoted), .scalar("b", .doubleQuoted), .scalar("c", .plain), .scalar("d", .any),
        ])
        #expect(try YAMLEmitter.render(node) == "- 'a'\n- \"b\"\n- c\n- d\n")
    }

    @Test func longLinesAreNotFolded() throws {
        let long = String(repeating: "word ", count: 60) + "end"
        #expect(try YAMLEmitter.render(.mapping([(key: "k", value: .string(long))])) == "k: \(long)\n")
    }

    @Test func emptyStringIsQuoted() throws {
        #expect(try YAMLEmitter.render(.mapping([(key: "empty", value: .string(""))])) == "empty: ''\n")
    }

    static let trickyStrings = [
        "96142109100037", "yes", "no", "Yes", "ON", "off", "y", "n", "true", "False", "null", "Null", "~", "",
        "1e3", "0x10", "0o17", "1_000", "-1", "+1", "1.5", ".5", "-.5", ".inf", "-.Inf", ".nan", "2024-01-01",
        "12:30", "a: b", "#x", "a #b", " lead", "trail ", "- item", "-", "?", ":", "key:", "[x]", "{y}", "&a",
        "*b", "!t", "%p", "@at", "`bt", "|", ">", "'single'", "\"double\"", "<<", "=", "ünï", "multi\nline",
        "tab\there", "bell\u{7}", "USER", "main", "profiles/lead.yaml", "48.0V",
    ]

    @Test(arguments: trickyStrings)
    func stringRoundTripsAsTheSameString(_ text: String) throws {
        let yaml = try YAMLEmitter.render(.mapping([(key: text, value: .string(text))]))
        let node = try YAMLParser.parse(Array(yaml.utf8), file: "round-trip")
        guard case .mapping(let pairs, _) = node, pairs.count == 1,
            case .scalar(let key, let keyQuoted, _) = pairs[0].key,
            case .scalar(let value, let valueQuoted, _) = pairs[0].value
        else {
            Issue.record("unexpected tree for \(yaml.debugDescription): \(node)")
            return
        }
        #expect(key == text, "key in \(yaml.debugDescription)")
        #expect(value == text, "value in \(yaml.debugDescription)")
        // Text a reader would take as null, bool or number must come back quoted.
        let ambiguous = ["96142109100037", "yes", "null", "~", "", "1e3", "0x10", "true", "-1", ".5", ".inf"]
        if ambiguous.contains(text) {
            #expect(valueQuoted && keyQuoted, "\(yaml.debugDescription) is not quoted")
        }
    }

    @Test func plainStaysPlainWhenUnambiguous() throws {
        #expect(
            try YAMLEmitter.render(.mapping([(key: "battery_type", value: .string("USER"))])) == "battery_type: USER\n"
        )
    }

    @Test func scalarsRoundTripThroughParserWithStructure() throws {
        let node = EmitNode.mapping([
            (
                key: "units",
                value: .sequence([
                    .mapping([(key: "serial", value: .string("123")), (key: "port", value: .string("hidraw0"))]),
                    .mapping([(key: "serial", value: .string("456")), (key: "port", value: .string(""))]),
                ])
            )
        ])
        let parsed = try YAMLParser.parse(Array(try YAMLEmitter.render(node).utf8), file: "f")
        guard case .mapping(let top, _) = parsed, case .sequence(let units, _) = top[0].value,
            case .mapping(let second, _) = units[1]
        else {
            Issue.record("unexpected tree \(parsed)")
            return
        }
        #expect(second.map { $0.value.scalarText } == ["456", ""])
        #expect(!second[1].value.isNull)
    }

    @Test func rendersCommentedProfile() throws {
        let text = try YAMLEmitter.renderCommented(
            [
                (comments: ["enum: AGM | FLOODED | USER"], key: "battery_type", value: .plain("USER")),
                (comments: ["V 40.0..48.0 - cut-off", "second line"], key: "cutoff_voltage", value: .plain("48.0")),
                (comments: [], key: "serial", value: .string("96142109100037")),
            ],
            header: ["header line", "another"]
        )
        let expected = """
            # header line
            # another

            # enum: AGM | FLOODED | USER
            battery_type: USER

            # V 40.0..48.0 - cut-off
            # second line
            cutoff_voltage: 48.0

            serial: '96142109100037'

            """
        #expect(text == expected)
        let parsed = try YAMLParser.parse(Array(text.utf8), file: "dump.yaml")
        guard case .mapping(let pairs, _) = parsed else {
            Issue.record("not a mapping")
            return
        }
        #expect(pairs.map { $0.key.scalarText } == ["battery_type", "cutoff_voltage", "serial"])
        #expect(pairs[1].key.location.line == 9)
    }

    @Test func commentedWithoutHeaderAndWithMultilineComment() throws {
        let text = try YAMLEmitter.renderCommented(
            [(comments: ["one\ntwo", ""], key: "k", value: .mapping([(key: "x", value: .plain("1"))]))],
            header: []
        )
        #expect(text == "# one\n# two\n#\nk:\n  x: 1\n")
    }
}
