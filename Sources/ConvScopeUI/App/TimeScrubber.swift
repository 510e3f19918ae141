import ConvKit
import ConvPresent
import Foundation

/// The app's global time cursor: which of the run's weight snapshots the views show (none: the live weights),
/// and the time marked for diff mode. A value inside `AppModel`; `[` `]` `\` move it, `t` marks. The event loop
/// hands `shown` to the `TimeCursorSource` every workers reads from, so every view follows it.
public struct TimeScrubber: Sendable {
    /// The snapshots kept so far (from the latest `TrainingSnapshot`).
    public private(set) var history = WeightHistory()
    /// The step of the snapshot shown; nil follows the live weights.
    public private(set) var cursor: Int?
    /// The step of the marked snapshot: views show the change from it to the time shown.
    public private(set) var mark: Int?
    /// The live run's step.
    public private(set) var liveStep = 0
    /// Evaluations the app ran for snapshots kept without one (the early steps), by step.
    public var evaluations: [Int: Evaluation] = [:]
    /// Whether the run is a watched one (`convscope watch`), whose times are its checkpoints.
    public var watching = false

    public init() {}

    /// The snapshot shown, or nil when live.
    public var shown: WeightSnapshot? { cursor.flatMap(history.snapshot(atStep:)) }
    /// The marked snapshot, or nil.
    public var marked: WeightSnapshot? { mark.flatMap(history.snapshot(atStep:)) }
    public var isLive: Bool { cursor == nil }

    /// The test evaluation of `snapshot`: stored with it (an epoch's end) or run by the app.
    public func evaluation(of snapshot: WeightSnapshot) -> Evaluation? {
        snapshot.evaluation ?? evaluations[snapshot.step]
    }

    /// Takes in the run's newest history; a cursor or mark whose snapshot was thinned away moves to the nearest kept one.
    public mutating func observe(_ history: WeightHistory, liveStep: Int) {
        self.history = history
        self.liveStep = liveStep
        cursor = cursor.flatMap(nearest)
        mark = mark.flatMap(nearest)
    }

    private func nearest(_ step: Int) -> Int? {
        history.snapshots.map(\.step).min { abs($0 - step) < abs($1 - step) }
    }

    /// `[`: one snapshot back (from live: the newest snapshot older than the live weights). Returns the status line.
    public mutating func back() -> StatusMessage {
        let steps = history.snapshots.map(\.step)
        guard !steps.isEmpty else { return StatusMessage(noSnapshots) }
        if let cursor {
            guard let previous = steps.last(where: { $0 < cursor }) else { return StatusMessage("\(place(cursor)) is the oldest snapshot kept") }
            self.cursor = previous
        } else {
            cursor = steps.last(where: { $0 < liveStep }) ?? steps.first
        }
        return StatusMessage(moved())
    }

    /// `]`: one snapshot forward; past the newest, live again.
    public mutating func forward() -> StatusMessage {
        guard let cursor else {
            return StatusMessage(history.isEmpty ? noSnapshots : "already live; [ steps back through \(history.count) snapshots")
        }
        self.cursor = history.snapshots.map(\.step).first { $0 > cursor }
        return StatusMessage(moved())
    }

    /// `\`: back to the live weights.
    public mutating func live() -> StatusMessage {
        cursor = nil
        return StatusMessage(mark == nil ? "live: the views follow training again" : "live; t clears the mark (diff since \(place(mark!)))")
    }

    /// `t`: marks the time shown (live: the newest snapshot), or clears the mark.
    public mutating func toggleMark() -> StatusMessage {
        if let mark {
            self.mark = nil
            return StatusMessage("mark at \(place(mark)) cleared: the views show the model itself")
        }
        guard let step = cursor ?? history.snapshots.last?.step else { return StatusMessage(noSnapshots) }
        mark = step
        let newest = cursor == nil ? " (the newest snapshot)" : ""
        return StatusMessage("marked \(place(step))\(newest): the views show the change since it")
    }

    private var noSnapshots: String {
        watching
            ? "no times yet: each checkpoint of the watched run becomes one, within the snapshot budget"
            : "no weight snapshots yet: the first is kept at step 0, then steps 10, 100 and each epoch"
    }

    private func moved() -> String {
        guard let cursor else { return "live: the views follow training again" }
        let index = (history.index(ofStep: cursor) ?? 0) + 1
        return "time: \(place(cursor)) (snapshot \(index) of \(history.count)); ] forward, \\ live, t mark"
    }

    /// "epoch 3 step 1170" (the epochs finished at that step).
    public func place(_ step: Int) -> String {
        let epoch = history.snapshot(atStep: step)?.epoch ?? 0
        return "epoch \(epoch) step \(step)"
    }

    /// The header's time field: where the cursor stands, the mark, and the history's memory against its budget,
    /// e.g. `◂ time: epoch 3 step 1170 (2/5) · Δ since step 390 · 6.2 MiB of 256.0 MiB`; live, `time: live · history 5, ...`.
    public var headerText: String {
        let memory = "\(MemoryText.bytes(Double(history.byteCount))) of \(MemoryText.bytes(Double(history.cadence.budgetBytes)))"
        let diff = mark.map { " · Δ since step \($0)" } ?? ""
        guard let cursor else { return "time: live" + diff + " · history \(history.count), " + memory }
        let index = (history.index(ofStep: cursor) ?? 0) + 1
        return "◂ time: \(place(cursor)) (\(index)/\(history.count))" + diff + " · " + memory
    }
}
