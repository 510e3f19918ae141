/// The filters of a convolution layer, ready to draw, with the gradient each weight got in the last
/// training step (as ConvNetJS shows them).
///
/// A filter of the first layer spans the three colour channels and is shown as an RGB patch; deeper
/// filters span many channels and are shown one input channel at a time, or averaged over them.
public struct FilterBank: Sendable {
    public let layer: String
    public let outChannels: Int
    public let inChannels: Int
    public let kernel: Int
    /// PyTorch order: `[out][in][ky][kx]`.
    public let weights: [Float]
    public let gradients: [Float]

    public init(_ conv: Conv2d) {
        layer = conv.name
        outChannels = conv.outputShape.channels
        inChannels = conv.inputShape.channels
        kernel = conv.geometry.kernel
        weights = conv.weight.layout.toTorch(UnsafeBufferPointer(conv.weight.values))
        gradients = conv.weight.layout.toTorch(UnsafeBufferPointer(conv.weight.gradients))
    }

    /// Kernel x kernel plane of filter `out` for input channel `channel`, row-major.
    public func plane(out: Int, channel: Int, gradient: Bool = false) -> ArraySlice<Float> {
        let size = kernel * kernel
        let start = (out * inChannels + channel) * size
        return (gradient ? gradients : weights)[start..<(start + size)]
    }

    /// Filter `out` averaged over its input channels.
    public func averagePlane(out: Int, gradient: Bool = false) -> [Float] {
        var plane = [Float](repeating: 0, count: kernel * kernel)
        for c in 0..<inChannels {
            for (i, v) in self.plane(out: out, channel: c, gradient: gradient).enumerated() { plane[i] += v / Float(inChannels) }
        }
        return plane
    }

    /// Whether filters can be shown as colour patches (the first layer of an RGB network).
    public var isRGB: Bool { inChannels == 3 }

    public var weightStatistics: ValueStatistics { ValueStatistics(weights) }
    public var gradientStatistics: ValueStatistics { ValueStatistics(gradients) }
}
