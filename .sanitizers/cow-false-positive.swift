// Reproduces the ThreadSanitizer report that thread.supp suppresses: a Swift array guarded by an NSLock,
// copied out under the lock and read by the main thread while a queue mutates it under the lock.
// swiftc -O -sanitize=thread -parse-as-library cow-false-positive.swift && ./cow-false-positive
import Synchronization
import Foundation
import Dispatch
enum Status { case queued, measuring, measured([Double]), failed(String) }
struct Row { var id: Int; var status: Status; var xs: [Int]; var isPending: Bool { if case .measured = status { return false }; return true } }
struct Results { var rows: [Row] = []; var serial = 0 }
final class Box: Sendable {
    nonisolated(unsafe) var _s = Results(); let lock = NSLock()
    var results: Results { lock.withLock { _s } }
}
@main enum M { static func main() {
let box = Box()
let q = DispatchQueue(label: "w")
for i in 0..<2000 {
    q.async { box.lock.withLock { box._s.rows.insert(Row(id: i, status: .queued, xs: [i]), at: 0); box._s.serial += 1 } }
    q.async { box.lock.withLock { box._s.rows[0].status = .measured([1]); if box._s.rows.count > 5 { box._s.rows.removeLast() } } }
    var spins = 0
    while !( !box.results.rows.isEmpty && box.results.rows.allSatisfy { !$0.isPending }) { spins += 1 }
}
print("done")
}}
