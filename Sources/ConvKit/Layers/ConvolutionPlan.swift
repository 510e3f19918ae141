import CKernels

/// How a `Conv2d` computes its passes, chosen once, when the layer is built, from its shape and the kernel
/// path active then (`KernelPath`). The layer keeps it, and its kernels, for as long as it lives: selecting
/// another path afterwards changes the layers built after that, never one in the middle of its work.
///
/// The rules, in order (docs/performance.md has the measurements behind them):
/// - On the portable path every convolution is lowered (`Im2Col` + OpenBLAS `sgemm`): without vector
///   kernels OpenBLAS is far faster than a plain C loop.
/// - 3x3, stride-1, padding-1 layers with at least 16 channels on both sides, in multiples of 8, take
///   Winograd (`WinogradTile.best`): F(4x4, 3x3) on maps of 15 x 15 and more (from 7 x 7 when both sides
///   have 64+ channels), F(2x2, 3x3) on the rest (even sides, or odd ones from 5). F(2x2, 3x3)'s
///   transforms cost its forward pass more than the multiplies they save below 32 channels, so such a layer
///   convolves directly forward and takes Winograd only backward (its direct backward kernels are slower),
///   unless it is wide (below).
/// - Other layers with a window wider than one pixel and 8k output channels take the direct kernel forward;
///   1x1 convolutions are plain matrix products already.
/// - The backward pass avoids lowering for "same" stride-1 layers (odd kernel, padding (k - 1) / 2) with 8k
///   channels on both sides: the weight gradient from a kernel over zero-bordered image stacks, the input
///   gradient as the direct convolution of the output gradient with the flipped kernel. A first layer with
///   3 input channels stays lowered: its lowered product is faster than a weight-gradient kernel that
///   works 6 input channels at a time.
/// - Wide layers (128 x 128 input x output channels or more) whose forward pass Winograd does not take
///   are lowered both ways, even where Winograd would take the backward pass: the direct kernel goes
///   through all their weights for every image, the lowered product once per group of images.
/// - In bf16 (`MatrixArithmetic.bf16`) no layer takes Winograd: its transforms would round the transformed
///   tiles to bf16, whose error grows with the transform's coefficients, and mixed precision as PyTorch and
///   GPUs run it multiplies the layer's own operands. "Same" stride-1 layers with even channel counts take the
///   direct bf16 kernel (`BF16Convolution`: forward and input gradient read the images, the weight gradient is
///   lowered); the others, and every layer of the portable emulation, are lowered onto the bf16 product
///   (`ckernels_gemm_bf16`).
public struct ConvolutionPlan: Equatable, Sendable, CustomStringConvertible {
    /// One way of computing a pass.
    public enum Algorithm: Equatable, Sendable, CustomStringConvertible {
        /// `Im2Col` lowering into a reused buffer and an OpenBLAS `sgemm` (1x1 stride-1 layers use the input
        /// as is); the backward pass lowers again rather than keeping the column matrix, 9x the input.
        case lowered
        /// The direct kernel over zero-bordered images (`DirectConvolution`; in bf16 `BF16Convolution`).
        case direct
        /// Winograd tiles (`WinogradConvolution`).
        case winograd(WinogradTile)

        public var description: String {
            switch self {
            case .lowered: "lowered"
            case .direct: "direct"
            case .winograd(let tile): "\(tile)"
            }
        }
    }

    /// The kernel path whose kernels the layer runs.
    public let path: KernelPath
    public let forward: Algorithm
    public let backward: Algorithm
    /// The products' number format.
    public let arithmetic: MatrixArithmetic

    /// The plan for a convolution of this shape on `path`, multiplying in `arithmetic`.
    init(_ shape: ConvolutionShape, path: KernelPath, arithmetic: MatrixArithmetic = .fp32) {
        self.path = path
        self.arithmetic = arithmetic
        if arithmetic != .fp32 {
            let direct = arithmetic == .bf16(emulated: false) && BF16Convolution.takes(shape)
            (forward, backward) = direct ? (.direct, .direct) : (.lowered, .lowered)
            return
        }
        let vector = path >= .avx2
        let inC = shape.input.channels, outC = shape.output.channels
        let winograd = vector ? Self.winogradTile(shape) : nil
        let forwardTile = winograd == .twoByTwo && min(inC, outC) < 32 ? nil : winograd
        let wideWithoutWinograd = inC * outC >= 128 * 128 && forwardTile == nil
        let direct = vector && shape.kernel > 1 && ckernels_conv_supported(Int32(outC)) != 0 && !wideWithoutWinograd
        forward = forwardTile.map(Algorithm.winograd) ?? (direct ? .direct : .lowered)
        let sameWithoutLowering = direct && shape.isSame && ckernels_conv_supported(Int32(inC)) != 0
        backward = sameWithoutLowering ? winograd.map(Algorithm.winograd) ?? .direct : .lowered
    }

    /// The Winograd tile for a 3x3, stride-1, padding-1 layer with 16+ channels on both sides, if one fits.
    private static func winogradTile(_ shape: ConvolutionShape) -> WinogradTile? {
        guard shape.kernel == 3 && shape.stride == 1 && shape.padding == 1,
            min(shape.input.channels, shape.output.channels) >= 16
        else { return nil }
        return WinogradTile.best(
            inChannels: shape.input.channels, outChannels: shape.output.channels, height: shape.input.height,
            width: shape.input.width)
    }

    public var description: String {
        let place = arithmetic == .fp32 ? "\(path)" : "\(path), \(arithmetic)"
        return forward == backward ? "\(forward) (\(place))" : "\(forward) forward, \(backward) backward (\(place))"
    }
}

/// The shape of a convolution layer: what its plan and its backends are built from.
struct ConvolutionShape {
    let input: FeatureShape
    let output: FeatureShape
    let kernel, stride, padding: Int
    /// The im2col lowering of this shape (also the row length of the OHWI weight matrix).
    let lowering: Im2Col

    init(input: FeatureShape, outChannels: Int, kernel: Int, stride: Int, padding: Int) {
        self.input = input
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        let geometry = SpatialGeometry(kernel: kernel, stride: stride, padding: padding)
        output = FeatureShape(
            channels: outChannels, height: geometry.outputSize(input.height), width: geometry.outputSize(input.width))
        lowering = Im2Col(
            height: input.height, width: input.width, channels: input.channels, kernel: kernel, stride: stride,
            padding: padding, outHeight: output.height, outWidth: output.width)
    }

    /// Kernel positions: `kernel * kernel`.
    var taps: Int { kernel * kernel }
    /// Weights: output channels x taps x input channels.
    var weightCount: Int { output.channels * lowering.rowLength }
    /// A "same" stride-1 layer: odd kernel wider than one pixel, padding (k - 1) / 2.
    var isSame: Bool { stride == 1 && kernel % 2 == 1 && kernel > 1 && padding == kernel / 2 }
    /// A 1x1, stride-1 convolution reads its input as the column matrix directly.
    var isPointwise: Bool { kernel == 1 && stride == 1 && padding == 0 }
}

/// The C convolution kernels of one kernel path (`ckernels_convolution_kernels`).
struct ConvolutionKernels {
    let table: ckernels_convolution

    init(path: KernelPath) {
        guard let table = ckernels_convolution_kernels(Int32(path.rawValue)) else {
            preconditionFailure("no convolution kernels for the \(path) path on this CPU")
        }
        self.table = table.pointee
    }
}
