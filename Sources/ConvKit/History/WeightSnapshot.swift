/// The model at one moment of training: every state tensor (weights and batch-norm statistics, in the
/// network's own layout), where the run stood, and the test evaluation of that moment when there was one
/// (an epoch's end).
///
/// A value: copies share their storage, so the history can be published with every `TrainingSnapshot`.
public struct WeightSnapshot: Sendable, Equatable {
    /// Optimiser steps completed (0: the initialisation).
    public let step: Int
    /// Epochs completed at that step.
    public let epoch: Int
    /// The float state tensors, concatenated in `Network.stateTensors` order (internal layout).
    public let floats: [Float]
    /// The integer state tensors (batch norm's `num_batches_tracked`), in the same order.
    public let counters: [Int64]
    /// The test-set evaluation of these weights (loss, accuracy, confusion, predictions), when the run made one.
    public var evaluation: Evaluation?

    public init(step: Int, epoch: Int, floats: [Float], counters: [Int64], evaluation: Evaluation? = nil) {
        self.step = step
        self.epoch = epoch
        self.floats = floats
        self.counters = counters
        self.evaluation = evaluation
    }

    /// Copies `network`'s state (one pass over the weights).
    public init(capturing network: Network, step: Int, epoch: Int, evaluation: Evaluation? = nil) {
        let tensors = network.stateTensors
        let map = WeightSnapshot.map(of: tensors)
        var counters = [Int64](repeating: 0, count: map.counters)
        let floats = [Float](unsafeUninitializedCapacity: map.floats) { storage, count in
            for (tensor, slot) in zip(tensors, map.slots) {
                switch (tensor.content, slot) {
                case let (.float(buffer, _), .floats(offset, size)):
                    (storage.baseAddress! + offset).update(from: buffer.base, count: size)
                case let (.int64(counter), .counter(index)):
                    counters[index] = counter.value
                default:
                    preconditionFailure("a snapshot's map follows its tensors")
                }
            }
            count = map.floats
        }
        self.init(step: step, epoch: epoch, floats: floats, counters: counters, evaluation: evaluation)
    }

    /// Where a state tensor sits in a snapshot: a run of `floats` or one of `counters`.
    enum Slot: Equatable {
        case floats(offset: Int, count: Int)
        case counter(Int)
    }

    /// The slot of each of `tensors` (a network's `stateTensors`, in order) and the sizes of the snapshot that
    /// holds them: the one walk over the state that capturing, restoring and the history file all follow.
    static func map(of tensors: [StateTensor]) -> (slots: [Slot], floats: Int, counters: Int) {
        var slots: [Slot] = [], floats = 0, counters = 0
        slots.reserveCapacity(tensors.count)
        for tensor in tensors {
            switch tensor.content {
            case .float(_, let layout):
                slots.append(.floats(offset: floats, count: layout.count))
                floats += layout.count
            case .int64:
                slots.append(.counter(counters))
                counters += 1
            }
        }
        return (slots, floats, counters)
    }

    /// Whether `network`'s state has this snapshot's sizes (a network of the same spec).
    public func fits(_ network: Network) -> Bool {
        let size = WeightSnapshot.size(of: network)
        return size.floats == floats.count && size.counters == counters.count
    }

    /// How many floats and counters a snapshot of `network` holds.
    public static func size(of network: Network) -> (floats: Int, counters: Int) {
        let map = map(of: network.stateTensors)
        return (map.floats, map.counters)
    }

    /// Writes the snapshot's state into `network` (which must `fit`).
    public func restore(into network: Network) {
        let tensors = network.stateTensors
        let map = WeightSnapshot.map(of: tensors)
        precondition(
            map.floats == floats.count && map.counters == counters.count, "a snapshot restores only into a network of its own spec")
        floats.withUnsafeBufferPointer { source in
            for (tensor, slot) in zip(tensors, map.slots) {
                switch (tensor.content, slot) {
                case let (.float(buffer, _), .floats(offset, size)):
                    buffer.base.update(from: source.baseAddress! + offset, count: size)
                case let (.int64(counter), .counter(index)):
                    counter.value = counters[index]
                default:
                    preconditionFailure("a snapshot's map follows its tensors")
                }
            }
        }
    }

    /// Bytes the snapshot holds in memory.
    public var byteCount: Int {
        WeightSnapshot.byteCount(floats: floats.count, counters: counters.count,
                                 predictions: evaluation?.predictions.count ?? 0, classes: evaluation?.confusion.count ?? 0)
    }

    /// The bytes a snapshot of this many floats and counters holds, with an evaluation of `predictions` test
    /// images over `classes` classes (one byte per prediction, an `Int` per confusion cell); 0 and 0 for a
    /// snapshot without one. The memory guard foresees a run's history with it (`Trainer.memoryRun`).
    public static func byteCount(floats: Int, counters: Int, predictions: Int, classes: Int) -> Int {
        floats * 4 + counters * 8 + predictions + classes * classes * 8
    }
}
