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
        case .float(let network): return network.forward(batch, mode: .inference)
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
}

/// What a compression step costs and gains: one row of the before/after table.
public struct ModelReport: Sendable {
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
        let evaluation = Trainer.evaluate(classes: classifier.classCount, on: testSet, batchSize: 256) { classifier.logits($0) }
        var benchmark = Benchmark()
        benchmark.iterations = 5
        let speed = benchmark.inferenceRate { classifier.logits($0) }
        let tensors = (try? SafeTensors(contentsOf: file))?.tensors ?? []
        let bytes = tensors.filter { !$0.name.hasPrefix(Checkpoint.optimizerPrefix) && !$0.name.hasPrefix(Checkpoint.maskPrefix) }
            .map(\.bytes.count).reduce(0, +)
        return ModelReport(
            label: label, parameters: classifier.parameterCount, nonZeroParameters: classifier.nonZeroParameterCount,
            modelBytes: bytes, accuracy: evaluation.accuracy, imagesPerSecond: speed)
    }
}
