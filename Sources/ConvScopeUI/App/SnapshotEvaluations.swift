import ConvKit
import Dispatch

/// Test-set evaluations of weight snapshots kept without one (the early steps), run for the time scrubber
/// off the UI thread, one at a time, on a copy of the snapshot's weights; finished ones are kept by step.
final class SnapshotEvaluations: Sendable {
    private struct State {
        var running: Int?
        var finished: [Int: Evaluation] = [:]
    }

    private let state = Locked(State())
    private let source: TimeCursorSource
    private let images: ImageSet

    init(source: TimeCursorSource, images: ImageSet) {
        self.source = source
        self.images = images
    }

    /// The evaluations finished so far, by step.
    var finished: [Int: Evaluation] { state.withLock { $0.finished } }
    var count: Int { state.withLock { $0.finished.count } }

    /// Starts evaluating `snapshot` unless it is done or another evaluation is running; it gives up after the
    /// current batch when `stop` is raised (the app quitting), and `group` lets the app wait for it.
    func evaluate(_ snapshot: WeightSnapshot, group: DispatchGroup, stoppingWhen stop: StopSignal) {
        let start = state.withLock { state in
            guard state.running == nil, state.finished[snapshot.step] == nil else { return false }
            state.running = snapshot.step
            return true
        }
        guard start else { return }
        DispatchQueue.global(qos: .utility).async(group: group) {
            let network = self.source.network(at: snapshot)
            let evaluation = Evaluator(classes: network.classCount).evaluate(self.images, stoppingWhen: stop) { network.infer($0) }
            self.state.withLock { state in
                state.running = nil
                if let evaluation { state.finished[snapshot.step] = evaluation }
            }
            FreedMemory.release()
        }
    }
}
