/// Diff mode of the time scrubber in the compression lab: each model of the table (as trained, and every
/// compressed copy) measured at the marked time next to its newest measurement, with the change.
public struct CompressionChange: Sendable, Equatable {
    /// One model's two measurements.
    public struct Pair: Sendable, Equatable {
        /// nil for the float32 model as trained.
        public let method: CompressionMethod?
        /// The row measured at the marked time: nil until it is queued.
        public let then: CompressionRow?
        /// The newest row of the time shown.
        public let now: CompressionRow

        public var label: String { now.label }

        /// Now minus then, once both are measured.
        public var change: ModelReport.Change? {
            guard case .measured(let after) = now.status, case .measured(let before)? = then?.status else { return nil }
            return ModelReport.Change(from: before, to: after)
        }
    }

    /// The step of the marked time.
    public let markedStep: Int
    /// In the order the table first measured them (the model as trained first).
    public let pairs: [Pair]
    /// Each weight tensor's share of zeros in the weights themselves at the marked time and in the time shown (as
    /// the labs read them: `CompressionResults.currentSparsity`); empty until both are read.
    public var weightsSparsity: [SparsityChange] = []
    /// The step of the time shown's reading of `weightsSparsity`.
    public var weightsVersion: Int? = nil

    /// The methods whose measurement at the marked time is still to be asked for.
    public var missing: [CompressionMethod] { pairs.compactMap { $0.then == nil ? $0.method : nil } }

    /// What the sparsity bars compare, as they show one model outside diff mode: the newest compressed model measured
    /// at both times (`pair`), else, before there is one, the weights themselves (`pair` nil, `weightsSparsity`).
    public var shownSparsity: (pair: Pair?, tensors: [SparsityChange]) {
        let measured = pairs.filter { $0.method != nil && $0.change != nil }
        guard let newest = measured.max(by: { $0.now.id < $1.now.id }), let then = newest.then else { return (nil, weightsSparsity) }
        return (newest, SparsityChange.between(then.sparsity, newest.now.sparsity))
    }
}

/// One weight tensor's share of zeros at the marked time and in the time shown: a sparsity bar in diff mode.
public struct SparsityChange: Sendable, Equatable {
    /// The tensor's name (`conv1.weight`).
    public let parameter: String
    /// Values in the tensor in the time shown.
    public let count: Int
    /// The share of zeros then and now, in [0, 1].
    public let then: Float, now: Float

    /// Now minus then, in [-1, 1] (0.05 is five percentage points).
    public var change: Float { now - then }

    /// The tensors of `now` that `then` has too (by name), in `now`'s order; filter pruning changes a tensor's
    /// size, not its name, so its share is compared.
    public static func between(_ then: [WeightSparsity], _ now: [WeightSparsity]) -> [SparsityChange] {
        now.compactMap { tensor in
            guard let before = then.first(where: { $0.parameter == tensor.parameter }) else { return nil }
            return SparsityChange(parameter: tensor.parameter, count: tensor.count, then: before.sparsity, now: tensor.sparsity)
        }
    }
}

extension CompressionResults {
    /// This table (the lab that follows the time shown) against `marked` (the lab pinned at the marked time,
    /// `markedStep`): one pair per model this table has, its newest row next to the row measured at the marked
    /// time, from `marked` or, when the cursor once stood at the mark, from this table itself; and the two labs'
    /// readings of the weights' sparsity.
    public func change(since marked: CompressionResults, markedStep: Int) -> CompressionChange {
        let atMark = (marked.rows + rows).filter { $0.weightsVersion == markedStep }
        var order: [CompressionMethod?] = []
        for row in rows where !order.contains(row.method) { order.append(row.method) }
        let pairs = order.map { method -> CompressionChange.Pair in
            let now = rows.last { $0.method == method }!
            // The marked lab's rows of this mark (a queued one has no version yet) before the rest; then this table's.
            let then = marked.rows.last { $0.method == method && $0.weightsVersion == nil } ?? atMark.last { $0.method == method }
            return CompressionChange.Pair(method: method, then: then, now: now)
        }
        var change = CompressionChange(markedStep: markedStep, pairs: pairs)
        // The marked lab's reading of its weights, once it is of this mark (a moved mark is read again).
        if marked.currentVersion == markedStep {
            change.weightsSparsity = SparsityChange.between(marked.currentSparsity, currentSparsity)
            change.weightsVersion = currentVersion
        }
        return change
    }
}

extension ModelReport {
    /// How a model's measurement changed between two times: now minus then, in each column's unit.
    public struct Change: Sendable, Equatable {
        public let parameters: Int
        public let nonZeroParameters: Int
        public let modelBytes: Int
        /// In accuracy's own unit (0.05 is five percentage points).
        public let accuracy: Float
        public let imagesPerSecond: Double

        public init(from before: ModelReport, to after: ModelReport) {
            parameters = after.parameters - before.parameters
            nonZeroParameters = after.nonZeroParameters - before.nonZeroParameters
            modelBytes = after.modelBytes - before.modelBytes
            accuracy = after.accuracy - before.accuracy
            imagesPerSecond = after.imagesPerSecond - before.imagesPerSecond
        }
    }
}
