/// Looks inside a network for one image at a time: every layer's output, filters, statistics and
/// class-activation maps.
///
/// The inspector runs in inference mode (batch-norm running statistics and dropout untouched) on a
/// network it owns, normally a copy of the trainer's taken at a snapshot, so that nothing it does
/// disturbs training.
public final class Inspector {
    public let network: Network
    /// Class scores of the latest image.
    public private(set) var logits: [Float] = []
    /// The latest image (a batch of 1, normalised).
    public private(set) var image: Tensor?

    /// Inspects `network` itself; pass a copy (`network.copy()`) of one that is training.
    public init(network: Network) {
        self.network = network
    }

    /// Runs one normalised image (a batch of 1) through the network, keeping every layer's output.
    @discardableResult
    public func run(_ image: Tensor) -> [Float] {
        precondition(image.batch == 1, "the inspector looks at one image at a time")
        self.image = image
        logits = network.forward(image, mode: .inference).array
        return logits
    }

    /// The predicted class of the latest image.
    public var predictedClass: Int { logits.indices.max { logits[$0] < logits[$1] } ?? 0 }

    /// Layers whose output is a feature map, top-level layers and block insides, in order.
    public var spatialLayers: [Layer] { network.allLayers.filter { !$0.outputShape.isFlat } }

    /// Grad-CAM's default layer: the last top-level layer with a spatial output.
    public var defaultLayer: Layer? { network.layers.last { !$0.outputShape.isFlat } }

    public func layer(named name: String) throws(InterpretError) -> Layer {
        guard let layer = network.layer(named: name) else {
            throw .unknownLayer(name, available: network.allLayers.map(\.name))
        }
        return layer
    }

    /// The output of `layer` for the latest image.
    public func featureMaps(layer name: String) throws(InterpretError) -> FeatureMaps {
        let layer = try layer(named: name)
        guard let output = layer.lastOutput else { throw .noImage }
        return FeatureMaps(layer: name, output: output)
    }

    /// The layer CAM reads and the `fc` that weighs it, when the head is `gap` then `fc`.
    public func camHead() throws(InterpretError) -> (features: Layer, fc: Linear) {
        let layers = network.layers
        guard let gapIndex = layers.lastIndex(where: { $0.kind == .gap }), gapIndex > 0 else { throw .camNeedsGlobalPooling }
        let tail = layers[(gapIndex + 1)...].filter { $0.kind != .dropout && $0.kind != .flatten }
        guard tail.count == 1, let fc = tail.first as? Linear else { throw .camNeedsGlobalPooling }
        return (layers[gapIndex - 1], fc)
    }

    /// The class-activation map of the latest image.
    ///
    /// - Parameters:
    ///   - name: the layer; nil picks the last spatial layer (CAM always uses the layer feeding `gap`).
    ///   - classIndex: the class; nil picks the predicted one.
    ///   - progress: called as Score-CAM and Ablation-CAM go; returning false cancels them.
    public func activationMap(
        layer name: String? = nil, classIndex: Int? = nil, method: ActivationMapMethod = .gradCAM,
        progress: ExplanationProgress? = nil
    ) throws(InterpretError) -> ActivationMap {
        guard image != nil else { throw .noImage }
        let target = classIndex ?? predictedClass
        guard logits.indices.contains(target) else { throw .classOutOfRange(target, classes: logits.count) }
        if method == .cam { return try classActivationMap(classIndex: target, requestedLayer: name) }
        let layer = try spatialLayer(name)
        guard let output = layer.lastOutput else { throw .noImage }
        let shape = layer.outputShape
        // Later passes reuse the layer's output buffer: work on a copy.
        let activations = output.array
        let map: [Float]
        switch method {
        case .scoreCAM:
            let weights = try scoreCAMWeights(activations: activations, shape: shape, classIndex: target, progress: progress)
            map = ActivationMap.weighted(activations, weights: weights, positions: shape.spatialCount, channels: shape.channels)
        case .ablationCAM:
            let weights = try ablationCAMWeights(layer: layer, activations: activations, classIndex: target, progress: progress)
            map = ActivationMap.weighted(activations, weights: weights, positions: shape.spatialCount, channels: shape.channels)
        case .eigenCAM:
            map = PrincipalComponent.projection(activations, rows: shape.spatialCount, columns: shape.channels).map { max($0, 0) }
        default:
            let gradients = try layerGradient(layer, classIndex: target)
            map = activations.withUnsafeBufferPointer { a in
                gradients.withUnsafeBufferPointer { g in
                    ActivationMap.combine(
                        method: method, activations: a.baseAddress!, gradients: g.baseAddress!,
                        positions: shape.spatialCount, channels: shape.channels)
                }
            }
        }
        return ActivationMap(
            layer: layer.name, classIndex: target, method: method, width: shape.width, height: shape.height,
            values: map, logits: logits)
    }

    /// The named layer, or the default one, when it has a spatial output.
    func spatialLayer(_ name: String?) throws(InterpretError) -> Layer {
        let chosen: Layer?
        if let name { chosen = try self.layer(named: name) } else { chosen = defaultLayer }
        guard let layer = chosen, layer.lastOutput != nil else { throw .noSpatialLayer }
        guard !layer.outputShape.isFlat else { throw .notSpatial(layer.name) }
        return layer
    }

    /// `d logit_c / d(output of layer)` for the latest image, channels-last.
    func layerGradient(_ layer: Layer, classIndex: Int) throws(InterpretError) -> [Float] {
        // d(logit_c)/d(logits) is one-hot: back-propagate it and catch the gradient at the layer.
        let seed = Tensor(zeros: 1, FeatureShape(features: logits.count))
        seed.pointer[classIndex] = 1
        var captured: [Float]?
        network.backward(seed) { tapped, gradient in
            if tapped === layer { captured = gradient.array }
        }
        guard let gradients = captured else { throw .notSpatial(layer.name) }
        return gradients
    }

    /// Any method's explanation of the latest image.
    public func explain(
        _ method: ExplanationMethod, layer: String? = nil, classIndex: Int? = nil, options: AttributionOptions = AttributionOptions(),
        progress: ExplanationProgress? = nil
    ) throws(InterpretError) -> Explanation {
        switch method {
        case .activation(let method):
            return .activation(try activationMap(layer: layer, classIndex: classIndex, method: method, progress: progress))
        case .pixel(let method):
            return .pixel(try pixelAttribution(method, layer: layer, classIndex: classIndex, options: options, progress: progress))
        }
    }

    /// CAM straight from the head's weights: `ReLU(sum_k w_k^c A_k)`, no gradients involved.
    private func classActivationMap(classIndex: Int, requestedLayer: String?) throws(InterpretError) -> ActivationMap {
        let (features, fc) = try camHead()
        if let requestedLayer, requestedLayer != features.name { throw .camLayer(requestedLayer, required: features.name) }
        guard let activations = features.lastOutput else { throw .noImage }
        let shape = features.outputShape, channels = shape.channels
        let weights = Array(UnsafeBufferPointer(start: fc.weight.value.base + classIndex * channels, count: channels))
        let map = ActivationMap.weighted(activations.pointer, weights: weights, positions: shape.spatialCount, channels: channels)
        return ActivationMap(
            layer: features.name, classIndex: classIndex, method: .cam, width: shape.width, height: shape.height,
            values: map, logits: logits)
    }
}

/// Why an interpretation request cannot be answered.
public enum InterpretError: Error, CustomStringConvertible, Equatable {
    case unknownLayer(String, available: [String])
    case notSpatial(String)
    case noSpatialLayer
    case camNeedsGlobalPooling
    case camLayer(String, required: String)
    case classOutOfRange(Int, classes: Int)
    case channelOutOfRange(Int, layer: String, channels: Int)
    case noImage
    case unknownMethod(String)
    case invalidOption(String)
    case ablationInsideBlock(String, block: String)
    case cancelled

    public var description: String {
        switch self {
        case let .unknownLayer(name, available):
            return "no layer named '\(name)'; layers: \(available.joined(separator: ", "))"
        case .notSpatial(let name):
            return "layer '\(name)' has no spatial output (it is a flat vector); pick a conv, pool, activation or res layer"
        case .noSpatialLayer:
            return "the model has no layer with a spatial output"
        case .camNeedsGlobalPooling:
            return "CAM needs global average pooling: the model must end in gap then fc; use --method gradcam, which works on any model"
        case let .camLayer(name, required):
            return "CAM is defined at the layer that feeds gap ('\(required)'), not at '\(name)'; use --method gradcam for other layers"
        case let .classOutOfRange(index, classes):
            return "class \(index) is out of range: the model has \(classes) classes (0-\(classes - 1))"
        case let .channelOutOfRange(index, layer, channels):
            return "channel \(index) is out of range: layer '\(layer)' has \(channels) channels (0-\(channels - 1))"
        case .noImage:
            return "no image has been run through the inspector yet"
        case .unknownMethod(let name):
            return "unknown method '\(name)'; methods: \(ExplanationMethod.allCases.map(\.rawValue).joined(separator: ", ")) or all"
        case .invalidOption(let reason):
            return reason
        case let .ablationInsideBlock(name, block):
            return "Ablation-CAM replaces a top-level layer's output; '\(name)' is inside block '\(block)': pick '\(block)' or another top-level layer"
        case .cancelled:
            return "cancelled"
        }
    }
}
