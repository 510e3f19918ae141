import Foundation

/// Pixel attribution of the latest image: gradient methods (saliency, SmoothGrad, Integrated Gradients,
/// Guided Backprop, Guided Grad-CAM) and perturbation methods (Occlusion, RISE), with Captum's definitions.
extension Inspector {
    /// The pixel attribution of the latest image for `classIndex` (nil: the predicted class).
    public func pixelAttribution(
        _ method: PixelAttributionMethod, layer: String? = nil, classIndex: Int? = nil,
        options: AttributionOptions = AttributionOptions(), progress: ExplanationProgress? = nil
    ) throws(InterpretError) -> PixelAttribution {
        guard let image else { throw .noImage }
        let target = classIndex ?? predictedClass
        guard logits.indices.contains(target) else { throw .classOutOfRange(target, classes: logits.count) }
        let shape = network.inputShape
        if let problem = options.problem(imageSize: min(shape.width, shape.height)) { throw .invalidOption(problem) }
        let pixels = Array(image.elements)
        var random = RandomSource(seed: options.seed)
        func result(_ values: [Float], layer: String? = nil, gap: Float? = nil) -> PixelAttribution {
            PixelAttribution(
                method: method, classIndex: target, layer: layer, width: shape.width, height: shape.height,
                channels: shape.channels, attribution: values, logits: logits, completenessGap: gap)
        }
        switch method {
        case .saliency:
            return result(try inputGradients([pixels], classIndex: target).map(abs))
        case .smoothGrad:
            let deviation = options.noise * ((pixels.max() ?? 0) - (pixels.min() ?? 0))
            let noise = (0..<options.samples).map { _ in pixels.map { _ in deviation * random.normal() } }
            return result(try smoothGrad(noise: noise, classIndex: target, progress: progress))
        case .integratedGradients:
            let baseline = Self.baseline(options.baseline, image: pixels, shape: shape, sigma: options.blurSigma)
            let (values, gap) = try integratedGradients(baseline: baseline, steps: options.steps, classIndex: target, progress: progress)
            return result(values, gap: gap)
        case .guidedBackprop:
            return result(try guidedGradients(classIndex: target))
        case .guidedGradCAM:
            let chosen = try spatialLayer(layer)
            let cam = try activationMap(layer: chosen.name, classIndex: target, method: .gradCAM)
            let guided = try guidedGradients(classIndex: target)
            var values = guided
            for y in 0..<shape.height {
                // Captum's LayerAttribution.interpolate, mode "nearest": source index floor(i * in / out).
                let sy = y * cam.height / shape.height
                for x in 0..<shape.width {
                    let weight = cam.values[sy * cam.width + x * cam.width / shape.width]
                    for c in 0..<shape.channels { values[(y * shape.width + x) * shape.channels + c] *= weight }
                }
            }
            return result(values, layer: chosen.name)
        case .occlusion:
            return result(try occlusion(patch: options.patch, stride: options.stride, classIndex: target, progress: progress))
        case .rise:
            let masks = Self.riseMasks(
                count: options.masks, grid: options.maskGrid, keep: options.keepProbability, width: shape.width,
                height: shape.height, random: &random)
            return result(try rise(masks: masks, keep: options.keepProbability, classIndex: target, progress: progress))
        }
    }

    /// `d logit_c / d input` for each of `inputs` (channels-last images), in batches; leaves the
    /// inspector on its image again.
    func inputGradients(_ inputs: [[Float]], classIndex: Int, progress: ExplanationProgress? = nil) throws(InterpretError) -> [Float] {
        guard let image else { throw .noImage }
        let wasComputing = network.computesInputGradient
        network.computesInputGradient = true
        defer {
            network.computesInputGradient = wasComputing
            run(image)
        }
        let shape = network.inputShape
        var gradients: [Float] = []
        gradients.reserveCapacity(inputs.count * shape.count)
        var start = 0
        while start < inputs.count {
            guard progress?(Double(start) / Double(inputs.count)) ?? true else { throw .cancelled }
            let size = min(Self.perturbationBatch, inputs.count - start)
            let batch = Tensor(zeros: size, shape)
            for b in 0..<size { inputs[start + b].withUnsafeBufferPointer { batch.sample(b).update(from: $0.baseAddress!, count: shape.count) } }
            let output = network.forward(batch, mode: .inference)
            let seed = Tensor(zeros: size, output.shape)
            for b in 0..<size { seed.sample(b)[classIndex] = 1 }
            let gradient = network.backward(seed)
            gradients += gradient.array
            start += size
        }
        _ = progress?(1)
        return gradients
    }

    /// Guided backpropagation's input gradient of the latest image.
    func guidedGradients(classIndex: Int) throws(InterpretError) -> [Float] {
        guard let image else { throw .noImage }
        network.guidesBackward = true
        defer { network.guidesBackward = false }
        return try inputGradients([Array(image.elements)], classIndex: classIndex)
    }

    /// SmoothGrad over explicit noise: the mean of `|gradient|` at `image + noise_i`.
    public func smoothGrad(noise: [[Float]], classIndex: Int, progress: ExplanationProgress? = nil) throws(InterpretError) -> [Float] {
        guard let image else { throw .noImage }
        let pixels = Array(image.elements), count = pixels.count
        let inputs = noise.map { n in (0..<count).map { pixels[$0] + n[$0] } }
        let gradients = try inputGradients(inputs, classIndex: classIndex, progress: progress)
        var mean = [Float](repeating: 0, count: count)
        for s in 0..<noise.count { for i in 0..<count { mean[i] += abs(gradients[s * count + i]) } }
        return mean.map { $0 / Float(noise.count) }
    }

    /// Integrated Gradients from `baseline` with Captum's Gauss-Legendre rule; returns the attribution
    /// and the completeness gap `sum(attribution) - (logit(x) - logit(baseline))`.
    public func integratedGradients(
        baseline: [Float], steps: Int, classIndex: Int, progress: ExplanationProgress? = nil
    ) throws(InterpretError) -> ([Float], Float) {
        guard let image else { throw .noImage }
        let pixels = Array(image.elements), count = pixels.count
        let (nodes, weights) = GaussLegendre.rule(points: steps)
        let inputs = nodes.map { alpha in (0..<count).map { baseline[$0] + Float(alpha) * (pixels[$0] - baseline[$0]) } }
        let gradients = try inputGradients(inputs, classIndex: classIndex, progress: progress)
        var total = [Double](repeating: 0, count: count)
        for (s, weight) in weights.enumerated() { for i in 0..<count { total[i] += weight * Double(gradients[s * count + i]) } }
        let attribution = (0..<count).map { Float(total[$0] * Double(pixels[$0] - baseline[$0])) }
        let baselineScore = try classScores(count: 1, classIndex: classIndex, progress: nil) { _, out in
            baseline.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: count) }
        }[0][classIndex]
        let sum = attribution.reduce(0.0) { $0 + Double($1) }
        return (attribution, Float(sum - Double(logits[classIndex] - baselineScore)))
    }

    /// Captum's Occlusion with a `channels x patch x patch` window and a mean-colour (zero) baseline:
    /// windows start every `stride` pixels, `ceil((size - patch) / stride) + 1` per axis (the last may
    /// hang over the edge); each pixel gets the mean logit drop of the windows covering it.
    public func occlusion(patch: Int, stride: Int, classIndex: Int, progress: ExplanationProgress? = nil) throws(InterpretError) -> [Float] {
        guard let image else { throw .noImage }
        let shape = network.inputShape, pixels = Array(image.elements)
        let across = (shape.width - patch + stride - 1) / stride + 1, down = (shape.height - patch + stride - 1) / stride + 1
        let windows = (0..<(across * down)).map { ($0 % across * stride, $0 / across * stride) }
        let scores = try classScores(count: windows.count, classIndex: classIndex, progress: progress) { w, out in
            pixels.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: pixels.count) }
            let (left, top) = windows[w]
            for y in top..<min(top + patch, shape.height) {
                for x in left..<min(left + patch, shape.width) {
                    for c in 0..<shape.channels { out[(y * shape.width + x) * shape.channels + c] = 0 }
                }
            }
        }
        var sums = [Float](repeating: 0, count: shape.spatialCount), counts = sums
        let original = logits[classIndex]
        for (w, (left, top)) in windows.enumerated() {
            let drop = original - scores[w][classIndex]
            for y in top..<min(top + patch, shape.height) {
                for x in left..<min(left + patch, shape.width) {
                    sums[y * shape.width + x] += drop
                    counts[y * shape.width + x] += 1
                }
            }
        }
        return (0..<shape.count).map { i in
            let p = i / shape.channels
            return sums[p] / counts[p]
        }
    }

    /// RISE over explicit masks (each `height x width`, values in [0, 1]): `sum_i P_c(x * M_i) M_i / (N p)`,
    /// with `x * M_i` in normalised space (masked pixels take the mean colour) and `P_c` the softmax
    /// probability, as in the authors' PyTorch code. Every channel carries the same value.
    public func rise(masks: [[Float]], keep: Float, classIndex: Int, progress: ExplanationProgress? = nil) throws(InterpretError) -> [Float] {
        guard let image else { throw .noImage }
        let shape = network.inputShape, pixels = Array(image.elements)
        let scores = try classScores(count: masks.count, classIndex: classIndex, progress: progress) { m, out in
            let mask = masks[m]
            for p in 0..<shape.spatialCount {
                for c in 0..<shape.channels { out[p * shape.channels + c] = pixels[p * shape.channels + c] * mask[p] }
            }
        }
        var saliency = [Double](repeating: 0, count: shape.spatialCount)
        for (m, mask) in masks.enumerated() {
            let probability = Double(Self.softmax(scores[m])[classIndex])
            for p in 0..<shape.spatialCount { saliency[p] += probability * Double(mask[p]) }
        }
        let scale = 1 / (Double(masks.count) * Double(keep))
        return (0..<shape.count).map { Float(saliency[$0 / shape.channels] * scale) }
    }

    /// RISE's masks (Petsiuk et al. 2018): a `grid x grid` field of cells kept with probability `keep`,
    /// upsampled bilinearly to `(grid + 1) * cell` pixels (cell = ceil(size / grid)) and cropped at a
    /// random shift below one cell, so the masks are smooth and not tied to the grid.
    static func riseMasks(count: Int, grid: Int, keep: Float, width: Int, height: Int, random: inout RandomSource) -> [[Float]] {
        let cellX = (width + grid - 1) / grid, cellY = (height + grid - 1) / grid
        let bigWidth = (grid + 1) * cellX, bigHeight = (grid + 1) * cellY
        return (0..<count).map { _ in
            let cells = (0..<(grid * grid)).map { _ in random.uniform() < keep ? Float(1) : 0 }
            let big = HeatMap(width: grid, height: grid, values: cells).resizedBilinear(width: bigWidth, height: bigHeight)
            let dx = random.below(cellX), dy = random.below(cellY)
            var mask = [Float](repeating: 0, count: width * height)
            for y in 0..<height { for x in 0..<width { mask[y * width + x] = big.values[(y + dy) * bigWidth + x + dx] } }
            return mask
        }
    }

    /// Integrated Gradients' starting image, channels-last and normalised.
    static func baseline(_ kind: AttributionBaseline, image: [Float], shape: FeatureShape, sigma: Float) -> [Float] {
        switch kind {
        case .mean:
            return [Float](repeating: 0, count: image.count)
        case .black:
            let black = Normalization.cifar10
            return (0..<image.count).map { black.normalize(0, channel: $0 % shape.channels) }
        case .blur:
            return GaussianBlur.apply(image, width: shape.width, height: shape.height, channels: shape.channels, sigma: sigma)
        }
    }
}
