extension Trainer {
    /// What this run holds besides its steps' buffers, for `MemoryEstimate.require(_:run:)`: its images, and its
    /// weight history at its fullest (each snapshot is the network's state and an evaluation's predictions and
    /// confusion matrix; the history keeps at most one snapshot past its budget, until it thins).
    public var memoryRun: MemoryEstimate.Run {
        let images = Double(dataset.train.count + dataset.test.count) * Double(ImageSet.bytesPerImage + 1)
        let state = WeightSnapshot.size(of: network), classes = dataset.classCount
        let snapshot = WeightSnapshot.byteCount(floats: state.floats, counters: state.counters,
                                                predictions: dataset.test.count, classes: classes)
        let cadence = weightHistory.cadence
        guard cadence.isEnabled, snapshot > 0 else { return MemoryEstimate.Run(images: images, history: 0) }
        let fullest = cadence.budgetBytes / snapshot + 1
        let count = cadence.snapshotCount(stepsPerEpoch: stepsPerEpoch, epochs: config.epochs)
        return MemoryEstimate.Run(images: images, history: Double(min(count, fullest)) * Double(snapshot))
    }
}
