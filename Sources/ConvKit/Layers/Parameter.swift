/// A trainable tensor: its values, the gradient from the latest backward pass, and how to store it.
public final class Parameter {
    /// Full name as in a PyTorch `state_dict`: `conv1.weight`, `res1.bn2.bias`.
    public let name: String
    public let value: FloatBuffer
    public let gradient: FloatBuffer
    public let count: Int
    /// How the values map to PyTorch's layout (shape and element order).
    public let layout: TensorLayout
    /// Whether weight decay applies: by default true for conv and fc weights, false for biases and
    /// batch norm (`--recipe airbench` decays batch-norm biases too, as airbench does).
    public var decays: Bool
    /// A factor on the learning rate of this parameter but not on its weight decay, which stays
    /// `rate * weightDecay` per step (airbench trains batch-norm biases at 64x the rate).
    public var rateScale: Float = 1
    /// Conv and fc weights (two or more dimensions), as opposed to biases and batch-norm vectors.
    public var isWeight: Bool { layout.torchShape.count >= 2 }
    /// For a convolution weight, its number of filters (output channels); nil for other parameters.
    public var filterCount: Int? {
        if case let .convolution(outChannels, _, _) = layout { return outChannels }
        return nil
    }
    /// A pruning mask (1 keeps, 0 prunes), applied after every optimiser step when present.
    public var mask: FloatBuffer?
    /// Frozen parameters keep their values: the optimiser skips them (a patch-whitening layer).
    public var isFrozen = false

    public init(name: String, count: Int, layout: TensorLayout, decays: Bool, initial: Float = 0) {
        precondition(layout.count == count, "layout does not cover the parameter")
        self.name = name
        self.count = count
        self.layout = layout
        self.decays = decays
        value = FloatBuffer(capacity: count)
        gradient = FloatBuffer(capacity: count)
        if initial != 0 { value.base.update(repeating: initial, count: count) }
    }

    /// The values as a buffer pointer.
    public var values: UnsafeMutableBufferPointer<Float> { value.prefix(count) }
    /// The gradient as a buffer pointer.
    public var gradients: UnsafeMutableBufferPointer<Float> { gradient.prefix(count) }

    /// Zeroes the values the mask prunes.
    public func applyMask() {
        guard let mask else { return }
        for i in 0..<count { value.base[i] *= mask.base[i] }
    }
}

/// How a parameter's internal element order relates to PyTorch's, for checkpoints and views.
///
/// ConvScope keeps activations channels-last, so convolution weights are stored output x kernel-row x
/// kernel-column x input channel (OHWI) and the weights of an `fc` that follows a spatial tensor are
/// ordered height x width x channel. Checkpoints always hold PyTorch's order (OIHW, and C x H x W).
public enum TensorLayout: Sendable, Equatable {
    /// Same order as PyTorch, with this PyTorch shape.
    case plain([Int])
    /// Convolution weight, stored OHWI, PyTorch shape [out, in, kernel, kernel].
    case convolution(outChannels: Int, inChannels: Int, kernel: Int)
    /// Linear weight after a spatial input: stored [out][h][w][c], PyTorch [out, c*h*w] in c,h,w order.
    case linearAfterSpatial(outFeatures: Int, channels: Int, height: Int, width: Int)

    /// The PyTorch shape.
    public var torchShape: [Int] {
        switch self {
        case .plain(let shape): return shape
        case let .convolution(o, i, k): return [o, i, k, k]
        case let .linearAfterSpatial(o, c, h, w): return [o, c * h * w]
        }
    }

    public var count: Int { torchShape.reduce(1, *) }

    /// For each PyTorch-order index, the internal index holding that element.
    public func internalIndex(ofTorchIndex t: Int) -> Int {
        switch self {
        case .plain:
            return t
        case let .convolution(_, inC, k):
            let perOut = inC * k * k
            let o = t / perOut, r = t % perOut
            let i = r / (k * k), ky = (r % (k * k)) / k, kx = r % k
            return o * perOut + (ky * k + kx) * inC + i
        case let .linearAfterSpatial(_, c, h, w):
            let perOut = c * h * w
            let o = t / perOut, r = t % perOut
            let ch = r / (h * w), y = (r % (h * w)) / w, x = r % w
            return o * perOut + (y * w + x) * c + ch
        }
    }

    /// `values` (internal order) rearranged into PyTorch order.
    public func toTorch(_ values: UnsafeBufferPointer<Float>) -> [Float] {
        if case .plain = self { return Array(values) }
        return (0..<count).map { values[internalIndex(ofTorchIndex: $0)] }
    }

    /// Writes `torch` (PyTorch order) into `values` (internal order).
    public func fromTorch(_ torch: [Float], into values: UnsafeMutableBufferPointer<Float>) {
        precondition(torch.count == count)
        for t in 0..<count { values[internalIndex(ofTorchIndex: t)] = torch[t] }
    }
}

/// Something a checkpoint stores: a parameter, a running statistic, or a counter.
public struct StateTensor {
    /// The storage behind a state tensor.
    public enum Content {
        case float(FloatBuffer, TensorLayout)
        case int64(Counter)
    }

    public let name: String
    public let content: Content

    public init(name: String, content: Content) {
        self.name = name
        self.content = content
    }

    public init(parameter: Parameter) {
        self.init(name: parameter.name, content: .float(parameter.value, parameter.layout))
    }

    public var torchShape: [Int] {
        switch content {
        case .float(_, let layout): return layout.torchShape
        case .int64: return []
        }
    }
}

/// A mutable integer shared by reference (batch norm's `num_batches_tracked`).
public final class Counter {
    public var value: Int64
    public init(_ value: Int64 = 0) { self.value = value }
}
