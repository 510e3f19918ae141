import CKernels
import Foundation

/// A network for int8 inference: every convolution (with the batch norm after it folded in) and every
/// fc layer multiplies int8 activations by int8 weights with exact int32 sums (`CKernels`); the other
/// layers run in float.
///
/// Weights are quantised symmetrically per output channel (`w ≈ scale[o] * q`, q in -127...127);
/// activations per tensor, with a scale calibrated as the largest magnitude the layer's input reached
/// on calibration images. Outputs are `int32 sum * inputScale * weightScale[o] + bias[o]`.
public final class QuantizedNetwork {
    public let spec: ModelSpec
    public let classCount: Int
    private let stages: [Stage]
    /// The float network whose parameter-free layers (and unfused batch norms) the stages reuse.
    private let float: Network

    private enum Stage {
        case quantized(QuantizedMatmul)
        case float(Layer)
        case residual(conv1: QuantizedMatmul, relu: Layer, conv2: QuantizedMatmul, shortcut: QuantizedMatmul?, output: FloatBuffer)
    }

    /// Quantises `network`, calibrating activation scales on `calibration` (normalised image batches).
    public static func quantize(_ network: Network, calibration: [Tensor]) -> QuantizedNetwork {
        let copy = network.copy()
        var ranges: [String: Float] = [:]
        func observe(_ name: String, _ input: Tensor) {
            var largest = ranges[name] ?? 0
            for v in input.elements { largest = max(largest, abs(v)) }
            ranges[name] = largest
        }
        for batch in calibration {
            var x = batch
            for layer in copy.layers {
                if let block = layer as? ResidualBlock {
                    observe(block.conv1.name, x)
                    block.shortcut.map { observe($0.conv.name, x) }
                    let y = block.forward(x, mode: .inference)
                    observe(block.conv2.name, block.relu1.lastOutput!)
                    x = y
                } else {
                    if layer is Conv2d || layer is Linear { observe(layer.name, x) }
                    x = layer.forward(x, mode: .inference)
                }
            }
        }
        var weights: [String: QuantizedWeights] = [:]
        for (layer, batchNorm) in weightedLayers(copy) {
            weights[layer.name] = QuantizedWeights(layer: layer, folding: batchNorm, inputRange: ranges[layer.name] ?? 1)
        }
        return QuantizedNetwork(float: copy, weights: weights)
    }

    /// Up to `count` randomly chosen images of `set` (a fixed choice for a given `seed`), normalised, in
    /// batches of 128: the calibration input of `quantize`.
    public static func calibrationBatches(_ set: ImageSet, count: Int, seed: UInt64 = 0) -> [Tensor] {
        var random = RandomSource(seed: seed)
        let order = random.permutation(set.count).prefix(min(count, set.count))
        var labels: [Int] = []
        return stride(from: 0, to: order.count, by: 128).map { start in
            let indices = order[(order.startIndex + start)..<min(order.startIndex + start + 128, order.endIndex)]
            return BatchAssembler().assemble(set, indices: indices, augmentation: .none, random: &random, into: FloatBuffer(), labels: &labels)
        }
    }

    /// Every conv and fc layer, with the batch norm that directly follows it (to fold), in order.
    static func weightedLayers(_ network: Network) -> [(Layer, BatchNorm2d?)] {
        var result: [(Layer, BatchNorm2d?)] = []
        let layers = network.layers
        for (i, layer) in layers.enumerated() {
            if let block = layer as? ResidualBlock {
                result += [(block.conv1, block.bn1), (block.conv2, block.bn2)]
                if let shortcut = block.shortcut { result.append((shortcut.conv, shortcut.bn)) }
            } else if layer is Conv2d {
                result.append((layer, i + 1 < layers.count ? layers[i + 1] as? BatchNorm2d : nil))
            } else if layer is Linear {
                result.append((layer, nil))
            }
        }
        return result
    }

    init(float: Network, weights: [String: QuantizedWeights]) {
        self.float = float
        spec = float.spec
        classCount = float.classCount
        var stages: [Stage] = []
        var skipNext = false
        for (i, layer) in float.layers.enumerated() {
            if skipNext {
                skipNext = false
                continue
            }
            switch layer {
            case let block as ResidualBlock:
                stages.append(.residual(
                    conv1: QuantizedMatmul(block.conv1, weights[block.conv1.name]!), relu: block.relu1,
                    conv2: QuantizedMatmul(block.conv2, weights[block.conv2.name]!),
                    shortcut: block.shortcut.map { QuantizedMatmul($0.conv, weights[$0.conv.name]!) }, output: FloatBuffer()))
            case is Conv2d, is Linear:
                stages.append(.quantized(QuantizedMatmul(layer, weights[layer.name]!)))
                skipNext = i + 1 < float.layers.count && float.layers[i + 1] is BatchNorm2d && layer is Conv2d
            case is Dropout:
                continue
            default:
                stages.append(.float(layer))
            }
        }
        self.stages = stages
    }

    /// Class scores for a batch of normalised images.
    public func forward(_ input: Tensor) -> Tensor {
        var x = input
        for stage in stages {
            switch stage {
            case .quantized(let op): x = op.forward(x)
            case .float(let layer): x = layer.forward(x, mode: .inference)
            case let .residual(conv1, relu, conv2, shortcut, output):
                let main = conv2.forward(relu.forward(conv1.forward(x), mode: .inference))
                let skip = shortcut?.forward(x) ?? x
                let y = output.tensor(batch: x.batch, shape: main.shape)
                let a = main.pointer, b = skip.pointer, out = y.pointer
                Parallel.forEachRange(y.count, minimum: 32_768) { range, _ in
                    for i in range { out[i] = max(a[i] + b[i], 0) }
                }
                x = y
            }
        }
        return x
    }

    /// Which integer kernel runs on this machine.
    public static var kernelDescription: String {
        ckernels_uses_avx2() != 0 ? "AVX2 (int8 widened to int16, vpmaddwd into int32)" : "portable C (no AVX2 on this CPU)"
    }

    /// The int8 layers, in order.
    public var quantizedOps: [QuantizedMatmul] {
        stages.flatMap { stage -> [QuantizedMatmul] in
            switch stage {
            case .quantized(let op): return [op]
            case .float: return []
            case let .residual(a, _, b, c, _): return [a, b] + (c.map { [$0] } ?? [])
            }
        }
    }

    /// Number of stored weights (int8) and other parameters (float: biases, scales, unfused batch norms).
    public var parameterCount: Int {
        quantizedOps.map { $0.weights.values.count + $0.weights.bias.count }.reduce(0, +)
            + stages.compactMap { if case .float(let layer) = $0 { return layer.parameters.map(\.count).reduce(0, +) } else { return nil } }
                .reduce(0, +)
    }

    /// Non-zero stored weights and other parameters.
    public var nonZeroParameterCount: Int {
        quantizedOps.map { $0.weights.values.filter { $0 != 0 }.count + $0.weights.bias.filter { $0 != 0 }.count }.reduce(0, +)
            + stages.compactMap { if case .float(let layer) = $0 { return layer.parameters.flatMap(\.values).filter { $0 != 0 }.count } else { return nil } }
                .reduce(0, +)
    }

    // MARK: - Files

    /// The metadata value that marks a quantised checkpoint.
    public static let quantizationValue = "int8-per-channel"
    public static let quantizationKey = "quantization"

    /// Writes the int8 weights (PyTorch OIHW order), their scales, the folded biases, the input
    /// scales and any float state, atomically.
    public func save(to path: String, metadata: [String: String]) throws {
        try safeTensors(metadata: metadata).write(to: path)
    }

    /// The checkpoint `save` writes, in memory.
    public func safeTensors(metadata: [String: String]) -> SafeTensors {
        var entries: [SafeTensors.Entry] = []
        for op in quantizedOps {
            let w = op.weights
            let torchOrder = (0..<w.values.count).map { w.values[w.layout.internalIndex(ofTorchIndex: $0)] }
            entries.append(SafeTensors.Entry(name: op.name + ".weight", shape: w.layout.torchShape, int8s: torchOrder))
            entries.append(SafeTensors.Entry(name: op.name + ".weight_scale", shape: [w.scales.count], floats: w.scales))
            entries.append(SafeTensors.Entry(name: op.name + ".bias", shape: [w.bias.count], floats: w.bias))
            entries.append(SafeTensors.Entry(name: op.name + ".input_scale", shape: [1], floats: [w.inputScale]))
        }
        let fused = Set(Self.weightedLayers(float).compactMap { $0.1?.name })
        let floatState = float.allLayers.filter { $0 is BatchNorm2d && !fused.contains($0.name) }.flatMap(\.stateTensors)
        entries += StateDict.entries(from: floatState)
        var metadata = metadata
        metadata[RunCheckpoint.formatKey] = RunCheckpoint.formatValue
        metadata[RunCheckpoint.specKey] = spec.text
        metadata[Self.quantizationKey] = Self.quantizationValue
        return SafeTensors(tensors: entries, metadata: metadata)
    }

    /// Reads a checkpoint written by `save`.
    public static func load(_ file: SafeTensors, path: String) throws -> QuantizedNetwork {
        guard let specText = file.metadata[RunCheckpoint.specKey], let plan = try? ModelPlan(spec: try ModelSpec(specText)) else {
            throw RunCheckpointError(path: path, problem: "has no usable model spec in its metadata")
        }
        try MemoryEstimate(plan: plan).require(.inference(batch: 1), source: path)
        let network = Network(plan: plan)
        var weights: [String: QuantizedWeights] = [:]
        for (layer, _) in weightedLayers(network) {
            func entry(_ suffix: String) throws -> SafeTensors.Entry {
                guard let entry = file[layer.name + suffix] else {
                    throw RunCheckpointError(path: path, problem: "lacks tensor \(layer.name + suffix) of the int8 model")
                }
                return entry
            }
            let layout = (layer.parameters.first { $0.isWeight })!.layout
            for suffix in [".weight_scale", ".bias", ".input_scale"] { try StateDict.requireFinite(try entry(suffix), source: path) }
            guard let q = try entry(".weight").int8s, q.count == layout.count,
                let scales = try entry(".weight_scale").floats, let bias = try entry(".bias").floats,
                let inputScale = try entry(".input_scale").floats?.first
            else {
                throw RunCheckpointError(path: path, problem: "has int8 tensors of \(layer.name) with the wrong type or size")
            }
            let outputs = layer.outputShape.isFlat ? layer.outputShape.count : layer.outputShape.channels
            guard scales.count == outputs, bias.count == outputs else {
                throw RunCheckpointError(
                    path: path,
                    problem: "has \(scales.count) weight scales and \(bias.count) biases for \(layer.name), expected \(outputs) of each")
            }
            var values = [Int8](repeating: 0, count: q.count)
            for t in 0..<q.count { values[layout.internalIndex(ofTorchIndex: t)] = q[t] }
            weights[layer.name] = QuantizedWeights(values: values, scales: scales, bias: bias, inputScale: inputScale, layout: layout)
        }
        let fused = Set(weightedLayers(network).compactMap { $0.1?.name })
        let floatState = network.allLayers.filter { $0 is BatchNorm2d && !fused.contains($0.name) }.flatMap(\.stateTensors)
        let floatFile = SafeTensors(tensors: file.tensors.filter { entry in floatState.contains { $0.name == entry.name } }, metadata: [:])
        try StateDict.load(floatFile, into: floatState, source: path)
        try StateDict.requireFinite(floatFile, for: floatState, source: path)
        return QuantizedNetwork(float: network, weights: weights)
    }
}
