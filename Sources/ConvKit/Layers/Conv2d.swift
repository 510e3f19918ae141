import CKernels

/// A 2-D convolution (PyTorch's `Conv2d` with square kernel, stride and padding), optionally with bias.
///
/// Three ways to compute it, chosen per layer shape, with the batch split across the cores:
/// - 3x3 "same" layers with 16+ channels: Winograd (`WinogradTile`, `CKernels`), F(4x4, 3x3) on maps of
///   16 x 16 and more, F(2x2, 3x3) on other even sizes (its forward pass from 32 channels); the
///   transforms read the images in place;
/// - other layers with 8k output channels: a direct AVX2 kernel over zero-bordered images, with the
///   weight gradient of "same" layers with 8k input channels from another kernel over stacked images;
/// - the rest (and CPUs without AVX2): `Im2Col` lowering into a reused buffer and OpenBLAS `sgemm`
///   with the OHWI weight matrix (1x1 stride-1 layers use the input as is). The backward pass lowers
///   again rather than keeping the column matrix, which would be 9x the input.
public final class Conv2d: Layer {
    public let name: String
    public var kind: LayerKind { .conv }
    public let inputShape: FeatureShape
    public let outputShape: FeatureShape
    public let weight: Parameter
    public let bias: Parameter?
    public var computesInputGradient = true
    public private(set) var lastOutput: Tensor?

    let lowering: Im2Col
    private let output = FloatBuffer()
    private let inputGradient = FloatBuffer()
    private var input: Tensor?
    fileprivate let columns = (0..<Parallel.workerCount).map { _ in FloatBuffer() }
    private let columnGradients = (0..<Parallel.workerCount).map { _ in FloatBuffer() }
    private let weightGradientParts = (0..<Parallel.workerCount).map { _ in FloatBuffer() }
    private let biasGradientParts = (0..<Parallel.workerCount).map { _ in FloatBuffer() }
    /// Per-worker zero-bordered copies of one image, for the direct kernel.
    private let paddedImages = (0..<Parallel.workerCount).map { _ in FloatBuffer() }
    /// The weights rearranged for the direct kernel: HWIO, and flipped for the input gradient.
    private let directWeights = FloatBuffer()
    private let flippedWeights = FloatBuffer()
    /// Winograd's transformed weights (`G g G^T`), of the kernel and of the flipped kernel.
    private let winogradWeights = FloatBuffer()
    private let winogradFlipped = FloatBuffer()
    private let winogradScratch = (0..<Parallel.workerCount).map { _ in FloatBuffer() }
    /// The weights and bias with the following batch norm folded in, for `inferFolded`.
    private let foldedWeights = FloatBuffer()
    private let foldedBias = FloatBuffer()
    /// Per-worker stacks of zero-bordered inputs and output gradients, for the backward pass of "same" layers.
    private let paddedInputs = (0..<Parallel.workerCount).map { _ in FloatBuffer() }
    private let paddedGradients = (0..<Parallel.workerCount).map { _ in FloatBuffer() }
    /// Per-worker Winograd tiles of inputs and output gradients, and the summed weight gradient in
    /// HWIO, for the Winograd weight gradient.
    private let gradientTiles = (0..<Parallel.workerCount).map { _ in FloatBuffer() }
    private let winogradGradient = FloatBuffer()

    public init(name: String, input: FeatureShape, outChannels: Int, kernel: Int, stride: Int, padding: Int, bias: Bool) {
        self.name = name
        inputShape = input
        let geometry = SpatialGeometry(kernel: kernel, stride: stride, padding: padding)
        outputShape = FeatureShape(
            channels: outChannels, height: geometry.outputSize(input.height), width: geometry.outputSize(input.width))
        lowering = Im2Col(
            height: input.height, width: input.width, channels: input.channels,
            kernel: kernel, stride: stride, padding: padding,
            outHeight: outputShape.height, outWidth: outputShape.width)
        weight = Parameter(
            name: name + ".weight", count: outChannels * lowering.rowLength,
            layout: .convolution(outChannels: outChannels, inChannels: input.channels, kernel: kernel), decays: true)
        self.bias = bias ? Parameter(name: name + ".bias", count: outChannels, layout: .plain([outChannels]), decays: false) : nil
    }

    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }
    public var geometry: SpatialGeometry {
        SpatialGeometry(kernel: lowering.kernel, stride: lowering.stride, padding: lowering.padding)
    }
    public var multiplyAdds: Int { outputShape.count * lowering.rowLength }

    /// A 1x1, stride-1 convolution reads its input as the column matrix directly.
    fileprivate var isPointwise: Bool { lowering.kernel == 1 && lowering.stride == 1 && lowering.padding == 0 }

    /// Images per matrix product: enough rows to keep the product efficient.
    private var imagesPerGroup: Int { max(1, 1024 / lowering.rowsPerImage) }

    /// Whether the direct AVX2 kernel computes this layer (a multiple of 8 output channels, and a
    /// window wider than one pixel: 1x1 convolutions are plain matrix products already), unless it is
    /// a wide layer that the lowered product computes faster.
    private var usesDirectKernel: Bool {
        lowering.kernel > 1 && ckernels_conv_supported(Int32(outputShape.channels)) != 0 && !isWideWithoutWinograd
    }

    /// A layer with at least 128 x 128 input x output channels that Winograd does not take (an odd map
    /// size, or not 3x3 same): the direct kernel goes through all of its weights for every image, the
    /// lowered product once per group of images. In an airbench-shaped spec, `bench --profile` measured
    /// per step of 128 the backward passes of 64 -> 256 channels at 15x15, 256 -> 256 at 7x7 and at 3x3
    /// 171 -> 140, 193 -> 119 and 59 -> 23 ms, their forward passes 53 -> 63, 64 -> 61 and 18 -> 11 ms;
    /// `bench` of that spec 105.6 -> 141.8 training and 407.5 -> 452.1 inference images/s. A 5x5
    /// 256 -> 256 layer at 8x8: backward 967 -> 428 ms, forward 376 -> 235 ms.
    private var isWideWithoutWinograd: Bool {
        inputShape.channels * outputShape.channels >= 128 * 128
            && winogradTile(inChannels: inputShape.channels, outChannels: outputShape.channels, forward: true) == nil
    }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        input = x
        let y = convolve(x, weights: weight.value.base, bias: bias?.value.base, rectify: false)
        lastOutput = y
        return y
    }

    /// Inference through this convolution with the batch norm that follows it folded into its weights
    /// and bias (`w * gamma / sqrt(var + eps)`, `beta + (b - mean) * gamma / sqrt(var + eps)`), and,
    /// with `rectify`, the ReLU after that applied to each image while it is still in cache: one pass
    /// over the output instead of three. Keeps no intermediate result (`lastOutput` becomes nil), so
    /// `backward` cannot follow; `forward` is the path that records every layer's output.
    public func inferFolded(_ x: Tensor, batchNorm: BatchNorm2d?, rectify: Bool) -> Tensor {
        input = nil
        lastOutput = nil
        guard let batchNorm else { return convolve(x, weights: weight.value.base, bias: bias?.value.base, rectify: rectify) }
        let outC = outputShape.channels, rowLength = lowering.rowLength
        let (scale, shift) = batchNorm.inferenceAffine()
        foldedWeights.reserve(weight.count)
        foldedBias.reserve(outC)
        let w = weight.value.base, folded = foldedWeights.base
        for o in 0..<outC {
            for j in 0..<rowLength { folded[o * rowLength + j] = w[o * rowLength + j] * scale[o] }
            foldedBias.base[o] = shift[o] + (bias.map { $0.value.base[o] * scale[o] } ?? 0)
        }
        return convolve(x, weights: folded, bias: foldedBias.base, rectify: rectify)
    }

    /// The convolution of `x` with OHWI `weights` and `bias`, clamped at zero with `rectify`, into the
    /// layer's output buffer.
    private func convolve(
        _ x: Tensor, weights w: UnsafePointer<Float>, bias b: UnsafePointer<Float>?, rectify: Bool
    ) -> Tensor {
        if usesDirectKernel { return convolveDirect(x, weights: w, bias: b, rectify: rectify) }
        let y = output.tensor(batch: x.batch, shape: outputShape)
        let outC = outputShape.channels, rowLength = lowering.rowLength, rowsPerImage = lowering.rowsPerImage
        Parallel.forEachRange(x.batch) { images, worker in
            var first = images.lowerBound
            while first < images.upperBound {
                let count = min(imagesPerGroup, images.upperBound - first)
                let rows = count * rowsPerImage
                let out = y.sample(first)
                let a = columnMatrix(x, first: first, count: count, worker: worker)
                if let b {
                    for r in 0..<rows { (out + r * outC).update(from: b, count: outC) }
                }
                BLAS.gemm(
                    transposeB: true, m: rows, n: outC, k: rowLength,
                    a: a, lda: rowLength, b: w, ldb: rowLength,
                    beta: b == nil ? 0 : 1, c: out, ldc: outC)
                if rectify { Activation.apply(.relu, out, out, rows * outC) }
                first += count
            }
        }
        return y
    }

    /// `convolve` through `ckernels_conv_forward` (or Winograd), image by image on each worker.
    private func convolveDirect(
        _ x: Tensor, weights w: UnsafePointer<Float>, bias b: UnsafePointer<Float>?, rectify: Bool
    ) -> Tensor {
        let y = output.tensor(batch: x.batch, shape: outputShape)
        let k = lowering.kernel, p = lowering.padding, inC = inputShape.channels, outC = outputShape.channels
        let taps = k * k
        directWeights.reserve(weight.count)
        let hwio = directWeights.base
        for o in 0..<outC {
            for t in 0..<taps {
                for i in 0..<inC { hwio[(t * inC + i) * outC + o] = w[(o * taps + t) * inC + i] }
            }
        }
        let winograd = winogradTile(inChannels: inC, outChannels: outC, forward: true)
        if let winograd {
            winogradWeights.reserve(winograd.planes * inC * outC)
            winograd.transformWeights(hwio, inChannels: inC, outChannels: outC, into: winogradWeights.base)
        }
        let h = inputShape.height, width = inputShape.width, paddedWidth = width + 2 * p, paddedCount = (h + 2 * p) * paddedWidth * inC
        Parallel.forEachRange(x.batch) { images, worker in
            if let winograd {
                convolveWinograd(
                    x, images: images, tile: winograd, weights: winogradWeights.base, bias: b, into: y, worker: worker,
                    rectify: rectify)
                return
            }
            let padded = paddedImages[worker]
            if p > 0 { padded.reserve(paddedCount) }
            for n in images {
                var source = UnsafePointer(x.sample(n))
                if p > 0 {
                    placeBordered(source, channels: inC, into: padded.base)
                    source = UnsafePointer(padded.base)
                }
                ckernels_conv_forward(
                    source, Int32(paddedWidth), Int32(inC), hwio, b, Int32(outC), Int32(k), Int32(lowering.stride),
                    Int32(outputShape.height), Int32(outputShape.width), y.sample(n))
                if rectify { Activation.apply(.relu, y.sample(n), y.sample(n), outputShape.count) }
            }
        }
        return y
    }

    /// The 3x3 "same" convolution of `images` of `x` with Winograd-transformed `weights` into `y`, on
    /// worker `worker`, in groups of images whose tiles share the products. The channels come from the
    /// tensors' shapes, so the backward pass runs it from the output gradient to the input gradient.
    private func convolveWinograd(
        _ x: Tensor, images: Range<Int>, tile: WinogradTile, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        into y: Tensor, worker: Int, rectify: Bool
    ) {
        let inC = x.shape.channels, outC = y.shape.channels, h = inputShape.height, w = inputShape.width
        let group = min(tile.imagesPerGroup(height: h, width: w), images.count)
        let buffer = winogradScratch[worker]
        buffer.reserve(tile.scratchCount(images: group, inChannels: inC, outChannels: outC, height: h, width: w))
        for first in stride(from: images.lowerBound, to: images.upperBound, by: group) {
            let count = min(group, images.upperBound - first)
            tile.forward(
                x.sample(first), count: count, inChannels: inC, weights: weights, bias: bias, outChannels: outC, height: h,
                width: w, output: y.sample(first), scratch: buffer.base)
            if rectify { Activation.apply(.relu, y.sample(first), y.sample(first), count * y.shape.count) }
        }
    }

    /// The Winograd tile that computes this layer's forward pass (`forward`) or its gradients, if it is
    /// 3x3, stride-1, padding-1 with at least 16 channels on both sides (and a tile fits its shape).
    /// Below 32 channels F(2x2, 3x3)'s transforms cost the forward pass more than the multiplies they
    /// save, while the backward pass (whose direct kernels are slower) still gains from 16: `resnet20`
    /// inference 5% slower and training 2.5% faster with F(2x2, 3x3) at 16 everywhere. F(4x4, 3x3)
    /// gains at 16 in both directions (`resnet20`'s 16-channel blocks: forward 9.3 -> 7.7 ms per step).
    private func winogradTile(inChannels: Int, outChannels: Int, forward: Bool) -> WinogradTile? {
        guard lowering.kernel == 3 && lowering.stride == 1 && lowering.padding == 1 && min(inChannels, outChannels) >= 16,
            let tile = WinogradTile.best(
                inChannels: inChannels, outChannels: outChannels, height: inputShape.height, width: inputShape.width)
        else { return nil }
        if forward && tile == .twoByTwo && min(inChannels, outChannels) < 32 { return nil }
        return tile
    }

    /// Whether the backward pass avoids lowering: a "same" stride-1 layer (odd kernel, padding (k - 1) / 2)
    /// with 8k input and output channels, on AVX2 (the input gradient is a convolution of the output
    /// gradient with the flipped kernel), unless it is wide without Winograd. Otherwise the column
    /// matrix is multiplied out and scattered back (`Im2Col.raise`): for a first layer with 3 input
    /// channels, whose weight gradient the direct kernel computes 6 channels at a time, the lowered
    /// product is faster (`simple`'s conv1 backward 11.4 -> 4.6 ms per step of 128 in `bench --profile`).
    private var isSameWithoutLowering: Bool {
        lowering.stride == 1 && lowering.kernel % 2 == 1 && lowering.padding == lowering.kernel / 2 && lowering.kernel > 1
            && ckernels_uses_avx2() != 0 && ckernels_conv_supported(Int32(outputShape.channels)) != 0
            && ckernels_conv_supported(Int32(inputShape.channels)) != 0 && !isWideWithoutWinograd
    }

    public func backward(_ dy: Tensor) -> Tensor {
        if isSameWithoutLowering { return backwardSame(dy) }
        guard let x = input else { preconditionFailure("\(name): backward before forward") }
        let outC = outputShape.channels, rowLength = lowering.rowLength, rowsPerImage = lowering.rowsPerImage
        let w = weight.value.base
        let dx = computesInputGradient ? inputGradient.tensor(batch: x.batch, shape: inputShape) : .empty(inputShape)
        let parts = Parallel.partCount(x.batch)
        Parallel.forEachRange(x.batch) { images, worker in
            let dw = weightGradientParts[worker], db = biasGradientParts[worker]
            dw.reserve(weight.count); dw.zero(weight.count)
            db.reserve(outC); db.zero(outC)
            var first = images.lowerBound
            while first < images.upperBound {
                let count = min(imagesPerGroup, images.upperBound - first)
                let rows = count * rowsPerImage
                let g = UnsafePointer(dy.sample(first))
                let a = columnMatrix(x, first: first, count: count, worker: worker)
                // dW += dY^T (outC x rows) * columns (rows x rowLength)
                BLAS.gemm(
                    transposeA: true, m: outC, n: rowLength, k: rows,
                    a: g, lda: outC, b: a, ldb: rowLength, beta: 1, c: dw.base, ldc: rowLength)
                if bias != nil { addColumnSums(g, rows: rows, columns: outC, into: db.base) }
                if computesInputGradient {
                    if isPointwise {
                        BLAS.gemm(
                            m: rows, n: rowLength, k: outC, a: g, lda: outC, b: w, ldb: rowLength,
                            c: dx.sample(first), ldc: rowLength)
                    } else {
                        let buffer = columnGradients[worker]
                        buffer.reserve(rows * rowLength)
                        BLAS.gemm(
                            m: rows, n: rowLength, k: outC, a: g, lda: outC, b: w, ldb: rowLength,
                            c: buffer.base, ldc: rowLength)
                        let target = dx.sample(first)
                        target.update(repeating: 0, count: count * inputShape.count)
                        lowering.raise(buffer.base, images: count, into: target)
                    }
                }
                first += count
            }
        }
        sumParts(weightGradientParts, parts: parts, count: weight.count, into: weight.gradient.base)
        if let bias { sumParts(biasGradientParts, parts: parts, count: bias.count, into: bias.gradient.base) }
        return dx
    }
}

extension Conv2d {
    /// The kernel flipped in space with input and output swapped, HWIO for the direct kernel:
    /// `flipped[k*k-1-t][o][i] = weight[o][t][i]`; with a Winograd `tile`, also transformed for it.
    fileprivate func prepareFlippedWeights(for tile: WinogradTile?) {
        let taps = lowering.kernel * lowering.kernel, inC = inputShape.channels, outC = outputShape.channels
        flippedWeights.reserve(weight.count)
        let weights = weight.value.base, flipped = flippedWeights.base
        for o in 0..<outC {
            for t in 0..<taps {
                for i in 0..<inC { flipped[((taps - 1 - t) * outC + o) * inC + i] = weights[(o * taps + t) * inC + i] }
            }
        }
        if let tile {
            winogradFlipped.reserve(tile.planes * inC * outC)
            tile.transformWeights(flipped, inChannels: outC, outChannels: inC, into: winogradFlipped.base)
        }
    }

    /// The backward pass of a "same" stride-1 layer without lowering. With Winograd, the weight gradient
    /// comes from Winograd tiles of the input and the output gradient, the input gradient from the
    /// Winograd convolution of the output gradient with the flipped kernel; both read the images in
    /// place. Otherwise each worker stacks its images with zero borders (`x`) and places their output
    /// gradients on the same grid (`g`); the weight gradient is `ckernels_conv_weight_gradient` over the
    /// whole stack, the input gradient the direct convolution of each image's slice of `g` with the
    /// flipped kernel.
    fileprivate func backwardSame(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("\(name): backward before forward") }
        let k = lowering.kernel, p = lowering.padding, taps = k * k
        let inC = inputShape.channels, outC = outputShape.channels, h = inputShape.height, w = inputShape.width
        let pw = w + 2 * p, imageRows = (h + 2 * p) * pw, slack = p * pw + p
        // Winograd fits the flipped kernel (out -> in) exactly when it fits the kernel.
        let winograd = winogradTile(inChannels: inC, outChannels: outC, forward: false)
        if computesInputGradient { prepareFlippedWeights(for: winograd) }
        let dx = computesInputGradient ? inputGradient.tensor(batch: x.batch, shape: inputShape) : .empty(inputShape)
        let parts = Parallel.partCount(x.batch)
        Parallel.forEachRange(x.batch) { images, worker in
            let gs = paddedGradients[worker]
            if let winograd {
                accumulateWinogradGradient(x, dy, images: images, tile: winograd, worker: worker)
            } else {
                let rows = images.count * imageRows
                let xs = paddedInputs[worker]
                xs.reserve((rows + slack) * inC)
                gs.reserve((rows + slack) * outC)
                for (slot, n) in images.enumerated() {
                    placeBordered(x.sample(n), channels: inC, into: xs.base + slot * imageRows * inC)
                    placeBordered(dy.sample(n), channels: outC, into: gs.base + slot * imageRows * outC)
                }
                (xs.base + rows * inC).update(repeating: 0, count: slack * inC)
                (gs.base + rows * outC).update(repeating: 0, count: slack * outC)
                let dw = weightGradientParts[worker]
                dw.reserve(weight.count)
                dw.zero(weight.count)
                ckernels_conv_weight_gradient(
                    xs.base, gs.base, Int32(rows - slack), Int32(pw), Int32(p), Int32(k), Int32(inC), Int32(outC), dw.base)
            }
            if bias != nil {
                let db = biasGradientParts[worker]
                db.reserve(outC)
                db.zero(outC)
                addColumnSums(dy.sample(images.lowerBound), rows: images.count * h * w, columns: outC, into: db.base)
            }
            guard computesInputGradient else { return }
            if let winograd {
                convolveWinograd(
                    dy, images: images, tile: winograd, weights: winogradFlipped.base, bias: nil, into: dx, worker: worker,
                    rectify: false)
                return
            }
            for (slot, n) in images.enumerated() {
                ckernels_conv_forward(
                    gs.base + slot * imageRows * outC, Int32(pw), Int32(outC), flippedWeights.base, nil, Int32(inC),
                    Int32(k), 1, Int32(h), Int32(w), dx.sample(n))
            }
        }
        // Sum the workers' parts in worker order (Winograd's in the transformed domain, mapped back once)
        // and store the HWIO sum OHWI.
        let hwioParts: [UnsafeMutablePointer<Float>]
        if let winograd {
            let m = weightGradientParts[0].base
            for part in weightGradientParts.prefix(parts).dropFirst() {
                for index in 0..<winograd.planes * inC * outC { m[index] += part.base[index] }
            }
            winogradGradient.reserve(weight.count)
            winograd.weightGradient(m, inChannels: inC, outChannels: outC, into: winogradGradient.base)
            hwioParts = [winogradGradient.base]
        } else {
            hwioParts = weightGradientParts.prefix(max(parts, 1)).map(\.base)
        }
        let gradient = weight.gradient.base
        for t in 0..<taps {
            for i in 0..<inC {
                for o in 0..<outC {
                    var sum = hwioParts[0][(t * inC + i) * outC + o]
                    for part in hwioParts.dropFirst() { sum += part[(t * inC + i) * outC + o] }
                    gradient[(o * taps + t) * inC + i] = sum
                }
            }
        }
        if let bias { sumParts(biasGradientParts, parts: parts, count: outC, into: bias.gradient.base) }
        return dx
    }
}

extension Conv2d {
    /// Adds into worker `worker`'s part the gradient of the Winograd-transformed weights (M, `planes`
    /// matrices of in x out) from `images` of `x`: for each position, M += V^T U over the tiles of a group
    /// of images (`gradientTilesPerGroup`), with the weight-gradient kernel's micro-kernel. 2.25 (F(2x2))
    /// or 4 (F(4x4)) times fewer multiplies than the direct weight gradient. (With OpenBLAS `sgemm` for
    /// these small products, which packs both operands on every call, the backward pass of `simple`
    /// took 1.3x longer.)
    fileprivate func accumulateWinogradGradient(
        _ x: Tensor, _ dy: Tensor, images: Range<Int>, tile: WinogradTile, worker: Int
    ) {
        let inC = inputShape.channels, outC = outputShape.channels, h = inputShape.height, w = inputShape.width
        let tilesPerImage = tile.tiles(height: h, width: w), planes = tile.planes
        let group = max(1, tile.gradientTilesPerGroup / tilesPerImage)
        let m = weightGradientParts[worker]
        m.reserve(planes * inC * outC)
        m.zero(planes * inC * outC)
        let tiles = gradientTiles[worker]
        let largest = Int32(min(group, images.count) * tilesPerImage)
        tiles.reserve(planes * (ckernels_winograd_plane(largest, Int32(inC)) + ckernels_winograd_plane(largest, Int32(outC))))
        for start in stride(from: images.lowerBound, to: images.upperBound, by: group) {
            let count = min(group, images.upperBound - start), total = count * tilesPerImage
            let inPlane = ckernels_winograd_plane(Int32(total), Int32(inC))
            let outPlane = ckernels_winograd_plane(Int32(total), Int32(outC))
            let v = tiles.base, u = tiles.base + planes * inPlane
            for n in start..<start + count {
                tile.gradientTiles(
                    x.sample(n), dy.sample(n), inChannels: inC, outChannels: outC, height: h, width: w, total: total,
                    first: (n - start) * tilesPerImage, v: v, u: u)
            }
            for xi in 0..<planes {
                // A 1x1 weight gradient is exactly M[xi] += V[xi]^T U[xi].
                ckernels_conv_weight_gradient(
                    v + xi * inPlane, u + xi * outPlane, Int32(total), 1, 0, 1, Int32(inC), Int32(outC),
                    m.base + xi * inC * outC)
            }
        }
    }

    /// Copies an image of the input's height and width with `channels` channels into `slot`, a
    /// zero-bordered copy with `padding` more pixels on each side. Writes the border zeros as well, but
    /// not the interior twice.
    fileprivate func placeBordered(_ source: UnsafePointer<Float>, channels: Int, into slot: UnsafeMutablePointer<Float>) {
        let p = lowering.padding, h = inputShape.height, w = inputShape.width, rowFloats = (w + 2 * p) * channels
        slot.update(repeating: 0, count: p * rowFloats)
        for row in 0..<h {
            let line = slot + (row + p) * rowFloats
            line.update(repeating: 0, count: p * channels)
            (line + p * channels).update(from: source + row * w * channels, count: w * channels)
            (line + (p + w) * channels).update(repeating: 0, count: p * channels)
        }
        (slot + (h + p) * rowFloats).update(repeating: 0, count: p * rowFloats)
    }

    /// The column matrix of `count` images from `first`: the input itself for 1x1 stride-1 layers, else
    /// the worker's lowering buffer filled by `Im2Col`.
    fileprivate func columnMatrix(_ x: Tensor, first: Int, count: Int, worker: Int) -> UnsafePointer<Float> {
        if isPointwise { return UnsafePointer(x.sample(first)) }
        let buffer = columns[worker]
        buffer.reserve(count * lowering.rowsPerImage * lowering.rowLength)
        lowering.lower(x.sample(first), images: count, into: buffer.base)
        return UnsafePointer(buffer.base)
    }
}

/// Adds the column sums of a `rows x columns` matrix into `sums` (bias gradients).
func addColumnSums(_ matrix: UnsafePointer<Float>, rows: Int, columns: Int, into sums: UnsafeMutablePointer<Float>) {
    for r in 0..<rows {
        let row = matrix + r * columns
        for c in 0..<columns { sums[c] += row[c] }
    }
}

/// Adds the first `parts` per-worker partial results into `target` (overwriting it), in worker order
/// so that the sum is the same from run to run.
func sumParts(_ buffers: [FloatBuffer], parts: Int, count: Int, into target: UnsafeMutablePointer<Float>) {
    if parts == 0 {
        target.update(repeating: 0, count: count)
        return
    }
    target.update(from: buffers[0].base, count: count)
    for p in 1..<max(parts, 1) {
        let source = buffers[p].base
        for i in 0..<count { target[i] += source[i] }
    }
}
