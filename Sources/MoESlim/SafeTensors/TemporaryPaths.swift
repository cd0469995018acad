#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Temporaries being written, so that Ctrl-C or a termination signal removes them instead of leaving
/// half-written checkpoints beside the destination. (SIGKILL cannot be caught; its leftovers carry the
/// `.moe-slim-tmp-` marker in their name and are never the destination itself.)
public final class TemporaryPaths: @unchecked Sendable {
    public static let shared = TemporaryPaths()
    private let lock = NSLock()
    private var paths: Set<String> = []

    func register(_ path: String) {
        lock.lock()
        paths.insert(path)
        lock.unlock()
    }

    func unregister(_ path: String) {
        lock.lock()
        paths.remove(path)
        lock.unlock()
    }

    /// Installs the handlers once; called by the executable at start.
    public static func removeOnSignals() {
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            signal(sig, SIG_IGN)
            source.setEventHandler {
                shared.lock.lock()
                for p in shared.paths { removeWhileWriterRuns(p) }
                shared.lock.unlock()
                exit(128 + sig)
            }
            source.resume()
            retained.append(source)
        }
    }

    /// The writing thread keeps going while the handler runs and can create a shard between the recursive
    /// removal's listing and its final rmdir, which then fails and leaves the temporary behind (seen in
    /// FaultTests). Moving the temporary aside first makes every later create under the old path fail, and
    /// retrying the removal catches the one create that may already be under way.
    private static func removeWhileWriterRuns(_ path: String) {
        let aside = path + ".removing"
        let target = rename(path, aside) == 0 ? aside : path
        for _ in 0..<100 where FileManager.default.fileExists(atPath: target) {
            try? FileManager.default.removeItem(atPath: target)
        }
    }

    nonisolated(unsafe) private static var retained: [any DispatchSourceSignal] = []
}
