/// Renders diagnostics as compilers do: a located message, the source line, a caret, a note.
///
/// ```
/// profiles/eg4-lp4-v2.yaml:3:16: error: float_voltage = 54.05 has more than one decimal, ...
/// float_voltage: 54.05
///                ^
/// note: use 54.0 or 54.1
/// ```
///
/// Colour and the choice of stream are the caller's business.
public enum DiagnosticRenderer {
    /// The text for `diagnostic`, without a trailing newline.
    ///
    /// - Parameters:
    ///   - diagnostic: what to render.
    ///   - sourceLines: the lines of the diagnostic's file (without line terminators), or `nil` when
    ///     the file is not at hand; the source line and caret are left out when the line does not exist.
    /// - Returns: `file:line:column: severity: message`, then the source line and a caret under the
    ///   column when available, then `note: hint` when there is a hint; lines joined by `\n`.
    public static func render(_ diagnostic: Diagnostic, sourceLines: [String]?) -> String {
        var lines = [diagnostic.description]
        if let location = diagnostic.location, let sourceLines, location.line >= 1, location.line <= sourceLines.count {
            let source = sourceLines[location.line - 1]
            lines.append(source)
            lines.append(caretLine(under: source, column: location.column))
        }
        if let hint = diagnostic.hint, !hint.isEmpty {
            lines.append("note: \(hint)")
        }
        return lines.joined(separator: "\n")
    }

    /// Splits a file's text into lines for ``render(_:sourceLines:)``, accepting `\n` and `\r\n`.
    public static func lines(of text: String) -> [String] {
        // "\r\n" is one Character in Swift, so both separators are named.
        text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }.map(String.init)
    }

    /// A one-line count, such as `2 errors, 1 warning`; empty when there is nothing to count.
    public static func summary(_ diagnostics: [Diagnostic]) -> String {
        let errors = diagnostics.filter { $0.severity == .error }.count
        let warnings = diagnostics.filter { $0.severity == .warning }.count
        var parts: [String] = []
        if errors > 0 { parts.append("\(errors) error\(errors == 1 ? "" : "s")") }
        if warnings > 0 { parts.append("\(warnings) warning\(warnings == 1 ? "" : "s")") }
        return parts.joined(separator: ", ")
    }

    /// Spaces up to `column` (1-based, counted in Unicode scalars as libyaml counts), keeping tabs so
    /// the caret lines up in a terminal, then `^`.
    private static func caretLine(under source: String, column: Int) -> String {
        let width = max(0, column - 1)
        var prefix = ""
        for scalar in source.unicodeScalars.prefix(width) {
            prefix.append(scalar == "\t" ? "\t" : " ")
        }
        let missing = width - source.unicodeScalars.count
        return prefix + String(repeating: " ", count: max(0, missing)) + "^"
    }
}
