import CKernels

/// A 3x3, stride-1, padding-1 convolution through Winograd tiles (`WinogradTile`): the C kernels transform
/// the images in place (no bordered copies), multiply the transformed tiles of a group of images by the
/// transformed weights (`G g G^T`), and transform the products back.
///
/// The backward pass takes the input gradient as the Winograd convolution of the output gradient with the
/// flipped kernel, and the weight gradient from Winograd tiles of the input and of the output gradient:
/// for each tile position, M += V^T U over the tiles of a group of images, then `G^T M G`. That is 2.25
/// (F(2x2, 3x3)) or 4 (F(4x4, 3x3)) times fewer multiplies than the direct weight gradient.
final class WinogradConvolution: PrologueApplyingBackend {
    private let shape: ConvolutionShape
    private let tile: WinogradTile
    private let kernels: ConvolutionKernels
    /// HWIO weights on their way to the transform, and the transformed weights of the kernel and of the
    /// flipped kernel.
    private let hwioWeights = FloatBuffer()
    private let transformedWeights = FloatBuffer()
    private let transformedFlipped = FloatBuffer()
    private let scratch = (0..<Parallel.workerCount).map { _ in FloatBuffer() }
    /// Per-worker Winograd tiles of inputs and output gradients, their products summed per worker, and the
    /// summed weight gradient in HWIO.
    private let gradientTiles = (0..<Parallel.workerCount).map { _ in FloatBuffer() }
    private let transformedGradients = WorkerParts()
    private let weightGradient = FloatBuffer()
    private let biasGradients = WorkerParts()

    init(_ shape: ConvolutionShape, tile: WinogradTile, kernels: ConvolutionKernels) {
        self.shape = shape
        self.tile = tile
        self.kernels = kernels
    }

    func forward(
        _ x: Tensor, prologue: ConvolutionPrologue?, weights w: UnsafePointer<Float>, bias b: UnsafePointer<Float>?,
        epilogue: ConvolutionEpilogue, into y: Tensor
    ) {
        let inC = shape.input.channels, outC = shape.output.channels
        hwioWeights.reserve(shape.weightCount)
        ConvolutionWeights.hwio(w, shape, into: hwioWeights.base)
        transformedWeights.reserve(tile.planes * inC * outC)
        tile.transformWeights(hwioWeights.base, inChannels: inC, outChannels: outC, into: transformedWeights.base, kernels: kernels)
        withAffine(prologue) { affine in
            Parallel.forEachChunk(x.batch) { images, worker in
                convolve(
                    x, affine: affine, images: images, weights: transformedWeights.base, bias: b, into: y, worker: worker,
                    epilogue: epilogue)
            }
        }
    }

    func backward(
        _ x: Tensor, prologue: ConvolutionPrologue?, outputGradient dy: Tensor, weights: UnsafePointer<Float>,
        weightGradient gradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>?, inputGradient dx: Tensor?,
        epilogue: ConvolutionEpilogue
    ) {
        let inC = shape.input.channels, outC = shape.output.channels, h = shape.input.height, w = shape.input.width
        if dx != nil {
            // Winograd fits the flipped kernel (out -> in) exactly when it fits the kernel.
            hwioWeights.reserve(shape.weightCount)
            ConvolutionWeights.flipped(weights, shape, into: hwioWeights.base)
            transformedFlipped.reserve(tile.planes * inC * outC)
            tile.transformWeights(hwioWeights.base, inChannels: outC, outChannels: inC, into: transformedFlipped.base, kernels: kernels)
        }
        // The weight gradient's parts (fixed ranges, summed in part order, so runs repeat themselves
        // exactly) come first, then the input gradient in chunks, all claimed by whichever worker is free.
        let parts = Parallel.partCount(x.batch)
        let chunks = dx == nil ? 0 : Parallel.chunkCount(x.batch)
        withAffine(prologue) { affine in
            Parallel.forEachTask(parts + chunks) { task, worker in
                guard task >= parts, let dx else {
                    let images = Parallel.range(task, of: parts, total: x.batch)
                    accumulateWeightGradient(x, affine: affine, dy, images: images, part: task, worker: worker)
                    if biasGradient != nil {
                        let db = biasGradients.zeroed(task, count: outC)
                        addColumnSums(dy.sample(images.lowerBound), rows: images.count * h * w, columns: outC, into: db)
                    }
                    return
                }
                // The input gradient is with respect to the mapped input: the prologue does not enter it.
                let images = Parallel.range(task - parts, of: chunks, total: x.batch)
                convolve(
                    dy, affine: nil, images: images, weights: transformedFlipped.base, bias: nil, into: dx, worker: worker,
                    epilogue: epilogue)
            }
        }
        // Sum the workers' parts in worker order in the transformed domain, map back once, store OHWI.
        let m = transformedGradients[0], count = tile.planes * inC * outC
        for part in 1..<max(parts, 1) {
            let source = transformedGradients[part]
            for index in 0..<count { m[index] += source[index] }
        }
        weightGradient.reserve(shape.weightCount)
        tile.weightGradient(m, inChannels: inC, outChannels: outC, into: weightGradient.base, kernels: kernels)
        ConvolutionWeights.storeSum(ofHWIO: [weightGradient.base], shape, into: gradient)
        if let biasGradient { biasGradients.sum(parts: parts, count: outC, into: biasGradient) }
    }

    /// The convolution of `images` of `x` (mapped by `affine`, when given) with transformed `weights` into `y`,
    /// on worker `worker`, in groups of images whose tiles share the products. The channels come from the
    /// tensors' shapes, so the backward pass runs it from the output gradient to the input gradient.
    private func convolve(
        _ x: Tensor, affine: UnsafePointer<ckernels_input_affine>?, images: Range<Int>, weights: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, into y: Tensor, worker: Int, epilogue: ConvolutionEpilogue
    ) {
        let inC = x.shape.channels, outC = y.shape.channels, h = shape.input.height, w = shape.input.width
        let group = min(tile.imagesPerGroup(height: h, width: w, inChannels: inC, outChannels: outC), images.count)
        let buffer = scratch[worker]
        buffer.reserve(tile.scratchCount(images: group, inChannels: inC, outChannels: outC, height: h, width: w))
        for first in stride(from: images.lowerBound, to: images.upperBound, by: group) {
            let count = min(group, images.upperBound - first)
            tile.forward(
                x.sample(first), affine: affine, count: count, inChannels: inC, weights: weights, bias: bias,
                outChannels: outC, height: h, width: w, output: y.sample(first), scratch: buffer.base, kernels: kernels)
            epilogue.apply(to: y, first: first, count: count)
        }
    }

    /// Adds into part `part` (with worker `worker`'s scratch space) the gradient of the transformed weights (M,
    /// `planes` matrices of in x out) from `images` of `x` (mapped by `affine`, when given): for each position,
    /// M += V^T U over the tiles of a group of images (`gradientImagesPerGroup`), with the weight-gradient kernel's micro-kernel. (With OpenBLAS `sgemm`
    /// for these small products, which packs both operands on every call, the backward pass was slower.)
    private func accumulateWeightGradient(
        _ x: Tensor, affine: UnsafePointer<ckernels_input_affine>?, _ dy: Tensor, images: Range<Int>, part: Int, worker: Int
    ) {
        let inC = shape.input.channels, outC = shape.output.channels, h = shape.input.height, w = shape.input.width
        let tilesPerImage = tile.tiles(height: h, width: w), planes = tile.planes
        let group = tile.gradientImagesPerGroup(height: h, width: w, inChannels: inC, outChannels: outC)
        let m = transformedGradients.zeroed(part, count: planes * inC * outC)
        let tiles = gradientTiles[worker]
        let largest = Int32(min(group, images.count) * tilesPerImage)
        tiles.reserve(planes * (ckernels_winograd_plane(largest, Int32(inC)) + ckernels_winograd_plane(largest, Int32(outC))))
        let accumulate = kernels.table.weight_gradient!
        for start in stride(from: images.lowerBound, to: images.upperBound, by: group) {
            let count = min(group, images.upperBound - start), total = count * tilesPerImage
            let inPlane = ckernels_winograd_plane(Int32(total), Int32(inC))
            let outPlane = ckernels_winograd_plane(Int32(total), Int32(outC))
            let v = tiles.base, u = tiles.base + planes * inPlane
            for n in start..<start + count {
                tile.gradientTiles(
                    x.sample(n), affine: affine, dy.sample(n), inChannels: inC, outChannels: outC, height: h, width: w, total: total,
                    first: (n - start) * tilesPerImage, v: v, u: u, kernels: kernels)
            }
            for xi in 0..<planes {
                // A 1x1 weight gradient is exactly M[xi] += V[xi]^T U[xi].
                accumulate(v + xi * inPlane, u + xi * outPlane, Int32(total), 1, 0, 1, Int32(inC), Int32(outC), m + xi * inC * outC)
            }
        }
    }

    /// Runs `body` with a pointer to `prologue`'s map for the C kernels, or nil without one.
    private func withAffine(_ prologue: ConvolutionPrologue?, _ body: (UnsafePointer<ckernels_input_affine>?) -> Void) {
        guard let prologue else { return body(nil) }
        withUnsafePointer(to: prologue.affine) { body($0) }
    }
}
