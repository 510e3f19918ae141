/// The shape of one sample's features as it flows between layers: channels x height x width, or a flat vector.
///
/// Spatial tensors are stored channels-last (NHWC): the channels of one pixel sit next to each other,
/// which turns convolutions into matrix products without transposes. A flat vector of `n` features is
/// stored as `channels = n`, `height = width = 1`, so the same memory layout serves both.
public struct FeatureShape: Hashable, Sendable, CustomStringConvertible {
    public var channels: Int
    public var height: Int
    public var width: Int
    /// True after `gap`, `flatten` or `fc`: the sample is a vector, not an image.
    public var isFlat: Bool

    public init(channels: Int, height: Int, width: Int) {
        self.channels = channels
        self.height = height
        self.width = width
        isFlat = false
    }

    public init(features: Int) {
        channels = features
        height = 1
        width = 1
        isFlat = true
    }

    /// The same elements seen as a flat vector, keeping the channels x height x width it came from
    /// (an `fc` after `flatten` needs them to store its weights in PyTorch's order).
    public var flattened: FeatureShape {
        var shape = self
        shape.isFlat = true
        return shape
    }

    /// Elements per sample.
    public var count: Int { channels * height * width }
    /// Pixels per channel.
    public var spatialCount: Int { height * width }

    /// `3x32x32` for images (PyTorch's C x H x W order, as users know it), `10` for vectors.
    public var description: String { isFlat ? "\(count)" : "\(channels)x\(height)x\(width)" }

    /// The CIFAR-10 input: 3 colour channels of 32 x 32 pixels.
    public static let cifarImage = FeatureShape(channels: 3, height: 32, width: 32)
}
