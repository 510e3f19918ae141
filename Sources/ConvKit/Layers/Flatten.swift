/// Turns each sample's feature map into a flat vector without moving memory.
///
/// The vector is in channels-last order (height, width, channel); an `fc` that follows stores its
/// weights in the same order and converts to PyTorch's (channel, height, width) order in checkpoints.
public final class Flatten: Layer {
    public let name: String
    public var kind: LayerKind { .flatten }
    public let inputShape: FeatureShape
    public let outputShape: FeatureShape
    public var computesInputGradient = true
    public private(set) var lastOutput: Tensor?

    public init(name: String, input: FeatureShape) {
        self.name = name
        inputShape = input
        outputShape = input.flattened
    }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        let y = x.reshaped(outputShape)
        lastOutput = y
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        computesInputGradient ? dy.reshaped(inputShape) : .empty(inputShape)
    }
}
