import CKernels
import Foundation

/// An element-wise non-linearity: ReLU and its relatives, with PyTorch's definitions.
public final class Activation: BufferSharing {
    /// The function applied to each element.
    public enum Function: Sendable, Equatable {
        case relu
        /// `x` for x > 0, `slope * x` otherwise (PyTorch default slope 0.01).
        case leakyReLU(slope: Float)
        /// `x` for x > 0, `alpha * (e^x - 1)` otherwise.
        case elu(alpha: Float)
        /// Self-normalising ELU with the fixed constants of Klambauer et al. 2017.
        case selu
        /// `x * sigmoid(x)` (PyTorch's SiLU).
        case swish
        /// `x * Phi(x)` with the exact normal CDF (PyTorch's default GELU).
        case gelu
        case sigmoid
        case tanh

        public var kind: LayerKind {
            switch self {
            case .relu: return .relu
            case .leakyReLU: return .leakyrelu
            case .elu: return .elu
            case .selu: return .selu
            case .swish: return .swish
            case .gelu: return .gelu
            case .sigmoid: return .sigmoid
            case .tanh: return .tanh
            }
        }
    }

    public let name: String
    public let function: Function
    public let inputShape: FeatureShape
    public var outputShape: FeatureShape { inputShape }
    public var kind: LayerKind { function.kind }
    public var computesInputGradient = true
    public private(set) var lastOutput: Tensor?

    private let output = FloatBuffer()
    private let inputGradient = FloatBuffer()
    var input: Tensor?
    var lentOutput: FloatBuffer?
    var ownOutputCapacity: Int { output.capacity }
    var lentInputGradient: FloatBuffer?
    /// A pass-through returns its input as its output, so whoever reads the output reads the input.
    var backwardReadsInput: Bool {
        switch function {
        case .relu, .sigmoid, .tanh: return isAppliedByBatchNorm || guidesBackward
        default: return true
        }
    }
    var backwardReadsOutput: Bool {
        switch function {
        case .relu, .elu, .sigmoid, .tanh: return true
        default: return isAppliedByBatchNorm
        }
    }
    /// Set by `BatchNorm2d.fuse(_:)`: in training the batch norm before this ReLU has applied it, so
    /// values and gradients pass through unchanged.
    var isAppliedByBatchNorm = false
    /// Whether the latest forward pass was such a pass-through.
    private var lastPassedThrough = false
    /// Guided backpropagation (Springenberg et al. 2015): a ReLU passes back only positive gradients
    /// where its input was positive. Set through `Network.guidesBackward` on an inspector's copy, never
    /// on a training network.
    var guidesBackward = false

    static let seluScale: Float = 1.050_700_987_355_480_5
    static let seluAlpha: Float = 1.673_263_242_354_377_3

    public init(name: String, function: Function, input: FeatureShape) {
        self.name = name
        self.function = function
        inputShape = input
    }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        input = x
        lastPassedThrough = isAppliedByBatchNorm && mode == .training
        if lastPassedThrough {
            lastOutput = x
            return x
        }
        let y = apply(x, into: lentOutput ?? output)
        lastOutput = y
        return y
    }

    /// Records a training pass whose values nobody wrote: the batch norm before this ReLU and the ReLU itself
    /// are applied by the convolution after them as it reads (`BatchNorm2d.trainLeavingOutput`). `backward`
    /// hands the gradient through, as after a pass-through; there is no output (`lastOutput` becomes nil).
    func passThroughUnwritten() {
        precondition(isAppliedByBatchNorm, "\(name): only a ReLU its batch norm applies can be left unwritten")
        input = nil
        lastOutput = nil
        lastPassedThrough = true
    }

    /// The function of every element of `x`, into `buffer`: the one loop behind `forward` and
    /// `recomputeOutput`.
    private func apply(_ x: Tensor, into buffer: FloatBuffer) -> Tensor {
        let y = buffer.tensor(batch: x.batch, shape: inputShape)
        let src = x.pointer, dst = y.pointer
        let function = self.function
        Parallel.forEachChunk(x.count, minimum: 32_768) { range, _ in
            Activation.apply(function, src + range.lowerBound, dst + range.lowerBound, range.count)
        }
        return y
    }

    var recomputesOutput: Bool { true }
    var passesInputThrough: Bool { isAppliedByBatchNorm }

    func recomputeOutput(from x: Tensor, into buffer: FloatBuffer) -> Tensor {
        lastPassedThrough ? x : apply(x, into: buffer)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard computesInputGradient else { return .empty(inputShape) }
        if lastPassedThrough { return dy }
        guard let x = input, let y = lastOutput else { preconditionFailure("\(name): backward before forward") }
        let dx = (lentInputGradient ?? inputGradient).tensor(batch: x.batch, shape: inputShape)
        let function = self.function
        let xs = x.pointer, ys = y.pointer, g = dy.pointer, out = dx.pointer
        let guided = guidesBackward && function == .relu
        Parallel.forEachChunk(x.count, minimum: 32_768) { range, _ in
            let lo = range.lowerBound
            if guided {
                ckernels_rectified_gradient(g + lo, ys + lo, 1, range.count, out + lo)
            } else {
                Activation.differentiate(function, xs + lo, ys + lo, g + lo, out + lo, range.count)
            }
        }
        return dx
    }

    static func apply(_ function: Function, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        switch function {
        case .relu:
            ckernels_rectified_sum(x, nil, 1, n, y)
        case .leakyReLU(let slope):
            for i in 0..<n { y[i] = x[i] > 0 ? x[i] : slope * x[i] }
        case .elu(let alpha):
            for i in 0..<n { y[i] = x[i] > 0 ? x[i] : alpha * (exp(x[i]) - 1) }
        case .selu:
            for i in 0..<n { y[i] = seluScale * (x[i] > 0 ? x[i] : seluAlpha * (exp(x[i]) - 1)) }
        case .swish:
            for i in 0..<n { y[i] = x[i] / (1 + exp(-x[i])) }
        case .gelu:
            ckernels_gelu_forward(x, y, n)
        case .sigmoid:
            for i in 0..<n { y[i] = 1 / (1 + exp(-x[i])) }
        case .tanh:
            for i in 0..<n { y[i] = Foundation.tanh(x[i]) }
        }
    }

    static func differentiate(
        _ function: Function, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
        _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int
    ) {
        switch function {
        // Each gradient is loaded unconditionally and then selected, which lets the loops vectorise.
        case .relu:
            ckernels_rectified_gradient(dy, y, 0, n, dx)
        case .leakyReLU(let slope):
            for i in 0..<n {
                let g = dy[i]
                dx[i] = x[i] > 0 ? g : slope * g
            }
        case .elu(let alpha):
            for i in 0..<n {
                let g = dy[i], negative = g * (y[i] + alpha)
                dx[i] = x[i] > 0 ? g : negative
            }
        case .selu:
            for i in 0..<n { dx[i] = dy[i] * seluScale * (x[i] > 0 ? 1 : seluAlpha * exp(x[i])) }
        case .swish:
            for i in 0..<n {
                let s = 1 / (1 + exp(-x[i]))
                dx[i] = dy[i] * s * (1 + x[i] * (1 - s))
            }
        case .gelu:
            ckernels_gelu_backward(x, dy, dx, n)
        case .sigmoid:
            for i in 0..<n { dx[i] = dy[i] * y[i] * (1 - y[i]) }
        case .tanh:
            for i in 0..<n { dx[i] = dy[i] * (1 - y[i] * y[i]) }
        }
    }
}
