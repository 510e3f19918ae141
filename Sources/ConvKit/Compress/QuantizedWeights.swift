/// The int8 form of one conv or fc layer's weights.
public struct QuantizedWeights: Sendable {
    /// Internal (OHWI) order, one row of `values.count / scales.count` per output channel.
    public let values: [Int8]
    public let scales: [Float]
    /// Bias with any folded batch norm.
    public let bias: [Float]
    /// Float value of one int8 step of the layer's input.
    public let inputScale: Float
    public let layout: TensorLayout

    init(values: [Int8], scales: [Float], bias: [Float], inputScale: Float, layout: TensorLayout) {
        self.values = values
        self.scales = scales
        self.bias = bias
        self.inputScale = inputScale
        self.layout = layout
    }

    /// Folds `batchNorm` into the layer's weights (`w * gamma / sqrt(var + eps)`, bias likewise) and
    /// quantises them per output channel; `inputRange` is the largest input magnitude seen.
    init(layer: Layer, folding batchNorm: BatchNorm2d?, inputRange: Float) {
        let weight = layer.parameters.first { $0.isWeight }!
        let bias = layer.parameters.first { !$0.isWeight }
        let outputs = layer.outputShape.isFlat ? layer.outputShape.count : layer.outputShape.channels
        let perOutput = weight.count / outputs
        var scales = [Float](repeating: 1, count: outputs), biases = [Float](repeating: 0, count: outputs)
        var values = [Int8](repeating: 0, count: weight.count)
        for o in 0..<outputs {
            var factor: Float = 1, shift = bias?.value.base[o] ?? 0
            if let bn = batchNorm {
                factor = bn.weight.value.base[o] / (bn.runningVariance.base[o] + bn.epsilon).squareRoot()
                shift = (shift - bn.runningMean.base[o]) * factor + bn.bias.value.base[o]
            }
            let row = weight.value.base + o * perOutput
            var largest: Float = 0
            for i in 0..<perOutput { largest = max(largest, abs(row[i] * factor)) }
            scales[o] = largest > 0 ? largest / 127 : 1
            for i in 0..<perOutput {
                values[o * perOutput + i] = Int8(max(-127, min(127, (row[i] * factor / scales[o]).rounded())))
            }
            biases[o] = shift
        }
        self.init(
            values: values, scales: scales, bias: biases, inputScale: inputRange > 0 ? inputRange / 127 : 1,
            layout: weight.layout)
    }
}
