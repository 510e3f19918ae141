/// Structured filter pruning (Li et al. 2017): removes the filters of smallest L1 norm from each
/// convolution, shrinking the layer, its batch norm and the next layer's inputs, so the model really
/// gets smaller and faster.
///
/// A filter can go when its channel reaches the next weighted layer only through per-channel steps that
/// keep zero at zero (batch norm right after the conv, ReLU-like activations, pooling, dropout): then
/// removing it equals forcing the channel to zero after its activation. Convolutions whose output
/// feeds an identity skip connection, a sigmoid, or the network's end are left alone and reported.
/// Inside a residual block only the first convolution is narrowed (its output stays inside the block).
public enum FilterPruning {
    /// What happened to one convolution.
    public struct LayerResult: Sendable, Equatable {
        public var layer: String
        public var before: Int
        public var after: Int
        /// Why the layer was not pruned, if it was not.
        public var skipped: String?
    }

    /// The pruned network, a new one with the narrower spec and the surviving weights copied over.
    public struct Result {
        public let network: Network
        public let layers: [LayerResult]
        /// For each pruned convolution, the original indices of the filters it kept.
        public let kept: [String: [Int]]
    }

    /// Removes `fraction` of the filters (rounded, but never all of them) of every convolution that can lose some.
    public static func prune(_ network: Network, fraction: Float) throws -> Result {
        precondition(fraction >= 0 && fraction < 1, "the fraction of filters to remove is in [0, 1)")
        let layers = network.layers
        var kept: [String: [Int]] = [:]
        var results: [LayerResult] = []
        var tokens = network.spec.tokens

        func chooseFilters(_ conv: Conv2d) -> [Int] {
            let count = conv.outputShape.channels, perFilter = conv.weight.count / count
            let remove = min(Int((fraction * Float(count)).rounded()), count - 1)
            let norms = (0..<count).map { o in (0..<perFilter).reduce(Float(0)) { $0 + abs(conv.weight.value.base[o * perFilter + $1]) } }
            let ranked = (0..<count).sorted { (norms[$0], $0) < (norms[$1], $1) }
            return Array(ranked.dropFirst(remove)).sorted()
        }

        for (index, layer) in layers.enumerated() {
            if let conv = layer as? Conv2d {
                let channels = conv.outputShape.channels
                if let reason = whyNotPrunable(layers, after: index) {
                    results.append(LayerResult(layer: conv.name, before: channels, after: channels, skipped: reason))
                    continue
                }
                let keep = chooseFilters(conv)
                kept[conv.name] = keep
                results.append(LayerResult(layer: conv.name, before: channels, after: keep.count, skipped: nil))
                guard case let .conv(_, k, s, p) = tokens[index].operation else { continue }
                tokens[index] = ModelSpec.Token(operation: .conv(channels: keep.count, kernel: k, stride: s, padding: p))
            } else if let block = layer as? ResidualBlock {
                let keep = chooseFilters(block.conv1)
                kept[block.conv1.name] = keep
                results.append(LayerResult(layer: block.conv1.name, before: block.conv1.outputShape.channels, after: keep.count, skipped: nil))
                for inner in [block.conv2, block.shortcut?.conv].compactMap({ $0 }) {
                    results.append(LayerResult(
                        layer: inner.name, before: inner.outputShape.channels, after: inner.outputShape.channels,
                        skipped: "its output is added to the block's skip connection"))
                }
                guard case let .residual(c, s, _) = tokens[index].operation else { continue }
                tokens[index] = ModelSpec.Token(operation: .residual(channels: c, stride: s, middle: keep.count))
            }
        }

        let pruned = try Network(spec: ModelSpec(tokens: tokens), input: network.inputShape, classes: network.classCount)
        var channels = Array(0..<network.inputShape.channels)
        for (old, new) in zip(layers, pruned.layers) {
            channels = copy(from: old, to: new, inputChannels: channels, kept: kept)
        }
        return Result(network: pruned, layers: results, kept: kept)
    }

    /// Nil when the conv at `index` may lose filters, else the reason it may not.
    private static func whyNotPrunable(_ layers: [Layer], after index: Int) -> String? {
        var j = index + 1
        if j < layers.count, layers[j] is BatchNorm2d { j += 1 }
        while j < layers.count {
            let layer = layers[j]
            if let activation = layer as? Activation {
                if activation.function == .sigmoid { return "a sigmoid follows (sigmoid(0) is not 0)" }
            } else if !(layer is MaxPool2d || layer is AvgPool2d || layer is Dropout) {
                break
            }
            j += 1
        }
        guard j < layers.count else { return "it is the last layer" }
        switch layers[j] {
        case is Conv2d, is Linear: return nil
        case let block as ResidualBlock:
            return block.shortcut == nil ? "it feeds an identity skip connection (\(block.name))" : nil
        case is GlobalAvgPool, is Flatten:
            var k = j + 1
            while k < layers.count, layers[k] is Dropout || layers[k] is Flatten { k += 1 }
            return k < layers.count && layers[k] is Linear ? nil : "its channels reach the output without a weighted layer"
        default:
            return "\(layers[j].name) consumes its channels in a way pruning cannot follow"
        }
    }

    /// Copies the surviving weights of `old` into `new`, given which original channels reach `old`'s
    /// input; returns which original channels its output carries.
    private static func copy(from old: Layer, to new: Layer, inputChannels: [Int], kept: [String: [Int]]) -> [Int] {
        switch (old, new) {
        case let (a as Conv2d, b as Conv2d):
            let outputs = kept[a.name] ?? Array(0..<a.outputShape.channels)
            copyConvolution(a, b, outputs: outputs, inputs: inputChannels)
            return outputs
        case let (a as BatchNorm2d, b as BatchNorm2d):
            for (i, c) in inputChannels.enumerated() {
                b.weight.value.base[i] = a.weight.value.base[c]
                b.bias.value.base[i] = a.bias.value.base[c]
                b.runningMean.base[i] = a.runningMean.base[c]
                b.runningVariance.base[i] = a.runningVariance.base[c]
            }
            b.batchesTracked.value = a.batchesTracked.value
            return inputChannels
        case let (a as ResidualBlock, b as ResidualBlock):
            let middle = kept[a.conv1.name] ?? Array(0..<a.conv1.outputShape.channels)
            _ = copy(from: a.conv1, to: b.conv1, inputChannels: inputChannels, kept: kept)
            _ = copy(from: a.bn1, to: b.bn1, inputChannels: middle, kept: kept)
            let all = Array(0..<a.outputShape.channels)
            copyConvolution(a.conv2, b.conv2, outputs: all, inputs: middle)
            _ = copy(from: a.bn2, to: b.bn2, inputChannels: all, kept: kept)
            if let sa = a.shortcut, let sb = b.shortcut {
                copyConvolution(sa.conv, sb.conv, outputs: all, inputs: inputChannels)
                _ = copy(from: sa.bn, to: sb.bn, inputChannels: all, kept: kept)
            }
            return all
        case let (a as Linear, b as Linear):
            // Input feature f of the old layer sits at position (f / channels) and channel (f % channels)
            // (channels-last); the new layer keeps the positions and the surviving channels.
            let oldChannels = a.inputShape.channels, positions = a.inputShape.spatialCount
            let newIn = b.inputShape.count, oldIn = a.inputShape.count
            for o in 0..<a.outputShape.count {
                for p in 0..<positions {
                    for (i, c) in inputChannels.enumerated() {
                        b.weight.value.base[o * newIn + p * inputChannels.count + i] = a.weight.value.base[o * oldIn + p * oldChannels + c]
                    }
                }
                b.bias.value.base[o] = a.bias.value.base[o]
            }
            return Array(0..<a.outputShape.count)
        default:
            // Parameter-free layers pass channels through (gap and flatten keep them as features).
            return inputChannels
        }
    }

    /// Copies filters `outputs` (original indices) restricted to input channels `inputs` (OHWI layout).
    private static func copyConvolution(_ a: Conv2d, _ b: Conv2d, outputs: [Int], inputs: [Int]) {
        let k = a.geometry.kernel, oldIn = a.inputShape.channels, newIn = inputs.count
        for (newO, o) in outputs.enumerated() {
            for tap in 0..<(k * k) {
                for (i, c) in inputs.enumerated() {
                    b.weight.value.base[(newO * k * k + tap) * newIn + i] = a.weight.value.base[(o * k * k + tap) * oldIn + c]
                }
            }
            if let ab = a.bias, let bb = b.bias { bb.value.base[newO] = ab.value.base[o] }
        }
    }
}
