/// The weight snapshots of a run, oldest first, within the memory budget of its `SnapshotCadence`: what the
/// app's time scrubber steps through, and what the checkpoint keeps beside it (`WeightHistoryFile`).
///
/// When a new snapshot takes the history over its budget, it thins itself evenly: it drops the inner snapshot
/// whose neighbours are closest together in steps (the oldest of equals), so the kept moments stay spread over
/// the run; the first (the initialisation) and the newest go last. A snapshot larger than the whole budget is
/// not kept.
public struct WeightHistory: Sendable {
    public var cadence: SnapshotCadence {
        didSet { thin() }
    }
    /// The snapshots, in order of step (each step at most once).
    public private(set) var snapshots: [WeightSnapshot] = []
    /// Bytes the snapshots take.
    public private(set) var byteCount = 0
    /// Snapshots dropped to stay within the budget so far.
    public private(set) var thinned = 0

    public init(cadence: SnapshotCadence = SnapshotCadence()) {
        self.cadence = cadence
    }

    public var isEmpty: Bool { snapshots.isEmpty }
    public var count: Int { snapshots.count }

    /// Adds `snapshot`, replacing one of the same step (an epoch's end recorded after the same step's
    /// early snapshot keeps the evaluation), then thins to the budget.
    public mutating func add(_ snapshot: WeightSnapshot) {
        var snapshot = snapshot
        if let index = snapshots.firstIndex(where: { $0.step == snapshot.step }) {
            if snapshot.evaluation == nil { snapshot.evaluation = snapshots[index].evaluation }
            byteCount -= snapshots[index].byteCount
            snapshots[index] = snapshot
        } else {
            let index = snapshots.firstIndex { $0.step > snapshot.step } ?? snapshots.endIndex
            snapshots.insert(snapshot, at: index)
        }
        byteCount += snapshot.byteCount
        thin()
    }

    /// Forgets the snapshots after `step` (a diverged run went back to it).
    public mutating func dropSnapshots(after step: Int) {
        while let last = snapshots.last, last.step > step {
            byteCount -= last.byteCount
            snapshots.removeLast()
        }
    }

    /// The index of the snapshot at `step`, if kept.
    public func index(ofStep step: Int) -> Int? { snapshots.firstIndex { $0.step == step } }

    /// The snapshot at `step`, if kept.
    public func snapshot(atStep step: Int) -> WeightSnapshot? { index(ofStep: step).map { snapshots[$0] } }

    /// Drops snapshots, evenly, until the history fits its budget.
    private mutating func thin() {
        while byteCount > cadence.budgetBytes, !snapshots.isEmpty {
            let victim = WeightHistory.victim(amongSteps: snapshots.map(\.step))
            byteCount -= snapshots[victim].byteCount
            snapshots.remove(at: victim)
            thinned += 1
        }
    }

    /// The index, in `steps` (ascending), of the snapshot thinning drops first.
    private static func victim(amongSteps steps: [Int]) -> Int {
        guard steps.count >= 3 else { return 0 }
        // The inner snapshot whose neighbours are nearest each other: removing it leaves the smallest gap.
        return (1..<(steps.count - 1)).min { a, b in steps[a + 1] - steps[a - 1] < steps[b + 1] - steps[b - 1] }!
    }

    /// The steps, of `steps` (ascending), that a history with room for `count` snapshots of one size keeps: the
    /// ones thinning would leave. A reader of many saved states (a watched run's checkpoints) loads only these.
    public static func stepsKept(of steps: [Int], count: Int) -> [Int] {
        var kept = steps
        while kept.count > max(count, 0) { kept.remove(at: victim(amongSteps: kept)) }
        return kept
    }
}
