import Foundation

/// Feature visualisation by optimisation: synthesises the input that maximises a channel of a layer or a
/// class logit (Olah, Mordvintsev and Schubert, "Feature Visualization", Distill 2017).
///
/// Each image is a spectrum of cosine coefficients (`SpectralImage`) ascended with Adam on
/// `objective - |objective| (tv TV + l2 L2 + diversity D)`, where every step first shifts and scales the
/// image at random (`ImageJitter`): what survives those is what the unit responds to, not a pattern tied to
/// one pixel grid. With several images per objective, `D` is the mean cosine similarity of an image's Gram
/// matrix at the layer (the class logits use the last spatial layer) with the others', which pushes them
/// apart.
///
/// Every image draws its start and its jitter from its own stream of the seed (by unit and image
/// number), so a channel's images do not depend on which other channels share the batch, and a seed gives
/// the same images bit for bit on one kernel path. The network runs in inference mode; pass a copy of a
/// network that is training.
public final class FeatureVisualizer {
    public let network: Network

    public init(network: Network) {
        self.network = network
    }

    /// The layer an objective reads and the check that it exists and has the unit.
    public func targetLayer(of objective: FeatureObjective) throws(InterpretError) -> Layer {
        switch objective {
        case let .channel(name, channel):
            guard let layer = network.layer(named: name) else {
                throw .unknownLayer(name, available: network.allLayers.map(\.name))
            }
            let channels = layer.outputShape.isFlat ? layer.outputShape.count : layer.outputShape.channels
            guard (0..<channels).contains(channel) else { throw .channelOutOfRange(channel, layer: name, channels: channels) }
            return layer
        case .classLogit(let index):
            guard (0..<network.classCount).contains(index) else { throw .classOutOfRange(index, classes: network.classCount) }
            return network.layers[network.layers.count - 1]
        }
    }

    /// The visualisations of `objectives` (all channels of one layer, or class logits), in order.
    /// `progress` sees the share done and cancels by returning false.
    public func visualize(
        _ objectives: [FeatureObjective], options: FeatureVisualizationOptions = FeatureVisualizationOptions(),
        progress: ExplanationProgress? = nil
    ) throws(InterpretError) -> [FeatureVisualization] {
        let shape = network.inputShape
        guard shape.channels == 3 else { throw .invalidOption("feature visualisation needs a colour (3-channel) input") }
        if let problem = options.problem(imageSize: min(shape.width, shape.height)) { throw .invalidOption(problem) }
        guard let first = objectives.first else { return [] }
        let layer = try targetLayer(of: first)
        for objective in objectives {
            guard try targetLayer(of: objective) === layer else {
                throw .invalidOption("one visualisation run reads one layer; split the objectives by layer")
            }
        }
        let perBatch = max(1, options.batchLimit / options.images)
        var results: [FeatureVisualization] = []
        var start = 0
        let wasComputing = network.computesInputGradient
        network.computesInputGradient = true
        defer { network.computesInputGradient = wasComputing }
        while start < objectives.count {
            let end = min(start + perBatch, objectives.count)
            let done = Double(start) / Double(objectives.count), share = Double(end - start) / Double(objectives.count)
            let chunk = try Ascent(network: network, layer: layer, objectives: Array(objectives[start..<end]), options: options)
            results += try chunk.run { progress?(done + share * $0) ?? true }
            start = end
        }
        _ = progress?(1)
        return results
    }
}

/// One batch of objectives ascended together: the state of the optimisation and its forward and backward passes.
private final class Ascent {
    let network: Network
    let layer: Layer
    let objectives: [FeatureObjective]
    let options: FeatureVisualizationOptions
    let basis: SpectralImage
    let shape: FeatureShape
    /// Images in the batch: `objectives.count * options.images`, objective-major.
    let count: Int
    /// The top-level layer that is or holds `layer`, and `layer` itself when it sits inside a block.
    let topIndex: Int
    let block: ResidualBlock?
    /// Where the diversity penalty reads features: `layer`, or for class logits the last spatial top-level layer.
    let diversityIndex: Int?
    var randoms: [RandomSource]
    var spectrum: [Float]
    var moment: [Float]
    var velocity: [Float]
    var pixels: [Float]

    init(network: Network, layer: Layer, objectives: [FeatureObjective], options: FeatureVisualizationOptions) throws(InterpretError) {
        self.network = network
        self.layer = layer
        self.objectives = objectives
        self.options = options
        shape = network.inputShape
        basis = SpectralImage(height: shape.height, width: shape.width, decay: options.decay)
        count = objectives.count * options.images
        if let index = network.layers.firstIndex(where: { $0 === layer }) {
            topIndex = index
            block = nil
        } else if let index = network.layers.firstIndex(where: { top in top.sublayers.contains { $0 === layer } }),
            let holder = network.layers[index] as? ResidualBlock
        {
            topIndex = index
            block = holder
        } else {
            throw .unknownLayer(layer.name, available: network.allLayers.map(\.name))
        }
        if case .classLogit = objectives[0] {
            diversityIndex = options.images > 1 ? network.layers.lastIndex { !$0.outputShape.isFlat } : nil
        } else {
            diversityIndex = options.images > 1 ? topIndex : nil
        }
        // A stream per (unit, image number): a channel's images do not depend on what else is in the batch.
        randoms = (0..<count).map { b in
            let unit = Self.unit(of: objectives[b / options.images]), image = b % options.images
            return RandomSource(seed: options.seed, stream: UInt64(unit) << 8 | UInt64(image))
        }
        let size = basis.coefficientCount
        spectrum = [Float](repeating: 0, count: count * size)
        for b in 0..<count {
            for i in 0..<size { spectrum[b * size + i] = 0.01 * randoms[b].normal() }
        }
        moment = [Float](repeating: 0, count: spectrum.count)
        velocity = moment
        pixels = [Float](repeating: 0, count: count * shape.count)
    }

    func run(progress: (Double) -> Bool) throws(InterpretError) -> [FeatureVisualization] {
        renderPixels()
        let startValues = objectiveValues(of: pixels)
        var gradient = [Float](repeating: 0, count: spectrum.count)
        let (beta1, beta2): (Float, Float) = (0.9, 0.999)
        for step in 1...options.steps {
            guard progress(Double(step - 1) / Double(options.steps)) else { throw .cancelled }
            renderPixels()
            ascentGradient(into: &gradient)
            // Adam, minimising -objective + penalties.
            let correction1 = 1 - pow(beta1, Float(step)), correction2 = 1 - pow(beta2, Float(step))
            let rate = options.learningRate
            for i in spectrum.indices {
                moment[i] = beta1 * moment[i] + (1 - beta1) * gradient[i]
                velocity[i] = beta2 * velocity[i] + (1 - beta2) * gradient[i] * gradient[i]
                spectrum[i] -= rate * (moment[i] / correction1) / ((velocity[i] / correction2).squareRoot() + 1e-8)
            }
        }
        renderPixels()
        let values = objectiveValues(of: pixels)
        let n = options.images, size = shape.count
        return objectives.enumerated().map { o, objective in
            FeatureVisualization(
                objective: objective, layer: layer.name, width: shape.width, height: shape.height,
                images: (0..<n).map { Array(pixels[((o * n + $0) * size)..<((o * n + $0 + 1) * size)]) },
                values: Array(values[(o * n)..<((o + 1) * n)]), startValues: Array(startValues[(o * n)..<((o + 1) * n)]))
        }
    }

    /// `pixels` from `spectrum`, image by image in parallel.
    private func renderPixels() {
        let basis = self.basis, size = self.basis.coefficientCount, imageSize = shape.count
        spectrum.withUnsafeBufferPointer { z in
            pixels.withUnsafeMutableBufferPointer { p in
                let z = z.baseAddress!, p = p.baseAddress!
                Parallel.forEachRange(count) { range, _ in
                    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 2 * size)
                    defer { scratch.deallocate() }
                    for b in range { basis.pixels(from: z + b * size, into: p + b * imageSize, scratch: scratch) }
                }
            }
        }
    }

    /// The network's input for pixel images (channels-last RGB in 0...1): CIFAR-10 normalisation.
    private func normalised(_ images: UnsafePointer<Float>, count: Int) -> Tensor {
        let input = Tensor(zeros: count, shape)
        let normalization = Normalization.cifar10, x = input.pointer
        for i in 0..<(count * shape.count) {
            let c = i % 3
            x[i] = (images[i] - normalization.mean[c]) / normalization.std[c]
        }
        return input
    }

    /// Runs the top-level layers up to `last` (inference mode).
    @discardableResult
    private func forward(_ input: Tensor, through last: Int) -> Tensor {
        var x = input
        for index in 0...last { x = network.layers[index].forward(x, mode: .inference) }
        return x
    }

    /// Each image's objective, read from `layer`'s output after a forward pass.
    private func objectiveValues(from output: Tensor) -> [Float] {
        let positions = layer.outputShape.isFlat ? 1 : layer.outputShape.spatialCount
        let channels = layer.outputShape.isFlat ? layer.outputShape.count : layer.outputShape.channels
        return (0..<count).map { b in
            let unit = self.unit(of: objectives[b / options.images])
            let sample = output.sample(b)
            var sum: Float = 0
            for p in 0..<positions { sum += sample[p * channels + unit] }
            return sum / Float(positions)
        }
    }

    private func unit(of objective: FeatureObjective) -> Int { Self.unit(of: objective) }

    private static func unit(of objective: FeatureObjective) -> Int {
        switch objective {
        case .channel(_, let channel): return channel
        case .classLogit(let index): return index
        }
    }

    private func objectiveValues(of images: [Float]) -> [Float] {
        let input = images.withUnsafeBufferPointer { normalised($0.baseAddress!, count: count) }
        forward(input, through: topIndex)
        return objectiveValues(from: layer.lastOutput!)
    }

    /// The gradient of `-objective + |objective| (penalties)` with respect to the spectrum, for this step's
    /// random shifts and scales of `pixels`.
    private func ascentGradient(into gradient: inout [Float]) {
        let imageSize = shape.count, height = shape.height, width = shape.width
        let jitters: [ImageJitter] = (0..<count).map { b in
            let scale = options.scale > 0 ? randoms[b].uniform(1 - options.scale, 1 + options.scale) : 1
            let reach = options.jitter
            let dx = reach > 0 ? randoms[b].below(2 * reach + 1) - reach : 0
            let dy = reach > 0 ? randoms[b].below(2 * reach + 1) - reach : 0
            return ImageJitter(height: height, width: width, scale: scale, shiftX: dx, shiftY: dy)
        }
        var moved = [Float](repeating: 0, count: count * imageSize)
        pixels.withUnsafeBufferPointer { p in
            moved.withUnsafeMutableBufferPointer { m in
                for b in 0..<count { jitters[b].apply(p.baseAddress! + b * imageSize, into: m.baseAddress! + b * imageSize) }
            }
        }
        let input = moved.withUnsafeBufferPointer { normalised($0.baseAddress!, count: count) }
        forward(input, through: topIndex)
        let output = layer.lastOutput!
        let values = objectiveValues(from: output)
        // The penalties' weight: the objective's size, held fixed within the step.
        let weights = values.map { max(abs($0), 1e-3) }

        // d(-objective)/d(layer output).
        let outputShape = layer.outputShape
        let positions = outputShape.isFlat ? 1 : outputShape.spatialCount
        let channels = outputShape.isFlat ? outputShape.count : outputShape.channels
        let seed = Tensor(zeros: count, outputShape)
        for b in 0..<count {
            let unit = self.unit(of: objectives[b / options.images]), sample = seed.sample(b)
            for p in 0..<positions { sample[p * channels + unit] = -1 / Float(positions) }
        }
        var diversityGradient: (index: Int, gradient: Tensor)?
        if let index = diversityIndex {
            let features = index == topIndex ? layer : network.layers[index]
            let gradient = index == topIndex ? seed : Tensor(zeros: count, features.outputShape)
            addDiversityGradient(features: features.lastOutput!, shape: features.outputShape, weights: weights, into: gradient)
            if index != topIndex { diversityGradient = (index, gradient) }
        }
        var g: Tensor
        var next: Int
        // At a ReLU, a channel that is zero everywhere (as many are at the grey start) passes no gradient and
        // would stay dead: let the gradient through where it would raise the ReLU's input (Lucid's
        // "redirected" ReLU gradient, at the target layer only).
        let redirected = layer.kind == .relu ? redirectedThroughReLU(seed, output: output) : nil
        if let block {
            if let redirected {
                let path = block.sublayers
                let below = path[path.firstIndex { $0 === layer }! - 1]
                g = block.backward(from: below, redirected)!
            } else {
                g = block.backward(from: layer, seed)!
            }
            next = topIndex - 1
        } else if let redirected {
            g = redirected
            next = topIndex - 1
        } else {
            g = seed
            next = topIndex
        }
        while next >= 0 {
            if let extra = diversityGradient, extra.index == next {
                let a = g.pointer, d = extra.gradient.pointer
                for i in 0..<g.count { a[i] += d[i] }
            }
            g = network.layers[next].backward(g)
            next -= 1
        }

        // Back to the pixels: un-normalise, transpose the jitter, add the penalties, then into the spectrum.
        let inputGradient = g.pointer, normalization = Normalization.cifar10
        let basis = self.basis, size = self.basis.coefficientCount
        let tv = options.totalVariation, l2 = options.l2
        let pixelCount = Float(imageSize)
        pixels.withUnsafeBufferPointer { p in
            gradient.withUnsafeMutableBufferPointer { z in
                let p = p.baseAddress!, z = z.baseAddress!
                Parallel.forEachRange(count) { range, _ in
                    let moved = UnsafeMutablePointer<Float>.allocate(capacity: imageSize)
                    let pixelGradient = UnsafeMutablePointer<Float>.allocate(capacity: imageSize)
                    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 2 * size)
                    defer {
                        moved.deallocate()
                        pixelGradient.deallocate()
                        scratch.deallocate()
                    }
                    for b in range {
                        for i in 0..<imageSize { moved[i] = inputGradient[b * imageSize + i] / normalization.std[i % 3] }
                        pixelGradient.initialize(repeating: 0, count: imageSize)
                        jitters[b].addTransposed(moved, into: pixelGradient)
                        let image = p + b * imageSize, weight = weights[b]
                        // Total variation: mean over pixels and channels of the squared right and down differences.
                        let tvScale = weight * tv * 2 / pixelCount
                        for y in 0..<height {
                            for x in 0..<width {
                                for c in 0..<3 {
                                    let here = (y * width + x) * 3 + c
                                    if x + 1 < width {
                                        let d = image[here + 3] - image[here]
                                        pixelGradient[here + 3] += tvScale * d
                                        pixelGradient[here] -= tvScale * d
                                    }
                                    if y + 1 < height {
                                        let d = image[here + width * 3] - image[here]
                                        pixelGradient[here + width * 3] += tvScale * d
                                        pixelGradient[here] -= tvScale * d
                                    }
                                }
                            }
                        }
                        let l2Scale = weight * l2 * 2 / pixelCount
                        for i in 0..<imageSize { pixelGradient[i] += l2Scale * (image[i] - 0.5) }
                        basis.coefficientGradient(pixels: image, pixelGradient: pixelGradient, into: z + b * size, scratch: scratch)
                    }
                }
            }
        }
    }

    /// The gradient at a ReLU's input from `gradient` at its output: as the ReLU's own where the output is
    /// positive, and where it is zero, the part that would raise the input (a negative loss gradient).
    private func redirectedThroughReLU(_ gradient: Tensor, output: Tensor) -> Tensor {
        let result = Tensor(zeros: gradient.batch, gradient.shape)
        let g = gradient.pointer, y = output.pointer, r = result.pointer
        for i in 0..<gradient.count { r[i] = y[i] > 0 || g[i] < 0 ? g[i] : 0 }
        return result
    }

    /// Adds the gradient of `sum_b weight_b * diversity * D_b` to `gradient`, where `D_b` is the mean cosine
    /// similarity of image `b`'s Gram matrix `G_b = F_b^T F_b / P` with those of the other images of its objective.
    private func addDiversityGradient(features: Tensor, shape: FeatureShape, weights: [Float], into gradient: Tensor) {
        let n = options.images
        let positions = shape.isFlat ? 1 : shape.spatialCount, channels = shape.isFlat ? shape.count : shape.channels
        let gramSize = channels * channels
        var grams = [Float](repeating: 0, count: count * gramSize)
        grams.withUnsafeMutableBufferPointer { g in
            for b in 0..<count {
                let f = UnsafePointer(features.sample(b))
                BLAS.gemm(transposeA: true, m: channels, n: channels, k: positions, alpha: 1 / Float(positions), a: f, lda: channels,
                          b: f, ldb: channels, c: g.baseAddress! + b * gramSize, ldc: channels)
            }
        }
        let norms = (0..<count).map { b in
            max(grams[(b * gramSize)..<((b + 1) * gramSize)].reduce(Float(0)) { $0 + $1 * $1 }.squareRoot(), 1e-12)
        }
        func cosine(_ a: Int, _ b: Int) -> Float {
            var dot: Float = 0
            for i in 0..<gramSize { dot += grams[a * gramSize + i] * grams[b * gramSize + i] }
            return dot / (norms[a] * norms[b])
        }
        var change = [Float](repeating: 0, count: gramSize)
        for group in 0..<(count / n) {
            let members = (group * n)..<((group + 1) * n)
            var cosines = [Float](repeating: 0, count: n * n)
            for a in members { for b in members where b > a { cosines[(a - members.lowerBound) * n + b - members.lowerBound] = cosine(a, b) } }
            for a in members {
                // d/dG_a of cos(G_a, G_j) = (G_j/|G_j| - cos G_a/|G_a|) / |G_a|; cos(a, j) enters D_a and D_j.
                for i in 0..<gramSize { change[i] = 0 }
                for j in members where j != a {
                    let (low, high) = (min(a, j) - members.lowerBound, max(a, j) - members.lowerBound)
                    let c = cosines[low * n + high]
                    let coefficient = options.diversity * (weights[a] + weights[j]) / Float(n - 1) / norms[a]
                    for i in 0..<gramSize {
                        change[i] += coefficient * (grams[j * gramSize + i] / norms[j] - c * grams[a * gramSize + i] / norms[a])
                    }
                }
                // dF_a = F_a (dG + dG^T) / P = 2 F_a dG / P (dG is symmetric).
                change.withUnsafeBufferPointer { d in
                    BLAS.gemm(m: positions, n: channels, k: channels, alpha: 2 / Float(positions), a: UnsafePointer(features.sample(a)),
                              lda: channels, b: d.baseAddress!, ldb: channels, beta: 1, c: gradient.sample(a), ldc: channels)
                }
            }
        }
    }
}

extension ResidualBlock {
    /// The gradient at the block's input from a gradient at one sublayer's output alone, through that
    /// sublayer's path (the main path or the shortcut); nil when `sublayer` is not one of the block's.
    /// (The block's `backward` cannot do this: the main path's last gradient is the skip path's too.)
    func backward(from sublayer: Layer, _ gradient: Tensor) -> Tensor? {
        let main: [Layer] = [conv1, bn1, relu1, conv2, bn2]
        let path: [Layer]
        if let index = main.firstIndex(where: { $0 === sublayer }) {
            path = Array(main[...index])
        } else if let shortcut, shortcut.conv === sublayer {
            path = [shortcut.conv]
        } else if let shortcut, shortcut.bn === sublayer {
            path = [shortcut.conv, shortcut.bn]
        } else {
            return nil
        }
        var g = gradient
        for layer in path.reversed() { g = layer.backward(g) }
        return g
    }
}
