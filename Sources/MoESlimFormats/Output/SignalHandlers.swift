import CShims

/// Ctrl-C, SIGTERM and SIGHUP at any moment: the registered temporaries are removed, one line says why, and the
/// process exits 128 + signal at once, from the handler (CShims/signals.c). A SIGBUS from a mapped file that was
/// truncated under us becomes one error naming the file. Handlers in C because only async-signal-safe calls
/// may run there, and because ending the process from the handler is what makes the stop immediate.
public enum SignalHandlers {
    /// Called once by the executable before any work.
    public static func install() {
        moeslim_install_signal_handlers()
    }
}
