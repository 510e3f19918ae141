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

    /// The methods whose measurement at the marked time is still to be asked for.
    public var missing: [CompressionMethod] { pairs.compactMap { $0.then == nil ? $0.method : nil } }
}

extension CompressionResults {
    /// This table (the lab that follows the time shown) against `marked` (the lab pinned at the marked time,
    /// `markedStep`): one pair per model this table has, its newest row next to the row measured at the marked
    /// time, from `marked` or, when the cursor once stood at the mark, from this table itself.
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
        return CompressionChange(markedStep: markedStep, pairs: pairs)
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
