import CKernels

/// A "same" stride-1 convolution in bf16 (`vdpbf16ps`) without lowering: each worker copies its images into a
/// zero-bordered bf16 copy and `ckernels_conv_bf16_same` reads every output pixel's window from it, tap by tap.
/// The input gradient is the same convolution of the bordered output gradient with the kernel flipped in space
/// and its input and output channels swapped; the weight gradient, a product over the batch's pixels, stays
/// with `LoweredConvolution`.
///
/// Lowering wrote and read an fp32 column matrix 9x the images of a 3x3 layer for the forward pass and the
/// weight gradient, and a column gradient as large that it then scattered back for the input gradient; this
/// backend keeps the first only for the weight gradient (docs/performance.md, "bf16 without lowering").
final class BF16Convolution: ConvolutionBackend {
    private let shape: ConvolutionShape
    private let weightGradient: LoweredConvolution
    /// Per-worker bordered bf16 images (of the input, or of the output gradient), as 32-bit words.
    private let bordered = (0..<Parallel.workerCount).map { _ in FloatBuffer() }
    /// The packed weights of the forward pass and of the input gradient, refilled at every pass.
    private let packedForward = FloatBuffer(), packedFlipped = FloatBuffer()
    /// The flipped OHWI kernel of the input gradient, before packing.
    private let flipped = FloatBuffer()

    /// Whether this backend takes a layer of `shape`: "same" stride-1 (odd kernel wider than 1, padding half
    /// of it) with an even number of channels on both sides (a pair of channels is one operand word).
    static func takes(_ shape: ConvolutionShape) -> Bool {
        shape.isSame && shape.input.channels % 2 == 0 && shape.output.channels % 2 == 0
    }

    init(_ shape: ConvolutionShape) {
        precondition(Self.takes(shape), "BF16Convolution takes same-size stride-1 layers with even channel counts")
        self.shape = shape
        weightGradient = LoweredConvolution(shape, arithmetic: .bf16(emulated: false))
    }

    /// Images per worker's bordered copy: about 1024 output pixels, as the lowered products group them.
    private var imagesPerGroup: Int { max(1, 1024 / (shape.output.height * shape.output.width)) }

    func forward(
        _ x: Tensor, weights w: UnsafePointer<Float>, bias b: UnsafePointer<Float>?, epilogue: ConvolutionEpilogue, into y: Tensor
    ) {
        let packed = pack(w, output: shape.output.channels, depth: shape.taps * shape.input.channels, into: packedForward)
        convolve(x, channels: shape.input.channels, packed: packed, output: shape.output.channels, bias: b, epilogue: epilogue, into: y)
    }

    func backward(
        _ x: Tensor, outputGradient dy: Tensor, weights w: UnsafePointer<Float>, weightGradient dw: UnsafeMutablePointer<Float>,
        biasGradient: UnsafeMutablePointer<Float>?, inputGradient dx: Tensor?, epilogue: ConvolutionEpilogue
    ) {
        weightGradient.backward(x, outputGradient: dy, weights: w, weightGradient: dw, biasGradient: biasGradient, inputGradient: nil)
        guard let dx else { return }
        let taps = shape.taps, inC = shape.input.channels, outC = shape.output.channels
        flipped.reserve(taps * inC * outC)
        let f = flipped.base
        // flipped[i][taps - 1 - t][o] = w[o][t][i]: OHWI with the input channels as its outputs.
        for o in 0..<outC {
            for t in 0..<taps {
                for i in 0..<inC { f[(i * taps + taps - 1 - t) * outC + o] = w[(o * taps + t) * inC + i] }
            }
        }
        let packed = pack(f, output: inC, depth: taps * outC, into: packedFlipped)
        convolve(dy, channels: outC, packed: packed, output: inC, bias: nil, epilogue: epilogue, into: dx)
    }

    /// Packs OHWI weights (`output` rows of `depth`) into `buffer` for `ckernels_conv_bf16_same`.
    private func pack(_ weights: UnsafePointer<Float>, output: Int, depth: Int, into buffer: FloatBuffer) -> UnsafePointer<UInt32> {
        buffer.reserve(ckernels_conv_bf16_packed_words(Int32(output), Int32(depth)))
        let packed = UnsafeMutablePointer<UInt32>(OpaquePointer(buffer.base))
        let done = ckernels_conv_bf16_pack_weights(weights, Int32(output), Int32(depth), packed)
        precondition(done != 0, "bf16 convolutions on a CPU without avx512_bf16 (Precision.arithmetic refuses this)")
        return UnsafePointer(packed)
    }

    /// `y` = the same-size convolution of `x` (`channels` per pixel) with the packed kernel, for the whole batch.
    private func convolve(
        _ x: Tensor, channels: Int, packed: UnsafePointer<UInt32>, output: Int, bias: UnsafePointer<Float>?,
        epilogue: ConvolutionEpilogue, into y: Tensor
    ) {
        // The kernel clamps as it stores; a residual has to be added before that, so then the epilogue does both.
        let kernelRectifies = epilogue.rectify && epilogue.residual == nil
        let height = shape.output.height, width = shape.output.width, kernel = shape.kernel, pad = shape.padding
        let borderedCount = (height + 2 * pad) * (width + 2 * pad) * channels
        Parallel.forEachRange(x.batch) { images, worker in
            let buffer = bordered[worker]
            var first = images.lowerBound
            while first < images.upperBound {
                let count = min(imagesPerGroup, images.upperBound - first)
                buffer.reserve((count * borderedCount + 1) / 2)
                let words = UnsafeMutablePointer<UInt16>(OpaquePointer(buffer.base))
                let converted = ckernels_conv_bf16_border(
                    x.sample(first), Int32(count), Int32(height), Int32(width), Int32(channels), Int32(pad), words)
                let done = ckernels_conv_bf16_same(
                    words, Int32(count), Int32(height), Int32(width), Int32(channels), Int32(kernel), packed, Int32(output), bias,
                    kernelRectifies ? 1 : 0, y.sample(first))
                precondition(converted != 0 && done != 0, "bf16 convolutions on a CPU without avx512_bf16")
                if !kernelRectifies { epilogue.apply(to: y, first: first, count: count) }
                first += count
            }
        }
    }
}
