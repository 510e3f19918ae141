/// A convolution computed directly from the images by the C kernels (`ckernels_convolution.forward`),
/// image by image on each worker, over zero-bordered copies; the weights are rearranged HWIO for them.
///
/// The backward pass (for "same" stride-1 layers only, `ConvolutionShape.isSame`) stacks each worker's
/// images with zero borders (`x`) and places their output gradients on the same grid (`g`): the weight
/// gradient is `weight_gradient` over the whole stack, the input gradient the direct convolution of each
/// image's slice of `g` with the flipped kernel.
final class DirectConvolution: ConvolutionBackend {
    private let shape: ConvolutionShape
    private let kernels: ConvolutionKernels
    /// The weights HWIO, and flipped for the input gradient.
    private let hwioWeights = FloatBuffer()
    private let flippedWeights = FloatBuffer()
    /// Per-worker zero-bordered copies of one image, for the forward pass.
    private let paddedImages = (0..<Parallel.workerCount).map { _ in FloatBuffer() }
    /// Per-worker stacks of zero-bordered inputs and output gradients, for the backward pass.
    private let paddedInputs = (0..<Parallel.workerCount).map { _ in FloatBuffer() }
    private let paddedGradients = (0..<Parallel.workerCount).map { _ in FloatBuffer() }
    private let weightGradients = WorkerParts()
    private let biasGradients = WorkerParts()

    init(_ shape: ConvolutionShape, kernels: ConvolutionKernels) {
        self.shape = shape
        self.kernels = kernels
    }

    func forward(
        _ x: Tensor, weights w: UnsafePointer<Float>, bias b: UnsafePointer<Float>?, epilogue: ConvolutionEpilogue, into y: Tensor
    ) {
        let k = shape.kernel, p = shape.padding, inC = shape.input.channels, outC = shape.output.channels
        hwioWeights.reserve(shape.weightCount)
        ConvolutionWeights.hwio(w, shape, into: hwioWeights.base)
        let hwio = UnsafePointer(hwioWeights.base)
        let paddedWidth = shape.input.width + 2 * p, paddedCount = (shape.input.height + 2 * p) * paddedWidth * inC
        let convolve = kernels.table.forward!
        Parallel.forEachChunk(x.batch) { images, worker in
            let padded = paddedImages[worker]
            if p > 0 { padded.reserve(paddedCount) }
            for n in images {
                var source = UnsafePointer(x.sample(n))
                if p > 0 {
                    placeBordered(source, channels: inC, into: padded.base)
                    source = UnsafePointer(padded.base)
                }
                convolve(
                    source, Int32(paddedWidth), Int32(inC), hwio, b, Int32(outC), Int32(k), Int32(shape.stride),
                    Int32(shape.output.height), Int32(shape.output.width), y.sample(n))
                epilogue.apply(to: y, first: n, count: 1)
            }
        }
    }

    func backward(
        _ x: Tensor, outputGradient dy: Tensor, weights: UnsafePointer<Float>, weightGradient: UnsafeMutablePointer<Float>,
        biasGradient: UnsafeMutablePointer<Float>?, inputGradient dx: Tensor?, epilogue: ConvolutionEpilogue
    ) {
        precondition(shape.isSame, "the direct backward pass takes only \"same\" stride-1 convolutions")
        let k = shape.kernel, p = shape.padding
        let inC = shape.input.channels, outC = shape.output.channels, h = shape.input.height, w = shape.input.width
        let pw = w + 2 * p, imageRows = (h + 2 * p) * pw, slack = p * pw + p
        if dx != nil {
            flippedWeights.reserve(shape.weightCount)
            ConvolutionWeights.flipped(weights, shape, into: flippedWeights.base)
        }
        let accumulate = kernels.table.weight_gradient!, convolve = kernels.table.forward!
        let parts = Parallel.partCount(x.batch)
        Parallel.forEachRange(x.batch) { images, worker in
            let rows = images.count * imageRows
            let xs = paddedInputs[worker], gs = paddedGradients[worker]
            xs.reserve((rows + slack) * inC)
            gs.reserve((rows + slack) * outC)
            for (slot, n) in images.enumerated() {
                placeBordered(x.sample(n), channels: inC, into: xs.base + slot * imageRows * inC)
                placeBordered(dy.sample(n), channels: outC, into: gs.base + slot * imageRows * outC)
            }
            (xs.base + rows * inC).update(repeating: 0, count: slack * inC)
            (gs.base + rows * outC).update(repeating: 0, count: slack * outC)
            let dw = weightGradients.zeroed(worker, count: shape.weightCount)
            accumulate(xs.base, gs.base, Int32(rows - slack), Int32(pw), Int32(p), Int32(k), Int32(inC), Int32(outC), dw)
            if biasGradient != nil {
                let db = biasGradients.zeroed(worker, count: outC)
                addColumnSums(dy.sample(images.lowerBound), rows: images.count * h * w, columns: outC, into: db)
            }
            guard let dx else { return }
            for (slot, n) in images.enumerated() {
                convolve(
                    gs.base + slot * imageRows * outC, Int32(pw), Int32(outC), flippedWeights.base, nil, Int32(inC),
                    Int32(k), 1, Int32(h), Int32(w), dx.sample(n))
                epilogue.apply(to: dx, first: n, count: 1)
            }
        }
        ConvolutionWeights.storeSum(ofHWIO: (0..<max(parts, 1)).map { weightGradients[$0] }, shape, into: weightGradient)
        if let biasGradient { biasGradients.sum(parts: parts, count: outC, into: biasGradient) }
    }

    /// Copies an image of the input's height and width with `channels` channels into `slot`, a
    /// zero-bordered copy with `padding` more pixels on each side. Writes the border zeros as well, but
    /// not the interior twice.
    private func placeBordered(_ source: UnsafePointer<Float>, channels: Int, into slot: UnsafeMutablePointer<Float>) {
        let p = shape.padding, h = shape.input.height, w = shape.input.width, rowFloats = (w + 2 * p) * channels
        slot.update(repeating: 0, count: p * rowFloats)
        for row in 0..<h {
            let line = slot + (row + p) * rowFloats
            line.update(repeating: 0, count: p * channels)
            (line + p * channels).update(from: source + row * w * channels, count: w * channels)
            (line + (p + w) * channels).update(repeating: 0, count: p * channels)
        }
        (slot + (h + p) * rowFloats).update(repeating: 0, count: p * rowFloats)
    }
}
