/// Whether a forward pass is part of training (batch statistics, dropout on) or inference.
public enum ForwardMode: Sendable {
    case training
    case inference
}

/// The kinds of layer the model spec language knows, named as in the spec (`conv`, `bn`, ...).
public enum LayerKind: String, Sendable, CaseIterable {
    case conv, bn, relu, leakyrelu, elu, selu, swish, gelu, sigmoid, tanh
    case maxpool, avgpool, gap, flatten, dropout, dropout2d, fc, res

    /// True for layers whose output is a spatial feature map worth showing as images.
    public var isActivation: Bool {
        switch self {
        case .relu, .leakyrelu, .elu, .selu, .swish, .gelu, .sigmoid, .tanh: return true
        default: return false
        }
    }
}

/// How a window of a layer maps onto its input: used for output sizes and receptive fields.
public struct SpatialGeometry: Sendable, Equatable {
    public var kernel: Int
    public var stride: Int
    public var padding: Int

    public init(kernel: Int, stride: Int, padding: Int) {
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
    }

    /// Layers that keep every pixel where it is (activations, batch norm, dropout).
    public static let pointwise = SpatialGeometry(kernel: 1, stride: 1, padding: 0)

    /// PyTorch's output-size formula, `floor((in - k + 2p) / s) + 1`.
    public func outputSize(_ input: Int) -> Int { (input - kernel + 2 * padding) / stride + 1 }
}

/// One stage of a network: owns its parameters, caches what its backward pass needs, and reuses its
/// output and gradient buffers from step to step.
///
/// `forward` returns a tensor that stays valid until the layer's next `forward`; `backward` must follow
/// the `forward` whose input it differentiates, and returns the gradient with respect to that input
/// (or an empty tensor when `computesInputGradient` is false). Parameter gradients are overwritten,
/// not accumulated, by each backward pass.
public protocol Layer: AnyObject {
    /// The layer's name as shown to users and in checkpoints: `conv1`, `res2.bn1`, ...
    var name: String { get }
    var kind: LayerKind { get }
    var inputShape: FeatureShape { get }
    var outputShape: FeatureShape { get }
    /// Trainable tensors, including those of sublayers.
    var parameters: [Parameter] { get }
    /// Everything a checkpoint stores for this layer (parameters and running statistics), sublayers included.
    var stateTensors: [StateTensor] { get }
    /// Layers nested inside this one (a residual block's convolutions), in forward order.
    var sublayers: [Layer] { get }
    /// How a window of this layer covers its input.
    var geometry: SpatialGeometry { get }
    /// Multiply-adds per sample.
    var multiplyAdds: Int { get }
    /// False for the first layer, whose input gradient nobody needs.
    var computesInputGradient: Bool { get set }
    /// The output of the latest forward pass.
    var lastOutput: Tensor? { get }

    func forward(_ input: Tensor, mode: ForwardMode) -> Tensor
    func backward(_ outputGradient: Tensor) -> Tensor
}

extension Layer {
    public var sublayers: [Layer] { [] }
    public var parameters: [Parameter] { [] }
    public var stateTensors: [StateTensor] { parameters.map(StateTensor.init(parameter:)) }
    public var geometry: SpatialGeometry { .pointwise }
    public var multiplyAdds: Int { 0 }
}

/// A tensor with no elements, returned by `backward` when the input gradient is not needed.
extension Tensor {
    public static func empty(_ shape: FeatureShape) -> Tensor { Tensor(batch: 0, shape: shape, storage: FloatBuffer()) }
}
