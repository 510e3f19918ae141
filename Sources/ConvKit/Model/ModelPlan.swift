/// The layers a `ModelSpec` describes, worked out without building them: names, input and output shapes
/// and parameter counts, with every shape checked.
///
/// `Network` builds its layers from a plan, so the two never disagree; `MemoryEstimate` reads a plan to
/// size a model before anything is allocated (a spec's weights alone can be larger than the machine).
public struct ModelPlan: Sendable {
    /// One top-level layer.
    public struct Layer: Sendable {
        /// Position in the spec (0-based) and the token as written.
        public let index: Int
        public let token: ModelSpec.Token
        /// The name the built layer gets (`conv1`, `res3`).
        public let name: String
        public let inputShape: FeatureShape
        public let outputShape: FeatureShape
        /// Whether a convolution has a bias (none when batch norm follows).
        public let hasBias: Bool
        /// Trainable scalars (of a residual block: of all its sublayers), saturating at `Int.max`.
        public let parameterCount: Int
    }

    public let spec: ModelSpec
    public let inputShape: FeatureShape
    public let layers: [Layer]

    /// Plans `spec` for `input`-shaped samples, checking that every shape works out and that the network
    /// ends in `classes` scores; the errors point at the offending token.
    public init(spec: ModelSpec, input: FeatureShape = .cifarImage, classes: Int = 10) throws(ModelSpecError) {
        self.spec = spec
        inputShape = input
        var layers: [Layer] = []
        var shape = input
        var counts: [LayerKind: Int] = [:]
        for (index, token) in spec.tokens.enumerated() {
            let kind = token.operation.kind
            counts[kind, default: 0] += 1
            let name = "\(kind.rawValue)\(counts[kind]!)"
            func fail(_ reason: String) -> ModelSpecError {
                ModelSpecError(tokenIndex: index, token: token.text, reason: reason)
            }
            func requireSpatial() throws(ModelSpecError) {
                guard !shape.isFlat else {
                    throw fail("needs a feature map but gets a flat vector of \(shape.count) (after gap, flatten or fc)")
                }
            }
            func requireFits(_ geometry: SpatialGeometry) throws(ModelSpecError) -> FeatureShape {
                let h = geometry.outputSize(shape.height), w = geometry.outputSize(shape.width)
                guard h >= 1 && w >= 1 && shape.height + 2 * geometry.padding >= geometry.kernel else {
                    throw fail(
                        "the \(shape.height)x\(shape.width) input is smaller than its \(geometry.kernel)x\(geometry.kernel) window; "
                            + "out = (in - k + 2p)/s + 1 = (\(shape.height) - \(geometry.kernel) + \(2 * geometry.padding))/\(geometry.stride) + 1 < 1")
                }
                return FeatureShape(channels: shape.channels, height: h, width: w)
            }
            let output: FeatureShape
            var hasBias = false
            var parameters = 0
            switch token.operation {
            case let .conv(channels, kernel, stride, padding):
                try requireSpatial()
                let fitted = try requireFits(SpatialGeometry(kernel: kernel, stride: stride, padding: padding))
                output = FeatureShape(channels: channels, height: fitted.height, width: fitted.width)
                hasBias = !(index + 1 < spec.tokens.count && spec.tokens[index + 1].operation == .batchNorm)
                parameters = ModelPlan.sum([ModelPlan.convolution(shape.channels, channels, kernel: kernel), hasBias ? channels : 0])
            case .batchNorm:
                try requireSpatial()
                output = shape
                parameters = ModelPlan.product(2, shape.channels)
            case .activation:
                output = shape
            case let .maxPool(kernel, stride), let .avgPool(kernel, stride):
                try requireSpatial()
                output = try requireFits(SpatialGeometry(kernel: kernel, stride: stride, padding: 0))
            case .globalAvgPool:
                try requireSpatial()
                output = FeatureShape(features: shape.channels)
            case .flatten:
                output = shape.flattened
            case .dropout(_, let channelwise):
                if channelwise { try requireSpatial() }
                output = shape
            case .fc(let features):
                output = FeatureShape(features: features)
                parameters = ModelPlan.sum([ModelPlan.product(features, shape.channels, shape.height, shape.width), features])
            case let .residual(channels, stride, middle):
                try requireSpatial()
                let fitted = try requireFits(SpatialGeometry(kernel: 3, stride: stride, padding: 1))
                output = FeatureShape(channels: channels, height: fitted.height, width: fitted.width)
                let shortcut = ModelPlan.hasShortcut(input: shape, channels: channels, stride: stride)
                parameters = ModelPlan.sum([
                    ModelPlan.convolution(shape.channels, middle, kernel: 3), ModelPlan.product(2, middle),
                    ModelPlan.convolution(middle, channels, kernel: 3), ModelPlan.product(2, channels),
                    shortcut ? ModelPlan.convolution(shape.channels, channels, kernel: 1) : 0,
                    shortcut ? ModelPlan.product(2, channels) : 0,
                ])
            }
            layers.append(
                Layer(index: index, token: token, name: name, inputShape: shape, outputShape: output, hasBias: hasBias,
                      parameterCount: parameters))
            shape = output
        }
        guard shape.isFlat && shape.count == classes else {
            throw ModelSpecError(
                tokenIndex: nil, token: "",
                reason: "the network must end in \(classes) class scores (for example gap,fc\(classes)), "
                    + "but its output is \(shape.isFlat ? "a vector of \(shape.count)" : "a \(shape) feature map")")
        }
        self.layers = layers
    }

    /// Trainable scalars of the whole model, saturating at `Int.max`.
    public var parameterCount: Int { ModelPlan.sum(layers.map(\.parameterCount)) }

    /// Whether a residual block needs a projection shortcut (1x1 convolution and batch norm).
    static func hasShortcut(input: FeatureShape, channels: Int, stride: Int) -> Bool {
        stride != 1 || input.channels != channels
    }

    /// Weights of a `kernel` x `kernel` convolution from `inputs` to `outputs` channels.
    static func convolution(_ inputs: Int, _ outputs: Int, kernel: Int) -> Int { product(outputs, kernel, kernel, inputs) }

    /// The product of `factors`, or `Int.max` when it does not fit: a spec's numbers can be absurd, and
    /// sizing one must not trap.
    static func product(_ factors: Int...) -> Int {
        var result = 1
        for factor in factors {
            let (value, overflow) = result.multipliedReportingOverflow(by: factor)
            if overflow { return .max }
            result = value
        }
        return result
    }

    /// The sum of `terms`, or `Int.max` when it does not fit.
    static func sum(_ terms: [Int]) -> Int {
        var result = 0
        for term in terms {
            let (value, overflow) = result.addingReportingOverflow(term)
            if overflow { return .max }
            result = value
        }
        return result
    }
}
