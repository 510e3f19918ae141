/// One way of computing a convolution's passes (`ConvolutionPlan.Algorithm`). A backend owns the scratch
/// buffers it reuses from step to step and splits the batch across the cores itself; the layer owns the
/// parameters, the output and the gradients.
protocol ConvolutionBackend: AnyObject {
    /// Writes into `y` the convolution of `x` with the OHWI `weights` plus `bias` (none when nil), then
    /// `epilogue`'s residual and clamp.
    func forward(
        _ x: Tensor, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, epilogue: ConvolutionEpilogue, into y: Tensor)

    /// Writes the gradients of the convolution of `x` for the output gradient `dy`: with respect to the OHWI
    /// weights into `weightGradient`, to the bias into `biasGradient` when it is given, and to the input into
    /// `inputGradient` when it is given, then `epilogue` on each group of images of it as they are written (a
    /// residual block's shortcut gradient added, in the order `input gradient + residual`; the statistics of
    /// the batch norm whose output gradient it is gathered).
    func backward(
        _ x: Tensor, outputGradient dy: Tensor, weights: UnsafePointer<Float>, weightGradient: UnsafeMutablePointer<Float>,
        biasGradient: UnsafeMutablePointer<Float>?, inputGradient: Tensor?, epilogue: ConvolutionEpilogue)
}

extension ConvolutionBackend {
    /// The gradients, with no epilogue.
    func backward(
        _ x: Tensor, outputGradient dy: Tensor, weights: UnsafePointer<Float>, weightGradient: UnsafeMutablePointer<Float>,
        biasGradient: UnsafeMutablePointer<Float>?, inputGradient: Tensor?
    ) {
        backward(
            x, outputGradient: dy, weights: weights, weightGradient: weightGradient, biasGradient: biasGradient,
            inputGradient: inputGradient, epilogue: .none)
    }
}

extension ConvolutionPlan.Algorithm {
    /// A backend that computes this algorithm for convolutions of `shape` with `path`'s kernels.
    func makeBackend(_ shape: ConvolutionShape, path: KernelPath, arithmetic: MatrixArithmetic) -> ConvolutionBackend {
        switch self {
        case .lowered: LoweredConvolution(shape, arithmetic: arithmetic)
        case .direct:
            arithmetic == .fp32 ? DirectConvolution(shape, kernels: ConvolutionKernels(path: path)) : BF16Convolution(shape)
        case .winograd(let tile): WinogradConvolution(shape, tile: tile, kernels: ConvolutionKernels(path: path))
        }
    }
}

/// Per-worker partial sums (of weight or bias gradients), one buffer per worker, added in worker order so
/// that a run repeats itself exactly.
final class WorkerParts {
    private let buffers = (0..<Parallel.workerCount).map { _ in FloatBuffer() }

    /// Worker `worker`'s buffer of `count` zeros.
    func zeroed(_ worker: Int, count: Int) -> UnsafeMutablePointer<Float> {
        let buffer = buffers[worker]
        buffer.reserve(count)
        buffer.zero(count)
        return buffer.base
    }

    /// Worker `worker`'s buffer as it is.
    subscript(worker: Int) -> UnsafeMutablePointer<Float> { buffers[worker].base }

    /// Writes the sum of the first `parts` workers' buffers into `target` (zeros when there are none).
    func sum(parts: Int, count: Int, into target: UnsafeMutablePointer<Float>) {
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
}

/// Adds the column sums of a `rows x columns` matrix into `sums` (bias gradients).
func addColumnSums(_ matrix: UnsafePointer<Float>, rows: Int, columns: Int, into sums: UnsafeMutablePointer<Float>) {
    for r in 0..<rows {
        let row = matrix + r * columns
        for c in 0..<columns { sums[c] += row[c] }
    }
}

/// Weight rearrangements the direct and Winograd backends share. Weights are stored OHWI
/// (`[out][tap][in]`); their kernels read HWIO (`[tap][in][out]`), so that the output channels of one tap
/// and input channel are contiguous.
enum ConvolutionWeights {
    /// `hwio[t][i][o] = ohwi[o][t][i]`.
    static func hwio(_ ohwi: UnsafePointer<Float>, _ shape: ConvolutionShape, into hwio: UnsafeMutablePointer<Float>) {
        let taps = shape.taps, inC = shape.input.channels, outC = shape.output.channels
        for o in 0..<outC {
            for t in 0..<taps {
                for i in 0..<inC { hwio[(t * inC + i) * outC + o] = ohwi[(o * taps + t) * inC + i] }
            }
        }
    }

    /// The kernel flipped in space with input and output swapped, HWIO for the input gradient (a convolution
    /// of the output gradient): `flipped[taps - 1 - t][o][i] = ohwi[o][t][i]`.
    static func flipped(_ ohwi: UnsafePointer<Float>, _ shape: ConvolutionShape, into flipped: UnsafeMutablePointer<Float>) {
        let taps = shape.taps, inC = shape.input.channels, outC = shape.output.channels
        for o in 0..<outC {
            for t in 0..<taps {
                for i in 0..<inC { flipped[((taps - 1 - t) * outC + o) * inC + i] = ohwi[(o * taps + t) * inC + i] }
            }
        }
    }

    /// Stores the sum of HWIO `parts`, added in order, OHWI into `gradient`.
    static func storeSum(
        ofHWIO parts: [UnsafeMutablePointer<Float>], _ shape: ConvolutionShape, into gradient: UnsafeMutablePointer<Float>
    ) {
        let taps = shape.taps, inC = shape.input.channels, outC = shape.output.channels
        for t in 0..<taps {
            for i in 0..<inC {
                for o in 0..<outC {
                    var sum = parts[0][(t * inC + i) * outC + o]
                    for part in parts.dropFirst() { sum += part[(t * inC + i) * outC + o] }
                    gradient[(o * taps + t) * inC + i] = sum
                }
            }
        }
    }
}
