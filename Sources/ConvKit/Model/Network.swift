/// A convolutional network built from a `ModelSpec`: the ordered list of layers the spec describes.
///
/// The network is not thread-safe: one owner (the trainer, or an interpretation job working on its own
/// copy) runs it. `copyState(from:)` makes such copies.
public final class Network {
    /// The checked plan the layers were built from: builds more networks of this model (`init(plan:)`).
    public let plan: ModelPlan
    public var spec: ModelSpec { plan.spec }
    public var inputShape: FeatureShape { plan.inputShape }
    public let layers: [Layer]
    /// The buffers lent to layers whose values are not kept (`BufferSharing`).
    let shared = SharedBuffers()
    /// What a training step does with each top-level layer's output.
    enum OutputRole: Equatable {
        /// Kept in the layer's own buffer for the backward pass.
        case kept
        /// Read only by the next layer's forward pass: lives in a shared buffer.
        case transient
        /// Read by the backward pass but computed again from the kept input when it is needed.
        case recomputed
    }
    private(set) var outputRoles: [OutputRole]
    /// Off, every layer keeps its own buffers (as before `BufferSharing`): for tests that compare the two.
    var sharesBuffers = true
    /// Off, a training pass writes every batch norm's map, even where the convolution after it could apply the
    /// batch norm as it reads (as before `ConvolutionPrologue`): for tests that compare the two.
    var normalisesOnRead = true {
        didSet { for case let block as ResidualBlock in layers { block.normalisesOnRead = normalisesOnRead } }
    }
    /// Whether the latest `forward` was a training pass that lent buffers (its backward then lends too).
    private var lentInLastForward = false
    /// Batch norms followed by the convolution that takes their output (through the ReLU they apply, if
    /// any), by the batch norm's index: where a training pass can leave the batch norm's map unwritten and
    /// have the convolution apply it as it reads (`ConvolutionPrologue`), when its backend can.
    private var prologueSites: [Int: (batchNorm: BatchNorm2d, relu: Activation?, conv: Conv2d, convIndex: Int)] = [:]
    /// The layers whose output the latest training pass left unwritten (such batch norms and their ReLUs):
    /// the backward pass need not recompute them for the convolution, which reads through them again.
    private var unwritten: Set<Int> = []

    /// Builds the layers of `spec` for `input`-shaped samples, checking that every shape works out and
    /// that the network ends in `classes` scores (`ModelPlan`).
    public convenience init(spec: ModelSpec, input: FeatureShape = .cifarImage, classes: Int = 10, seed: UInt64 = 0) throws(ModelSpecError) {
        self.init(plan: try ModelPlan(spec: spec, input: input, classes: classes), seed: seed)
    }

    /// Builds the layers of a checked plan (its weights are allocated here).
    public init(plan: ModelPlan, seed: UInt64 = 0) {
        self.plan = plan
        let layers: [Layer] = plan.layers.map { planned in
            let (name, shape, index) = (planned.name, planned.inputShape, planned.index)
            let layer: Layer
            switch planned.token.operation {
            case let .conv(channels, kernel, stride, padding):
                layer = Conv2d(
                    name: name, input: shape, outChannels: channels, kernel: kernel, stride: stride, padding: padding,
                    bias: planned.hasBias)
            case .batchNorm:
                layer = BatchNorm2d(name: name, input: shape)
            case .activation(let function):
                layer = Activation(name: name, function: function, input: shape)
            case let .maxPool(kernel, stride):
                layer = MaxPool2d(name: name, input: shape, kernel: kernel, stride: stride)
            case let .avgPool(kernel, stride):
                layer = AvgPool2d(name: name, input: shape, kernel: kernel, stride: stride)
            case .globalAvgPool:
                layer = GlobalAvgPool(name: name, input: shape)
            case .flatten:
                layer = Flatten(name: name, input: shape)
            case let .dropout(p, channelwise):
                layer = Dropout(
                    name: name, input: shape, probability: p, channelwise: channelwise,
                    seed: seed &+ UInt64(index) &* 0x9E37_79B9)
            case .fc(let features):
                layer = Linear(name: name, input: shape, outFeatures: features)
            case let .residual(channels, stride, middle):
                layer = ResidualBlock(name: name, input: shape, outChannels: channels, stride: stride, middleChannels: middle)
            }
            precondition(layer.outputShape == planned.outputShape, "\(name): the plan's output shape and the layer's differ")
            return layer
        }
        self.layers = layers
        outputRoles = []
        layers.first?.computesInputGradient = false
        for (index, layer) in layers.enumerated() {
            if let batchNorm = layer as? BatchNorm2d, let following = relu(at: index + 1) { batchNorm.fuse(following) }
            if let conv = layer as? Conv2d, index + 1 < layers.count, let batchNorm = layers[index + 1] as? BatchNorm2d {
                conv.gatherStatistics(for: batchNorm)
            }
            // The layer whose input gradient is a batch norm's output gradient (through the ReLU it applies)
            // gathers that batch norm's backward-pass sums.
            if let batchNorm = layer as? BatchNorm2d, let next = readerOfBatchNorm(at: index) {
                (next as? GathersBatchNormGradientSums)?.gatherGradientStatistics(for: batchNorm)
            }
        }
        // After the fusions, which change what a ReLU reads.
        outputRoles = Network.outputRoles(layers.map { ($0 as? BufferSharing)?.traits })
        // The convolution reads the batch norm's input again in its backward pass, so that input must be kept.
        for (index, layer) in layers.enumerated() where index > 0 && outputRoles[index - 1] == .kept {
            if let batchNorm = layer as? BatchNorm2d, let conv = readerOfBatchNorm(at: index) as? Conv2d {
                let following = relu(at: index + 1)
                prologueSites[index] = (batchNorm, following, conv, index + (following == nil ? 1 : 2))
            }
        }
    }

    /// What a training step does with each top-level output. Between two sharing layers, an output that
    /// neither backward pass reads is transient (a convolution's output into a max pool); one that only
    /// the next layer's backward reads, of a pointwise layer whose own input is kept or recomputed, is
    /// recomputed (batch norm and GELU outputs); everything else is kept, as are the logits the loss reads,
    /// the first layer's output (the network's input is the caller's) and what a pass-through ReLU hands on.
    /// `layers` gives each top-level layer's traits, nil for a layer that keeps its own buffers; a plan's
    /// (`MemoryEstimate`) and a built network's agree.
    static func outputRoles(_ layers: [BufferTraits?]) -> [OutputRole] {
        var roles: [OutputRole] = []
        for index in layers.indices {
            guard index + 1 < layers.count, let layer = layers[index], let next = layers[index + 1], !next.passesThrough
            else {
                roles.append(.kept)
                continue
            }
            if !layer.readsOutput && !next.readsInput {
                roles.append(.transient)
            } else if index > 0, layer.recomputes, !layer.readsOutput, layer.readsInput, roles[index - 1] != .transient,
                layers[index - 1] != nil
            {
                roles.append(.recomputed)
            } else {
                roles.append(.kept)
            }
        }
        return roles
    }

    /// Bytes the shared buffers hold now (what `BufferSharing` layers borrowed at the largest batch).
    public var sharedBufferBytes: Int { shared.byteCount }

    /// How the convolution and fully connected layers multiply (fp32, or bf16 operands with fp32 sums; see
    /// `Precision`). Every other layer, the loss and the weights stay fp32. A copy (`copy()`) starts in fp32.
    public var arithmetic = MatrixArithmetic.fp32 {
        didSet {
            for layer in allLayers {
                if let conv = layer as? Conv2d { conv.arithmetic = arithmetic }
                if let linear = layer as? Linear { linear.arithmetic = arithmetic }
            }
        }
    }

    /// The layer that reads the output of the batch norm at `index`, past the ReLU it applies, if any.
    private func readerOfBatchNorm(at index: Int) -> Layer? {
        let next = relu(at: index + 1) != nil ? index + 2 : index + 1
        return next < layers.count ? layers[next] : nil
    }

    /// The top-level layer at `position` when it exists and is a plain ReLU, which fusions absorb.
    private func relu(at position: Int) -> Activation? {
        guard position < layers.count, let activation = layers[position] as? Activation, activation.function == .relu else { return nil }
        return activation
    }

    /// A network from a spec string or preset name.
    public convenience init(_ text: String, seed: UInt64 = 0) throws(ModelSpecError) {
        try self.init(spec: try ModelSpec(text), seed: seed)
    }

    /// Number of classes the network scores.
    public var classCount: Int { layers.last!.outputShape.count }

    /// Every trainable tensor, in layer order.
    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
    /// Everything a checkpoint stores, in layer order, with PyTorch names.
    public var stateTensors: [StateTensor] { layers.flatMap(\.stateTensors) }
    /// Number of trainable scalars.
    public var parameterCount: Int { parameters.map(\.count).reduce(0, +) }

    /// Top-level layers and, after each block, its sublayers: the list users step through.
    public var allLayers: [Layer] { layers.flatMap { [$0] + $0.sublayers } }

    public func layer(named name: String) -> Layer? { allLayers.first { $0.name == name } }

    /// Runs every layer; returns the class scores (logits). In training, a batch norm followed by a ReLU
    /// applies the ReLU itself (`BatchNorm2d.fuse`), so its `lastOutput` holds the rectified values.
    ///
    /// A training pass keeps in shared buffers the outputs that no backward pass reads (see
    /// `BufferSharing`): their `lastOutput` is valid only until the next layer's forward pass.
    @discardableResult
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        let lends = mode == .training && sharesBuffers
        var x = input
        var index = 0
        unwritten = []
        while index < layers.count {
            if mode == .training && normalisesOnRead, let site = prologueSites[index], site.conv.appliesPrologue {
                // The batch norm's map (and its ReLU's) would be read only by the convolution, which applies
                // them as it reads their input: the map is never written, nor recomputed in the backward pass.
                let prologue = site.batchNorm.trainLeavingOutput(x)
                site.relu?.passThroughUnwritten()
                unwritten.formUnion(index..<site.convIndex)
                index = site.convIndex
                x = lending(index, besides: x, lends) { site.conv.train(x, through: prologue) }
            } else {
                x = lending(index, besides: x, lends) { layers[index].forward(x, mode: mode) }
            }
            index += 1
        }
        lentInLastForward = lends
        return x
    }

    /// `pass` of layer `index`, writing into a shared buffer when `lends` and the layer's output is not kept.
    private func lending(_ index: Int, besides x: Tensor, _ lends: Bool, _ pass: () -> Tensor) -> Tensor {
        let sharing = layers[index] as? BufferSharing
        sharing?.lentOutput = lends && outputRoles[index] != .kept ? shared.spare(besides: x) : nil
        defer { sharing?.lentOutput = nil }
        return pass()
    }

    /// The class scores (logits) of inference, computed faster than `forward(_:mode: .inference)`: each
    /// batch norm after a convolution is folded into it, and a ReLU after that is applied as the
    /// convolution writes. Equal to `forward` up to float rounding; keeps no per-layer outputs, so it
    /// is for evaluation and prediction, not for inspecting layers: a sharing layer without room of its own
    /// for the batch (a training step kept no output there) writes into the network's two shared buffers
    /// in turn, so inference adds nothing to what training at that batch holds.
    public func infer(_ input: Tensor) -> Tensor {
        var x = input
        var index = 0
        defer { lentInLastForward = false }
        while index < layers.count {
            let current = layers[index], sharing = current as? BufferSharing
            if let sharing, sharesBuffers && sharing.ownOutputCapacity < x.batch * sharing.outputShape.count {
                sharing.lentOutput = shared.spare(besides: x)
            }
            defer { sharing?.lentOutput = nil }
            switch current {
            case let conv as Conv2d:
                let batchNorm = index + 1 < layers.count ? layers[index + 1] as? BatchNorm2d : nil
                let after = index + (batchNorm == nil ? 1 : 2)
                let rectify = relu(at: after) != nil
                x = conv.inferFolded(x, batchNorm: batchNorm, rectify: rectify)
                index = after + (rectify ? 1 : 0)
            case let block as ResidualBlock:
                x = block.inferFolded(x)
                index += 1
            case let layer:
                x = layer.forward(x, mode: .inference)
                index += 1
            }
        }
        return x
    }

    /// Back-propagates the gradient of the loss with respect to the logits through every layer,
    /// leaving each parameter's gradient in `Parameter.gradient`.
    ///
    /// `tap`, when given, sees the gradient with respect to each layer's output (sublayers of blocks
    /// included) as it passes: what Grad-CAM needs, after an inference pass. (After a training pass, a
    /// batch norm that applied its ReLU sees the ReLU's output gradient.)
    ///
    /// Returns the gradient with respect to the input when `computesInputGradient` is set (saliency and
    /// the other pixel attributions), an empty tensor otherwise.
    ///
    /// After a training pass and without `tap`, the gradients between sharing layers live in the shared
    /// buffers (each is read once, by the layer below), so the returned input gradient is valid until the
    /// network's next pass.
    @discardableResult
    public func backward(_ logitGradient: Tensor, tap: ((Layer, Tensor) -> Void)? = nil) -> Tensor {
        let lends = lentInLastForward && tap == nil
        var g = logitGradient
        for (index, layer) in layers.enumerated().reversed() {
            tap?(layer, g)
            if let block = layer as? ResidualBlock {
                block.gradientTap = tap
                g = block.backward(g)
                block.gradientTap = nil
            } else if let sharing = layer as? BufferSharing {
                if lends && index > 0 && outputRoles[index - 1] == .recomputed && !unwritten.contains(index - 1) {
                    sharing.input = recompute(index - 1, depth: 0)
                }
                sharing.lentInputGradient = lends ? shared.spare(besides: g) : nil
                g = layer.backward(g)
                sharing.lentInputGradient = nil
            } else {
                g = layer.backward(g)
            }
        }
        return g
    }

    /// The output of layer `index` (a recomputed one) from the latest training pass, computed again from
    /// its input, which is itself recomputed first when it was not kept. Each step of such a chain writes
    /// into the other of the two buffers for recomputed values, so it never overwrites what it reads.
    private func recompute(_ index: Int, depth: Int) -> Tensor {
        let layer = layers[index] as! BufferSharing
        if outputRoles[index - 1] == .recomputed { layer.input = recompute(index - 1, depth: depth + 1) }
        guard let input = layer.input else { preconditionFailure("\(layer.name): backward before forward") }
        return layer.recomputeOutput(from: input, into: depth % 2 == 0 ? shared.recomputed.0 : shared.recomputed.1)
    }

    /// Whether `backward` carries the gradient down to the input image. Off for training (nobody needs
    /// it); an inspector's copy turns it on for pixel attribution.
    public var computesInputGradient: Bool {
        get { layers.first?.computesInputGradient ?? false }
        set { layers.first?.computesInputGradient = newValue }
    }

    /// Guided backpropagation: every ReLU (block insides included) passes back only positive
    /// gradients where its input was positive. For an inspector's copy only: it changes what
    /// `backward` computes.
    public var guidesBackward: Bool = false {
        didSet {
            for layer in allLayers {
                (layer as? Activation)?.guidesBackward = guidesBackward
                (layer as? ResidualBlock)?.guidesBackward = guidesBackward
            }
        }
    }

    /// Runs the top-level layers after `layer` on `x` (a batch shaped like `layer`'s output): the class
    /// scores of activations changed at `layer` (Ablation-CAM). Nil when `layer` is not top-level.
    public func forward(_ x: Tensor, after layer: Layer, mode: ForwardMode) -> Tensor? {
        guard let position = layers.firstIndex(where: { $0 === layer }) else { return nil }
        var y = x
        for next in layers[(position + 1)...] { y = next.forward(y, mode: mode) }
        return y
    }

    /// Copies all parameters, running statistics and masks from a network with the same spec.
    public func copyState(from other: Network) {
        precondition(other.spec.text == spec.text, "copyState needs networks of the same spec")
        for (mine, theirs) in zip(stateTensors, other.stateTensors) {
            switch (mine.content, theirs.content) {
            case let (.float(a, layout), .float(b, _)):
                a.base.update(from: b.base, count: layout.count)
            case let (.int64(a), .int64(b)):
                a.value = b.value
            default:
                preconditionFailure("state tensors of \(mine.name) differ in kind")
            }
        }
        for (mine, theirs) in zip(parameters, other.parameters) {
            mine.mask = theirs.mask.map { mask in FloatBuffer(mask.array(mine.count)) }
        }
    }

    /// An independent network with the same spec and the same state.
    public func copy() -> Network {
        let twin = Network(plan: plan)
        twin.copyState(from: self)
        return twin
    }
}
