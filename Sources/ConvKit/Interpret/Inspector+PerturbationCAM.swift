/// The CAM-family methods that weigh channels by the network's answers to changed inputs or
/// activations instead of by gradients: Score-CAM and Ablation-CAM.
extension Inspector {
    /// Images per forward pass of the perturbation methods.
    static let perturbationBatch = 32

    /// Score-CAM's channel weights (pytorch-grad-cam's `ScoreCAM.get_cam_weights`): each channel,
    /// upsampled to the input with `align_corners=True` bilinear interpolation and scaled to [0, 1]
    /// (`(u - min) / (max - min + 1e-8)`), multiplies the image; the target logits of those images,
    /// softmaxed over the channels, are the weights.
    func scoreCAMWeights(
        activations: [Float], shape: FeatureShape, classIndex: Int, progress: ExplanationProgress?
    ) throws(InterpretError) -> [Float] {
        guard let image else { throw .noImage }
        let input = network.inputShape, channels = shape.channels
        let xs = Self.alignedCornersTaps(from: shape.width, to: input.width)
        let ys = Self.alignedCornersTaps(from: shape.height, to: input.height)
        let pixels = Array(image.elements)
        let scores = try classScores(count: channels, classIndex: classIndex, progress: progress) { k, out in
            var upsampled = [Float](repeating: 0, count: input.spatialCount)
            for y in 0..<input.height {
                let (y0, y1, fy) = ys[y]
                for x in 0..<input.width {
                    let (x0, x1, fx) = xs[x]
                    func a(_ row: Int, _ column: Int) -> Float { activations[(row * shape.width + column) * channels + k] }
                    let top = a(y0, x0) * (1 - fx) + a(y0, x1) * fx
                    let bottom = a(y1, x0) * (1 - fx) + a(y1, x1) * fx
                    upsampled[y * input.width + x] = top * (1 - fy) + bottom * fy
                }
            }
            let low = upsampled.min() ?? 0, high = upsampled.max() ?? 0
            for p in 0..<input.spatialCount {
                let mask = (upsampled[p] - low) / (high - low + 1e-8)
                for c in 0..<input.channels { out[p * input.channels + c] = pixels[p * input.channels + c] * mask }
            }
        }
        return Self.softmax(scores.map { $0[classIndex] })
    }

    /// Ablation-CAM's channel weights (pytorch-grad-cam's `AblationCAM`): `(y - y_k) / y`, where `y_k` is
    /// the target logit with channel k ablated. Ablating sets the channel to 0 when the layer's smallest
    /// output is 0 (after a ReLU), otherwise to that minimum minus 1e7, as pytorch-grad-cam does.
    func ablationCAMWeights(
        layer: Layer, activations: [Float], classIndex: Int, progress: ExplanationProgress?
    ) throws(InterpretError) -> [Float] {
        guard network.layers.contains(where: { $0 === layer }) else {
            let block = network.layers.first { $0.sublayers.contains { $0 === layer } }
            throw .ablationInsideBlock(layer.name, block: block?.name ?? "?")
        }
        guard let image else { throw .noImage }
        defer { run(image) }
        let original = logits[classIndex]
        let shape = layer.outputShape, channels = shape.channels
        let minimum = activations.min() ?? 0
        let ablated: Float = minimum == 0 ? 0 : minimum - 1e7
        var weights: [Float] = []
        var start = 0
        while start < channels {
            guard progress?(Double(start) / Double(channels)) ?? true else { throw .cancelled }
            let count = min(Self.perturbationBatch, channels - start)
            let batch = Tensor(zeros: count, shape)
            for b in 0..<count {
                let out = batch.sample(b)
                activations.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: activations.count) }
                for p in 0..<shape.spatialCount { out[p * channels + start + b] = ablated }
            }
            guard let scores = network.forward(batch, after: layer, mode: .inference) else { throw .noSpatialLayer }
            for b in 0..<count { weights.append((original - scores.sample(b)[classIndex]) / original) }
            start += count
        }
        return weights
    }

    /// The logits of `count` inputs that `fill(index, pixels)` writes (channels-last, the input's
    /// shape), run in batches; leaves the inspector on its image again.
    func classScores(
        count: Int, classIndex: Int, progress: ExplanationProgress?,
        fill: (Int, UnsafeMutablePointer<Float>) -> Void
    ) throws(InterpretError) -> [[Float]] {
        guard let image else { throw .noImage }
        defer { run(image) }
        var scores: [[Float]] = []
        scores.reserveCapacity(count)
        var start = 0
        while start < count {
            guard progress?(Double(start) / Double(count)) ?? true else { throw .cancelled }
            let size = min(Self.perturbationBatch, count - start)
            let batch = Tensor(zeros: size, network.inputShape)
            for b in 0..<size { fill(start + b, batch.sample(b)) }
            let output = network.forward(batch, mode: .inference)
            for b in 0..<size { scores.append(Array(UnsafeBufferPointer(start: output.sample(b), count: output.shape.count))) }
            start += size
        }
        _ = progress?(1)
        return scores
    }

    /// Bilinear taps with `align_corners=True` (`torch.nn.UpsamplingBilinear2d`): output `i` samples
    /// input position `i * (in - 1) / (out - 1)`.
    static func alignedCornersTaps(from input: Int, to output: Int) -> [(Int, Int, Float)] {
        (0..<output).map { i in
            let position = output > 1 ? Float(i) * Float(input - 1) / Float(output - 1) : 0
            let low = min(Int(position), input - 1)
            return (low, min(low + 1, input - 1), position - Float(low))
        }
    }

    static func softmax(_ values: [Float]) -> [Float] {
        let top = values.max() ?? 0
        let exps = values.map { Foundation.exp($0 - top) }
        let total = exps.reduce(0, +)
        return exps.map { $0 / total }
    }
}

import Foundation
