/// Diff mode of the time scrubber on the explanation board: how each method's map and scores changed between
/// a marked time and the time shown.
extension ExplanationBoard {
    /// The change from `earlier` (the same board at the marked time, explaining the same class) to this board:
    /// each map as its scaled map now minus then (`Entry.scaledMap`, so both are on one scale and a map that only
    /// grew as a whole shows none; `changeSpan` says how far it can go, for the front ends' diverging
    /// palette), in `Entry.mapChange`, and no `explanation` or `scaledMap` of its own; each score as now
    /// minus then. Image, class and prediction stay this board's. A map only one board has so far is left out
    /// (the other is still computing), and the board is complete once both are.
    public func change(since earlier: ExplanationBoard) -> ExplanationBoard {
        var board = ExplanationBoard(
            request: request, weightsVersion: weightsVersion, image: image, label: label, classIndex: classIndex,
            probability: probability, predicted: predicted)
        board.since = earlier.weightsVersion
        board.entries = entries.compactMap { now in
            guard let then = earlier.entries.first(where: { $0.method == now.method && $0.baseline == now.baseline }) else { return nil }
            return now.change(since: then)
        }
        board.progress = progress ?? earlier.progress.map { progress in
            Progress(title: "\(progress.title) at step \(earlier.weightsVersion)", done: progress.done, total: progress.total, fraction: progress.fraction)
        }
        return board
    }
}

extension ExplanationBoard.Entry {
    /// This entry's change since `earlier` (the same method's or baseline's): see `ExplanationBoard.change(since:)`.
    func change(since earlier: ExplanationBoard.Entry) -> ExplanationBoard.Entry {
        var difference: HeatMap?
        if let now = scaledMap, let then = earlier.scaledMap, now.width == then.width, now.height == then.height {
            difference = HeatMap(width: now.width, height: now.height, values: zip(now.values, then.values).map { $0 - $1 })
        }
        var scoreChange: FaithfulnessScores?
        if let now = scores, let then = earlier.scores {
            scoreChange = FaithfulnessScores(
                deletion: now.deletion - then.deletion, insertion: now.insertion - then.insertion,
                roadMostRelevantFirst: now.roadMostRelevantFirst - then.roadMostRelevantFirst,
                roadLeastRelevantFirst: now.roadLeastRelevantFirst - then.roadLeastRelevantFirst, drop: now.drop - then.drop,
                increase: now.increase - then.increase)
        }
        return .init(
            method: method, baseline: baseline, explanation: nil, layer: layer, scores: scoreChange, error: error ?? earlier.error,
            mapChange: difference)
    }
}

extension ExplanationBoard.Entry {
    /// The largest change a diff-mode map can show: scaled maps span 1 (unsigned, 0...1) or 2 (signed,
    /// -1...1), so a map that went from one end of its scale to the other changed by this much.
    public var changeSpan: Float { method?.isSigned == true ? 2 : 1 }
}
