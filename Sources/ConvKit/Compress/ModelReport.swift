import Foundation

/// What a compression step costs and gains: one row of the before/after table.
public struct ModelReport: Sendable, Equatable {
    public var label: String
    public var parameters: Int
    public var nonZeroParameters: Int
    /// Bytes of the model's tensors in its checkpoint (optimiser state and masks not counted).
    public var modelBytes: Int
    public var accuracy: Float
    /// Inference images/s at batch 256 on all cores.
    public var imagesPerSecond: Double

    /// Measures `classifier` on `testSet`; `file` is its checkpoint on disk.
    public static func measure(_ label: String, _ classifier: Classifier, file: String, testSet: ImageSet) -> ModelReport {
        measure(label, classifier, checkpoint: (try? SafeTensors(contentsOf: file)) ?? SafeTensors(), testSet: testSet)
    }

    /// Measures `classifier` on `testSet`; `checkpoint` is its checkpoint (on disk or in memory).
    public static func measure(_ label: String, _ classifier: Classifier, checkpoint: SafeTensors, testSet: ImageSet) -> ModelReport {
        measure(label, classifier, checkpoint: checkpoint, testSet: testSet, stoppingWhen: StopSignal())!
    }

    /// `measure(_:_:checkpoint:testSet:)` that gives up once `stop` is raised (between the test
    /// set's batches, or before the speed measurement), and then returns nil.
    public static func measure(
        _ label: String, _ classifier: Classifier, checkpoint: SafeTensors, testSet: ImageSet, stoppingWhen stop: StopSignal
    ) -> ModelReport? {
        guard
            let evaluation = Evaluator(classes: classifier.classCount, batchSize: 256).evaluate(
                testSet, stoppingWhen: stop, { classifier.logits($0) }),
            !stop.isRaised
        else { return nil }
        var benchmark = Benchmark()
        benchmark.iterations = 5
        let speed = benchmark.inferenceRate { classifier.logits($0) }
        let bytes = checkpoint.tensors
            .filter { !$0.name.hasPrefix(StateDict.optimizerPrefix) && !$0.name.hasPrefix(StateDict.maskPrefix) }
            .map(\.bytes.count).reduce(0, +)
        return ModelReport(
            label: label, parameters: classifier.parameterCount, nonZeroParameters: classifier.nonZeroParameterCount,
            modelBytes: bytes, accuracy: evaluation.accuracy, imagesPerSecond: speed)
    }
}
