import ArgumentParser

/// ArgumentParser's bash script offers nothing after a path option (`--counts`, `--data`, `-o`) or for MODEL,
/// and registers itself with `-o filenames` only, so bash then completes nothing at all. With `-o default`
/// bash falls back to its own path completion whenever the script offers no words, while the fixed values of
/// `--strategy`, `--criterion` and the other enum options still come from the script.
enum CompletionScript {
    /// Prints the bash script and returns true for `moe-slim --generate-completion-script bash`.
    static func printIfRequested(_ arguments: [String]) -> Bool {
        guard arguments == ["--generate-completion-script", "bash"] || arguments == ["--generate-completion-script=bash"]
        else { return false }
        print(bash, terminator: bash.hasSuffix("\n") ? "" : "\n")
        return true
    }

    static var bash: String {
        MoESlimCommand.completionScript(for: .bash)
            .replacingOccurrences(of: "\ncomplete -o filenames -F ", with: "\ncomplete -o default -o filenames -F ")
    }
}
