import CKernels
import Foundation

/// Batch normalisation over the channels of a feature map, with PyTorch's `BatchNorm2d` semantics.
///
/// Training normalises with the batch mean and the biased batch variance, and moves the running
/// estimates by `momentum` towards the batch mean and the *unbiased* batch variance; inference
/// normalises with the running estimates. `y = (x - mean) / sqrt(var + eps) * weight + bias`.
public final class BatchNorm2d: BufferSharing {
    public let name: String
    public var kind: LayerKind { .bn }
    public let inputShape: FeatureShape
    public var outputShape: FeatureShape { inputShape }
    public let weight: Parameter
    public let bias: Parameter
    public let runningMean: FloatBuffer
    public let runningVariance: FloatBuffer
    public let batchesTracked = Counter()
    public let epsilon: Float = 1e-5
    /// How far each training batch moves the running estimates (PyTorch's default 0.1).
    public var momentum: Float = 0.1
    public var computesInputGradient = true
    public private(set) var lastOutput: Tensor?

    private let output = FloatBuffer()
    private let inputGradient = FloatBuffer()
    var input: Tensor?
    var lentOutput: FloatBuffer?
    var ownOutputCapacity: Int { output.capacity }
    var lentInputGradient: FloatBuffer?
    var backwardReadsInput: Bool { true }
    /// The ReLU mask of a rectified pass is recomputed from the input.
    var backwardReadsOutput: Bool { false }
    private var lastMode = ForwardMode.inference
    /// Set by `fuse(_:)`: training passes apply the following ReLU here.
    private var appliesReLUInTraining = false
    /// Whether the latest forward pass wrote rectified values (so `backward` masks the gradient).
    private var lastRectified = false
    /// The per-channel scale and shift of the latest forward pass (`y = x * scale + shift`).
    private let appliedScale: FloatBuffer
    private let appliedShift: FloatBuffer
    /// Mean and 1/sqrt(var + eps) used by the latest forward pass (batch or running statistics).
    private let usedMean: FloatBuffer
    private let usedInverseStd: FloatBuffer
    /// Per image, the statistics of a training pass and the backward pass's sums. The first are gathered by
    /// the convolution before this layer as it writes its output (`Conv2d.gatherStatistics(for:)`), the
    /// second by the layer that writes this layer's output gradient (the convolution, max pool or residual
    /// block after it, `GathersBatchNormGradientSums`, or the gradient pass of the residual block it ends);
    /// either, or else this layer itself.
    private let sums: ImageChannelSums

    public init(name: String, input: FeatureShape) {
        self.name = name
        inputShape = input
        let c = input.channels
        weight = Parameter(name: name + ".weight", count: c, layout: .plain([c]), decays: false, initial: 1)
        bias = Parameter(name: name + ".bias", count: c, layout: .plain([c]), decays: false)
        runningMean = FloatBuffer(capacity: c)
        runningVariance = FloatBuffer([Float](repeating: 1, count: c))
        usedMean = FloatBuffer(capacity: c)
        usedInverseStd = FloatBuffer(capacity: c)
        appliedScale = FloatBuffer(capacity: c)
        appliedShift = FloatBuffer(capacity: c)
        sums = ImageChannelSums(channels: c)
    }

    public var parameters: [Parameter] { [weight, bias] }
    public var stateTensors: [StateTensor] {
        let c = inputShape.channels
        return [
            StateTensor(parameter: weight), StateTensor(parameter: bias),
            StateTensor(name: name + ".running_mean", content: .float(runningMean, .plain([c]))),
            StateTensor(name: name + ".running_var", content: .float(runningVariance, .plain([c]))),
            StateTensor(name: name + ".num_batches_tracked", content: .int64(batchesTracked)),
        ]
    }

    /// Makes this batch norm apply `relu`, the ReLU right after it, in training: it writes `max(y, 0)`
    /// and masks the incoming gradient itself, recomputing the mask from its input, while the ReLU hands
    /// values and gradients through. Saves a read and a write of the whole feature map in each
    /// direction. Inference keeps the two apart so that each layer's output can be inspected; in
    /// training `lastOutput` holds the rectified values.
    func fuse(_ relu: Activation) {
        precondition(relu.function == .relu && relu.inputShape == inputShape, "\(name) can only absorb a ReLU of its shape")
        relu.isAppliedByBatchNorm = true
        appliesReLUInTraining = true
    }

    /// Where a convolution writing this layer's next training input (of `images` images) puts each image's
    /// sums; `inputStatisticsGathered` then says for which tensor it did.
    func inputStatisticsRequest(images: Int) -> ImageChannelSums.Request { sums.request(images: images) }

    /// Records that the latest `inputStatisticsRequest` holds the sums of `x`, or, with nil, nothing.
    func inputStatisticsGathered(_ x: Tensor?) { sums.markGathered(x, for: .forward) }

    /// Where a convolution writing this layer's output gradient (of `images` images) puts each image's
    /// backward-pass sums, against the latest forward pass's input and statistics; nil before a forward
    /// pass of that batch. `gradientStatisticsGathered` then says for which tensor it did.
    func gradientStatisticsRequest(images: Int) -> ImageChannelSums.Request? {
        guard let x = input, x.batch == images else { return nil }
        let mode = lastRectified ? CKERNELS_BN_RECTIFIED_PRODUCTS : CKERNELS_BN_PRODUCTS
        return sums.request(
            images: images, against: x, mode: mode, mean: usedMean.base, scale: appliedScale.base, shift: appliedShift.base)
    }

    /// Records that the latest `gradientStatisticsRequest` holds the sums of `dy`, or, with nil, nothing.
    func gradientStatisticsGathered(_ dy: Tensor?) { sums.markGathered(dy, for: .backward) }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        prepare(x, mode: mode, rectifies: appliesReLUInTraining && mode == .training)
        let y = applyAffine(x, into: lentOutput ?? output)
        lastOutput = y
        return y
    }

    /// A training pass that writes `max(bn(x) + skip, 0)` into `buffer` and not `bn(x)` itself: a residual
    /// block's last batch norm, its sum with the shortcut and the block's ReLU in one sweep over the map
    /// instead of two, each value rounded exactly as `forward` then the block's sum would round it.
    /// `backward` follows as after `forward`. `lastOutput` becomes nil: the map of this layer alone is
    /// never written (inference, which inspection uses, still writes it).
    func trainAddingRectified(_ x: Tensor, skip: Tensor, into buffer: FloatBuffer) -> Tensor {
        precondition(skip.batch == x.batch && skip.shape == inputShape, "\(name): the skip must have the output's shape")
        prepare(x, mode: .training, rectifies: false)
        let y = applyAffine(x, adding: skip, into: buffer)
        lastOutput = nil
        return y
    }

    /// A training pass that leaves applying this layer (and its fused ReLU) to the convolution after it, which
    /// reads `x` through the returned prologue (`Conv2d.train(_:through:)`): the statistics are taken and the
    /// running estimates moved as by `forward`, but this layer's map is never written (`lastOutput` becomes
    /// nil). `backward` follows as after `forward`. The prologue holds until this layer's next forward pass.
    func trainLeavingOutput(_ x: Tensor) -> ConvolutionPrologue {
        prepare(x, mode: .training, rectifies: appliesReLUInTraining)
        lastOutput = nil
        return ConvolutionPrologue(scale: appliedScale.base, shift: appliedShift.base, rectify: lastRectified)
    }

    /// The statistics of a forward pass (the batch's in training, moving the running estimates, or the
    /// running ones) and the per-channel scale and shift they give, which `backward` reads.
    private func prepare(_ x: Tensor, mode: ForwardMode, rectifies: Bool) {
        input = x
        lastMode = mode
        lastRectified = rectifies
        // Sums gathered for a backward pass were against the previous pass's input and statistics.
        sums.forget(.backward)
        let c = inputShape.channels, rows = x.batch * inputShape.spatialCount
        let mean = usedMean.base, inverseStd = usedInverseStd.base
        if mode == .training {
            // Per-channel sum and sum of squares: float partial sums per block, combined in Double.
            let sums = self.sums.totals(of: x, for: .forward) { self.sums.request(images: $0) }
            let n = Double(rows)
            for ch in 0..<c {
                let m = sums.first[ch] / n
                let variance = max(sums.second[ch] / n - m * m, 0)
                mean[ch] = Float(m)
                inverseStd[ch] = Float(1 / (variance + Double(epsilon)).squareRoot())
                let unbiased = rows > 1 ? variance * n / (n - 1) : variance
                runningMean.base[ch] = (1 - momentum) * runningMean.base[ch] + momentum * Float(m)
                runningVariance.base[ch] = (1 - momentum) * runningVariance.base[ch] + momentum * Float(unbiased)
            }
            batchesTracked.value += 1
        } else {
            for ch in 0..<c {
                mean[ch] = runningMean.base[ch]
                inverseStd[ch] = runningInverseStd(ch)
            }
        }
        let (scaleValues, shiftValues) = affine { (mean[$0], inverseStd[$0]) }
        appliedScale.base.update(from: scaleValues, count: c)
        appliedShift.base.update(from: shiftValues, count: c)
    }

    /// `x * scale + shift` per channel with the latest forward pass's scale and shift, into `buffer`: the
    /// one loop behind `forward`, `recomputeOutput` and `trainAddingRectified`. After a rectified pass it
    /// clamps at zero; with a `skip` it adds the skip to each normalised value and then clamps (a residual
    /// block's sum and ReLU), rounding as the separate sum would.
    private func applyAffine(_ x: Tensor, adding skip: Tensor? = nil, into buffer: FloatBuffer) -> Tensor {
        let c = inputShape.channels, rows = x.batch * inputShape.spatialCount, rectify = lastRectified
        let y = buffer.tensor(batch: x.batch, shape: inputShape)
        let src = x.pointer, add = skip?.pointer, dst = y.pointer, scale = appliedScale.base, shift = appliedShift.base
        Parallel.forEachChunk(rows, minimum: 1024) { range, _ in
            let offset = range.lowerBound * c
            ckernels_bn_apply(
                src + offset, add.map { $0 + offset }, scale, shift, rectify ? 1 : 0, range.count, Int32(c), dst + offset)
        }
        return y
    }

    var recomputesOutput: Bool { true }

    /// The latest output again, from the statistics that pass used (no running estimate moves).
    func recomputeOutput(from x: Tensor, into buffer: FloatBuffer) -> Tensor { applyAffine(x, into: buffer) }

    /// The normalisation of inference as `y = x * scale + shift` per channel, from the running statistics:
    /// what a preceding convolution folds into its weights and bias.
    public func inferenceAffine() -> (scale: [Float], shift: [Float]) {
        affine { (runningMean.base[$0], runningInverseStd($0)) }
    }

    private func runningInverseStd(_ channel: Int) -> Float { 1 / (runningVariance.base[channel] + epsilon).squareRoot() }

    /// Per-channel `scale = weight / std` and `shift = bias - mean * scale` from each channel's mean and 1/std.
    private func affine(_ statistics: (Int) -> (mean: Float, inverseStd: Float)) -> (scale: [Float], shift: [Float]) {
        let c = inputShape.channels
        var scale = [Float](repeating: 0, count: c), shift = scale
        for ch in 0..<c {
            let (mean, inverseStd) = statistics(ch)
            scale[ch] = weight.value.base[ch] * inverseStd
            shift[ch] = bias.value.base[ch] - mean * scale[ch]
        }
        return (scale, shift)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("\(name): backward before forward") }
        let c = inputShape.channels, rows = x.batch * inputShape.spatialCount
        let mean = usedMean.base, inverseStd = usedInverseStd.base, scale = appliedScale.base, shift = appliedShift.base
        // After a rectified forward pass, dy is the gradient of max(y, 0): zero it where y <= 0,
        // with y recomputed from x exactly as the forward pass computed it.
        let rectified = lastRectified
        precondition(dy.batch == x.batch, "\(name): the output gradient's batch differs from the input's")
        // dbias = sum dy, dweight = sum dy * xhat with xhat = (x - mean) * invstd.
        let sums = self.sums.totals(of: dy, for: .backward) { self.gradientStatisticsRequest(images: $0)! }
        for ch in 0..<c {
            bias.gradient.base[ch] = Float(sums.first[ch])
            weight.gradient.base[ch] = Float(sums.second[ch]) * inverseStd[ch]
        }
        guard computesInputGradient else { return .empty(inputShape) }
        let dx = (lentInputGradient ?? inputGradient).tensor(batch: x.batch, shape: inputShape)
        var meanDy = [Float](repeating: 0, count: c), meanDyXhat = meanDy
        if lastMode == .training {
            for ch in 0..<c {
                meanDy[ch] = Float(sums.first[ch] / Double(rows))
                meanDyXhat[ch] = weight.gradient.base[ch] / Float(rows)
            }
        }
        let g = dy.pointer, src = x.pointer, out = dx.pointer
        meanDy.withUnsafeBufferPointer { meanDy in
            meanDyXhat.withUnsafeBufferPointer { meanDyXhat in
                Parallel.forEachChunk(rows, minimum: 1024) { range, _ in
                    let offset = range.lowerBound * c
                    ckernels_bn_input_gradient(
                        g + offset, src + offset, mean, inverseStd, scale, shift, meanDy.baseAddress, meanDyXhat.baseAddress,
                        rectified ? 1 : 0, range.count, Int32(c), out + offset)
                }
            }
        }
        return dx
    }
}
