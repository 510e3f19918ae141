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
        var total = 0
        var counters: [Int64] = []
        for tensor in tensors {
            switch tensor.content {
            case .float(_, let layout): total += layout.count
            case .int64(let counter): counters.append(counter.value)
            }
        }
        let floats = [Float](unsafeUninitializedCapacity: total) { storage, count in
            var offset = 0
            for tensor in tensors {
                guard case let .float(buffer, layout) = tensor.content else { continue }
                (storage.baseAddress! + offset).update(from: buffer.base, count: layout.count)
                offset += layout.count
            }
            count = total
        }
        self.init(step: step, epoch: epoch, floats: floats, counters: counters, evaluation: evaluation)
    }

    /// Whether `network`'s state has this snapshot's sizes (a network of the same spec).
    public func fits(_ network: Network) -> Bool {
        let size = WeightSnapshot.size(of: network)
        return size.floats == floats.count && size.counters == counters.count
    }

    /// How many floats and counters a snapshot of `network` holds.
    public static func size(of network: Network) -> (floats: Int, counters: Int) {
        var floats = 0, counters = 0
        for tensor in network.stateTensors {
            switch tensor.content {
            case .float(_, let layout): floats += layout.count
            case .int64: counters += 1
            }
        }
        return (floats, counters)
    }

    /// Writes the snapshot's state into `network` (which must `fit`).
    public func restore(into network: Network) {
        precondition(fits(network), "a snapshot restores only into a network of its own spec")
        var offset = 0, counterIndex = 0
        floats.withUnsafeBufferPointer { source in
            for tensor in network.stateTensors {
                switch tensor.content {
                case let .float(buffer, layout):
                    buffer.base.update(from: source.baseAddress! + offset, count: layout.count)
                    offset += layout.count
                case .int64(let counter):
                    counter.value = counters[counterIndex]
                    counterIndex += 1
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
