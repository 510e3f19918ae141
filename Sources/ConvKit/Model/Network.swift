/// A convolutional network built from a `ModelSpec`: the ordered list of layers the spec describes.
///
/// The network is not thread-safe: one owner (the trainer, or an interpretation job working on its own
/// copy) runs it. `copyState(from:)` makes such copies.
public final class Network {
    public let spec: ModelSpec
    public let inputShape: FeatureShape
    public let layers: [Layer]

    /// Builds the layers of `spec` for `input`-shaped samples, checking that every shape works out and
    /// that the network ends in `classes` scores (`ModelPlan`).
    public convenience init(spec: ModelSpec, input: FeatureShape = .cifarImage, classes: Int = 10, seed: UInt64 = 0) throws(ModelSpecError) {
        self.init(plan: try ModelPlan(spec: spec, input: input, classes: classes), seed: seed)
    }

    /// Builds the layers of a checked plan (its weights are allocated here).
    public init(plan: ModelPlan, seed: UInt64 = 0) {
        spec = plan.spec
        inputShape = plan.inputShape
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
        layers.first?.computesInputGradient = false
        for (index, layer) in layers.enumerated() {
            if let batchNorm = layer as? BatchNorm2d, let following = relu(at: index + 1) { batchNorm.fuse(following) }
        }
    }

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
    @discardableResult
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        var x = input
        for layer in layers { x = layer.forward(x, mode: mode) }
        return x
    }

    /// The class scores (logits) of inference, computed faster than `forward(_:mode: .inference)`: each
    /// batch norm after a convolution is folded into it, and a ReLU after that is applied as the
    /// convolution writes. Equal to `forward` up to float rounding; keeps no per-layer outputs, so it
    /// is for evaluation and prediction, not for inspecting layers.
    public func infer(_ input: Tensor) -> Tensor {
        var x = input
        var index = 0
        while index < layers.count {
            switch layers[index] {
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
    @discardableResult
    public func backward(_ logitGradient: Tensor, tap: ((Layer, Tensor) -> Void)? = nil) -> Tensor {
        var g = logitGradient
        for layer in layers.reversed() {
            tap?(layer, g)
            if let block = layer as? ResidualBlock {
                block.gradientTap = tap
                g = block.backward(g)
                block.gradientTap = nil
            } else {
                g = layer.backward(g)
            }
        }
        return g
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
        let twin = try! Network(spec: spec, input: inputShape, classes: classCount)
        twin.copyState(from: self)
        return twin
    }
}
