/// "Did you mean" for the names a person types on the command line: subcommands and unit names.
public enum NameSuggestion {
    /// The candidate closest to `word` when it is close enough to be a likely typo, by the same
    /// rule the validator uses for profile and key names (see `Suggestion.closest`).
    public static func closest(to word: String, among candidates: [String]) -> String? {
        Suggestion.closest(to: word, among: candidates)
    }
}
