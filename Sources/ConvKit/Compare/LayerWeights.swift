/// The weights of one conv or fc layer as a checkpoint comparison reads them: the layer's name, the
/// PyTorch shape and the values in PyTorch order.
///
/// An int8 model stores its weights with the following batch norm folded in (`w * gamma / sqrt(var + eps)`)
/// and quantised per output channel. To compare such a model with a float one, the float model's weights are
/// folded the same way and the int8 ones dequantised (`q * scale`), so that the difference is what the
/// quantisation changed and not the batch norm's scale.
struct LayerWeights {
    let layer: String
    let shape: [Int]
    let values: [Float]

    /// Every conv and fc layer's weights of `classifier`, in order; folded with their batch norms when
    /// `folded` (int8 models always are).
    static func of(_ classifier: Classifier, folded: Bool) -> [LayerWeights] {
        switch classifier {
        case .int8(let network):
            return network.quantizedOps.map { op in
                let weights = op.weights
                let perOutput = weights.values.count / max(weights.scales.count, 1)
                var stored = [Float](repeating: 0, count: weights.values.count)
                for i in stored.indices { stored[i] = Float(weights.values[i]) * weights.scales[i / perOutput] }
                let torch = stored.withUnsafeBufferPointer { weights.layout.toTorch($0) }
                return LayerWeights(layer: op.name, shape: weights.layout.torchShape, values: torch)
            }
        case .float(let network):
            return QuantizedNetwork.weightedLayers(network).compactMap { layer, batchNorm in
                guard let weight = layer.parameters.first(where: \.isWeight) else { return nil }
                var stored = Array(weight.values)
                if folded, let bn = batchNorm {
                    // Internal order is output-major, one row of `perOutput` values per output channel.
                    let outputs = bn.weight.count
                    let perOutput = weight.count / outputs
                    for o in 0..<outputs {
                        let factor = bn.weight.value.base[o] / (bn.runningVariance.base[o] + bn.epsilon).squareRoot()
                        for i in 0..<perOutput { stored[o * perOutput + i] *= factor }
                    }
                }
                let torch = stored.withUnsafeBufferPointer { weight.layout.toTorch($0) }
                return LayerWeights(layer: layer.name, shape: weight.layout.torchShape, values: torch)
            }
        }
    }
}
