/// A 2-D convolution (PyTorch's `Conv2d` with square kernel, stride and padding), optionally with bias.
///
/// The layer owns the parameters, its output and gradients; how it computes its passes is its `plan`,
/// chosen once when it is built (`ConvolutionPlan`): lowered into an OpenBLAS matrix product
/// (`LoweredConvolution`), direct (`DirectConvolution`) or through Winograd tiles (`WinogradConvolution`),
/// with the batch split across the cores.
public final class Conv2d: BufferSharing, GathersBatchNormGradientSums {
    public let name: String
    public var kind: LayerKind { .conv }
    public let inputShape: FeatureShape
    public let outputShape: FeatureShape
    public let weight: Parameter
    public let bias: Parameter?
    public var computesInputGradient = true
    public private(set) var lastOutput: Tensor?
    /// How the passes are computed, on which kernel path, in which arithmetic.
    public private(set) var plan: ConvolutionPlan

    private let shape: ConvolutionShape
    private var forwardPass: ConvolutionBackend
    private var backwardPass: ConvolutionBackend
    private let output = FloatBuffer()
    private let inputGradient = FloatBuffer()
    var input: Tensor?
    var lentOutput: FloatBuffer?
    var ownOutputCapacity: Int { output.capacity }
    var lentInputGradient: FloatBuffer?
    var backwardReadsInput: Bool { true }
    var backwardReadsOutput: Bool { false }
    /// The weights and bias with the following batch norm folded in, for `inferFolded`.
    private let foldedWeights = FloatBuffer()
    private let foldedBias = FloatBuffer()
    /// The batch norm right after this layer, whose training statistics the forward pass gathers.
    private(set) var statisticsTarget: BatchNorm2d?
    /// The batch norm whose output gradient this layer's input gradient is, whose backward-pass sums the
    /// backward pass gathers.
    private(set) var gradientStatisticsTarget: BatchNorm2d?
    /// The prologue the latest forward pass read its input through (`train(_:through:)`), which the backward
    /// pass applies again; nil after a plain pass.
    private var inputPrologue: ConvolutionPrologue?

    /// A convolution whose plan uses the kernel path active now (`KernelPath.active`).
    public init(name: String, input: FeatureShape, outChannels: Int, kernel: Int, stride: Int, padding: Int, bias: Bool) {
        self.name = name
        shape = ConvolutionShape(input: input, outChannels: outChannels, kernel: kernel, stride: stride, padding: padding)
        inputShape = input
        outputShape = shape.output
        weight = Parameter(
            name: name + ".weight", count: shape.weightCount,
            layout: .convolution(outChannels: outChannels, inChannels: input.channels, kernel: kernel), decays: true)
        self.bias = bias ? Parameter(name: name + ".bias", count: outChannels, layout: .plain([outChannels]), decays: false) : nil
        plan = ConvolutionPlan(shape, path: .active)
        (forwardPass, backwardPass) = Self.backends(plan, shape)
    }

    private static func backends(_ plan: ConvolutionPlan, _ shape: ConvolutionShape) -> (ConvolutionBackend, ConvolutionBackend) {
        let forward = plan.forward.makeBackend(shape, path: plan.path, arithmetic: plan.arithmetic)
        let backward = plan.backward == plan.forward
            ? forward : plan.backward.makeBackend(shape, path: plan.path, arithmetic: plan.arithmetic)
        return (forward, backward)
    }

    /// The products' number format (`Network.arithmetic` sets it for all layers). Changing it replans the
    /// layer on its kernel path; not while a pass runs.
    public var arithmetic: MatrixArithmetic {
        get { plan.arithmetic }
        set {
            guard newValue != plan.arithmetic else { return }
            plan = ConvolutionPlan(shape, path: plan.path, arithmetic: newValue)
            (forwardPass, backwardPass) = Self.backends(plan, shape)
        }
    }

    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }
    public var geometry: SpatialGeometry {
        SpatialGeometry(kernel: shape.kernel, stride: shape.stride, padding: shape.padding)
    }
    public var multiplyAdds: Int { outputShape.count * lowering.rowLength }
    /// The im2col lowering of this layer's shape (the int8 inference path lowers with it too).
    var lowering: Im2Col { shape.lowering }

    /// Makes training passes gather the statistics of `batchNorm`, which must take this layer's output
    /// next: each image's per-channel sums, while the image is still in cache, so that the batch norm
    /// need not read its whole input once more for them.
    func gatherStatistics(for batchNorm: BatchNorm2d) {
        precondition(batchNorm.inputShape == outputShape, "\(name) can only gather statistics for a batch norm of its output's shape")
        statisticsTarget = batchNorm
    }

    /// Each image's sums for `batchNorm`, gathered as the image's input gradient is written.
    func gatherGradientStatistics(for batchNorm: BatchNorm2d) {
        precondition(batchNorm.outputShape == inputShape, "\(name) can only gather statistics for a batch norm of its input's shape")
        gradientStatisticsTarget = batchNorm
    }

    /// Whether both passes can read the input through a prologue (`train(_:through:)`): on the Winograd
    /// backends in fp32.
    var appliesPrologue: Bool { forwardPass is PrologueApplyingBackend && backwardPass is PrologueApplyingBackend }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        forward(x, through: nil, training: mode == .training)
    }

    /// A training pass on `x` as `prologue` maps it (the batch norm before this layer and its ReLU, whose
    /// output is then never written); `backward` follows as after `forward`. Needs `appliesPrologue`.
    func train(_ x: Tensor, through prologue: ConvolutionPrologue) -> Tensor {
        precondition(appliesPrologue, "\(name): the \(plan.forward) convolution cannot apply a prologue")
        return forward(x, through: prologue, training: true)
    }

    private func forward(_ x: Tensor, through prologue: ConvolutionPrologue?, training: Bool) -> Tensor {
        input = x
        inputPrologue = prologue
        var epilogue = ConvolutionEpilogue.none
        if training { epilogue.statistics = statisticsTarget?.inputStatisticsRequest(images: x.batch) }
        let y = convolve(x, through: prologue, weights: weight.value.base, bias: bias?.value.base, epilogue: epilogue)
        // Any sums stored before are not of this output; mark the new ones (or none, outside training).
        statisticsTarget?.inputStatisticsGathered(epilogue.statistics == nil ? nil : y)
        lastOutput = y
        return y
    }

    /// Inference through this convolution with the batch norm that follows it folded into its weights
    /// and bias (`w * gamma / sqrt(var + eps)`, `beta + (b - mean) * gamma / sqrt(var + eps)`), and,
    /// with `rectify`, the ReLU after that applied to each image while it is still in cache: one pass
    /// over the output instead of three. With `residual` (a residual block's shortcut, of the output's
    /// shape) that is added before the ReLU, in the same pass. Keeps no intermediate result (`lastOutput`
    /// becomes nil), so `backward` cannot follow; `forward` is the path that records every layer's output.
    public func inferFolded(_ x: Tensor, batchNorm: BatchNorm2d?, rectify: Bool, adding residual: Tensor? = nil) -> Tensor {
        input = nil
        inputPrologue = nil
        lastOutput = nil
        let epilogue = ConvolutionEpilogue(residual: residual, rectify: rectify)
        guard let batchNorm else { return convolve(x, weights: weight.value.base, bias: bias?.value.base, epilogue: epilogue) }
        let outC = outputShape.channels, rowLength = lowering.rowLength
        let (scale, shift) = batchNorm.inferenceAffine()
        foldedWeights.reserve(weight.count)
        foldedBias.reserve(outC)
        let w = weight.value.base, folded = foldedWeights.base
        for o in 0..<outC {
            for j in 0..<rowLength { folded[o * rowLength + j] = w[o * rowLength + j] * scale[o] }
            foldedBias.base[o] = shift[o] + (bias.map { $0.value.base[o] * scale[o] } ?? 0)
        }
        return convolve(x, weights: folded, bias: foldedBias.base, epilogue: epilogue)
    }

    /// The convolution of `x` (through `prologue`, when given) with OHWI `weights` and `bias`, then `epilogue`,
    /// into the layer's output buffer.
    private func convolve(
        _ x: Tensor, through prologue: ConvolutionPrologue? = nil, weights w: UnsafePointer<Float>,
        bias b: UnsafePointer<Float>?, epilogue: ConvolutionEpilogue
    ) -> Tensor {
        let y = (lentOutput ?? output).tensor(batch: x.batch, shape: outputShape)
        if let prologue, let backend = forwardPass as? PrologueApplyingBackend {
            backend.forward(x, prologue: prologue, weights: w, bias: b, epilogue: epilogue, into: y)
        } else {
            forwardPass.forward(x, weights: w, bias: b, epilogue: epilogue, into: y)
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor { backward(dy, adding: nil) }

    /// `backward`, with `residual` (of the input's shape: a residual block's shortcut gradient) added to the
    /// input gradient as each group of images is written, instead of in a pass of its own.
    func backward(_ dy: Tensor, adding residual: Tensor?) -> Tensor {
        guard let x = input else { preconditionFailure("\(name): backward before forward") }
        let dx = computesInputGradient ? (lentInputGradient ?? inputGradient).tensor(batch: x.batch, shape: inputShape) : nil
        var epilogue = ConvolutionEpilogue(residual: residual)
        if dx != nil { epilogue.statistics = gradientStatisticsTarget?.gradientStatisticsRequest(images: x.batch) }
        if let inputPrologue {
            // `arithmetic` may not change between the passes (a replanned layer could not apply the prologue).
            guard let backend = backwardPass as? PrologueApplyingBackend else { preconditionFailure("\(name): replanned mid-step") }
            backend.backward(
                x, prologue: inputPrologue, outputGradient: dy, weights: weight.value.base,
                weightGradient: weight.gradient.base, biasGradient: bias?.gradient.base, inputGradient: dx, epilogue: epilogue)
        } else {
            backwardPass.backward(
                x, outputGradient: dy, weights: weight.value.base, weightGradient: weight.gradient.base,
                biasGradient: bias?.gradient.base, inputGradient: dx, epilogue: epilogue)
        }
        gradientStatisticsTarget?.gradientStatisticsGathered(epilogue.statistics == nil ? nil : dx)
        return dx ?? .empty(inputShape)
    }
}
