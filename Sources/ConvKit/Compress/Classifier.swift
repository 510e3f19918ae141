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
