import LVXCore
import Testing

@Suite struct DiagnosticRendererTests {
    private let source = DiagnosticRenderer.lines(of: "battery_type: USER\r\nfloat_voltage: 54.05\n")

    @Test func rendersLocationSourceLineCaretAndNote() {
        let diagnostic = Diagnostic(
            .error,
            at: LVXCore.SourceLocation(file: "profiles/a.yaml", line: 2, column: 16),
            "'float_voltage' = 54.05 has more than one decimal, but the setter has 0.1 V resolution",
            hint: "use 54.0 or 54.1"
        )
        #expect(
            DiagnosticRenderer.render(diagnostic, sourceLines: source) == """
                profiles/a.yaml:2:16: error: 'float_voltage' = 54.05 has more than one decimal, but the setter has 0.1 V resolution
                float_voltage: 54.05
                               ^
                note: use 54.0 or 54.1
                """
        )
    }

    @Test func withoutSourceOnlyTheMessageAndNote() {
        let diagnostic = Diagnostic(
            .warning,
            at: LVXCore.SourceLocation(file: "lvx.yaml", line: 9, column: 3),
            "x",
            hint: "y"
        )
        #expect(DiagnosticRenderer.render(diagnostic, sourceLines: nil) == "lvx.yaml:9:3: warning: x\nnote: y")
        #expect(DiagnosticRenderer.render(diagnostic, sourceLines: source) == "lvx.yaml:9:3: warning: x\nnote: y")
        let unplaced = Diagnostic(.error, at: nil, "missing 'lvx.yaml' at the repository root")
        #expect(
            DiagnosticRenderer.render(unplaced, sourceLines: source)
                == "error: missing 'lvx.yaml' at the repository root"
        )
    }

    @Test func caretKeepsTabsAndPadsPastTheEnd() {
        let tabbed = Diagnostic(.error, at: LVXCore.SourceLocation(file: "f", line: 1, column: 3), "m")
        #expect(DiagnosticRenderer.render(tabbed, sourceLines: ["\tab: c"]) == "f:1:3: error: m\n\tab: c\n\t ^")
        let past = Diagnostic(.error, at: LVXCore.SourceLocation(file: "f", line: 1, column: 4), "m")
        #expect(DiagnosticRenderer.render(past, sourceLines: ["a:"]) == "f:1:4: error: m\na:\n   ^")
        let wide = Diagnostic(.error, at: LVXCore.SourceLocation(file: "f", line: 1, column: 5), "m")
        #expect(DiagnosticRenderer.render(wide, sourceLines: ["ü: ab"]) == "f:1:5: error: m\nü: ab\n    ^")
    }

    @Test func linesSplitOnNewlinesAndDropCarriageReturns() {
        #expect(source == ["battery_type: USER", "float_voltage: 54.05", ""])
    }

    @Test func summaryCountsErrorsAndWarnings() {
        let e = Diagnostic(.error, at: nil, "e")
        let w = Diagnostic(.warning, at: nil, "w")
        #expect(DiagnosticRenderer.summary([e, w, e]) == "2 errors, 1 warning")
        #expect(DiagnosticRenderer.summary([w, w]) == "2 warnings")
        #expect(DiagnosticRenderer.summary([]) == "")
    }

    /// Every message and hint the loader produced for a broken site follows the house style.
    @Test func messagesAreLowerCaseWithoutTrailingPeriods() throws {
        let loaded = try load(
            """
            Units: {}
            units:
              "x": {name: "a b", profile: nope, parallel_index: 99, tolerances: {grid_tie: 1}}
            stacks:
              main: [c]
            accept:
              - {unit: d, key: e, value: f, reason: "", until: never}
            apply:
              stop_units: [x]
              plan_lifetime: 0s
            """,
            profiles: ["p": "battery_type: AGM\nfloat_voltage: 54.05\nbulk_voltage: 40"]
        )
        #expect(loaded.diagnostics.count >= 12)
        for diagnostic in loaded.diagnostics {
            for text in [diagnostic.message] + (diagnostic.hint.map { [$0] } ?? []) {
                #expect(text.first?.isUppercase == false, "\(text)")
                #expect(text.last != ".", "\(text)")
            }
            #expect(diagnostic.code.flatMap(ValidationCode.init(rawValue:)) != nil)
        }
    }
}
