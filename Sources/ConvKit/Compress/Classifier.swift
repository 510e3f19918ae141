import Foundation

/// A trained model ready for inference: a float network, or its int8 form.
public enum Classifier {
    case float(Network)
    case int8(QuantizedNetwork)

    /// Reads either kind of checkpoint (the metadata says which).
    public static func load(_ path: String) throws -> (classifier: Classifier, metadata: [String: String]) {
        let file = try SafeTensors(contentsOf: path)
        if file.metadata[QuantizedNetwork.quantizationKey] != nil {
            return (.int8(try QuantizedNetwork.load(file, path: path)), file.metadata)
        }
        let loaded = try RunCheckpoint.load(path)
        return (.float(loaded.network), loaded.metadata)
    }

    public var spec: ModelSpec {
        switch self {
        case .float(let network): return network.spec
        case .int8(let network): return network.spec
        }
    }

    public var classCount: Int {
        switch self {
        case .float(let network): return network.classCount
        case .int8(let network): return network.classCount
        }
    }

    /// Class scores for a batch of normalised images.
    public func logits(_ batch: Tensor) -> Tensor {
        switch self {
        case .float(let network): return network.infer(batch)
        case .int8(let network): return network.forward(batch)
        }
    }

    public var parameterCount: Int {
        switch self {
        case .float(let network): return network.parameterCount
        case .int8(let network): return network.parameterCount
        }
    }

    public var nonZeroParameterCount: Int {
        switch self {
        case .float(let network): return network.parameters.map { $0.values.filter { $0 != 0 }.count }.reduce(0, +)
        case .int8(let network): return network.nonZeroParameterCount
        }
    }

    /// The zero share of every conv and fc weight tensor (for int8: of the stored int8 values).
    public var weightSparsity: [WeightSparsity] {
        switch self {
        case .float(let network): return WeightSparsity.of(network)
        case .int8(let network):
            return network.quantizedOps.map {
                WeightSparsity(parameter: $0.name + ".weight", count: $0.weights.values.count, zeros: $0.weights.values.filter { $0 == 0 }.count)
            }
        }
    }

    /// The checkpoint `save` would write for this model (the float kind with its pruning masks), in memory.
    public func checkpoint(metadata: [String: String]) -> SafeTensors {
        switch self {
        case .float(let network): return RunCheckpoint.safeTensors(network: network, metadata: metadata)
        case .int8(let network): return network.safeTensors(metadata: metadata)
        }
    }
}

/// How many values of one conv or fc weight tensor are zero.
public struct WeightSparsity: Sendable, Equatable {
    /// The tensor's name (`conv1.weight`).
    public var parameter: String
    /// Values in the tensor.
    public var count: Int
    /// Values that are exactly zero.
    public var zeros: Int

    public init(parameter: String, count: Int, zeros: Int) {
        self.parameter = parameter
        self.count = count
        self.zeros = zeros
    }

    /// The share of zeros, in [0, 1].
    public var sparsity: Float { Float(zeros) / Float(max(count, 1)) }

    /// Every conv and fc weight tensor of `network`, in order.
    public static func of(_ network: Network) -> [WeightSparsity] {
        network.parameters.filter(\.isWeight).map {
            WeightSparsity(parameter: $0.name, count: $0.count, zeros: $0.values.filter { $0 == 0 }.count)
        }
    }
}

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
            let evaluation = Trainer.evaluate(
                classes: classifier.classCount, on: testSet, batchSize: 256, stoppingWhen: stop, { classifier.logits($0) }),
            !stop.isRaised
        else { return nil }
        var benchmark = Benchmark()
        benchmark.iterations = 5
        let speed = benchmark.inferenceRate { classifier.logits($0) }
        let bytes = checkpoint.tensors
            .filter { !$0.name.hasPrefix(Checkpoint.optimizerPrefix) && !$0.name.hasPrefix(Checkpoint.maskPrefix) }
            .map(\.bytes.count).reduce(0, +)
        return ModelReport(
            label: label, parameters: classifier.parameterCount, nonZeroParameters: classifier.nonZeroParameterCount,
            modelBytes: bytes, accuracy: evaluation.accuracy, imagesPerSecond: speed)
    }

    /// The before/after table's column titles, matching `cells`.
    public static let columnTitles = ["model", "params", "non-zero", "weights", "test acc", "infer img/s"]

    /// The row's values as the before/after table shows them, under `columnTitles`.
    public var cells: [String] {
        [
            label, parameters.formatted, nonZeroParameters.formatted, String(format: "%.1f KB", Double(modelBytes) / 1024),
            String(format: "%.2f%%", accuracy * 100), String(format: "%.0f", imagesPerSecond),
        ]
    }
}
