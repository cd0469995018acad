import Foundation
import MoESlim

extension String {
    /// Writes the whole text or nothing (SVG heatmaps), reporting failure as the tool's typed error.
    func writeFile(_ path: String) throws(MoESlimError) {
        do {
            try write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw MoESlimError(.io, "cannot write: \(error.localizedDescription)", path: path)
        }
    }
}
