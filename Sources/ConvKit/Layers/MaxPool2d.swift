/// Max pooling over square windows without padding (PyTorch's `MaxPool2d(k, s)`, floor mode).
///
/// Ties go to the first maximum in window order (row by row), as in PyTorch, and the backward pass
/// routes each output's gradient to that one input.
public final class MaxPool2d: Layer {
    public let name: String
    public var kind: LayerKind { .maxpool }
    public let inputShape: FeatureShape
    public let outputShape: FeatureShape
    public let geometry: SpatialGeometry
    public var computesInputGradient = true
    public private(set) var lastOutput: Tensor?

    private let output = FloatBuffer()
    private let inputGradient = FloatBuffer()
    private var input: Tensor?

    public init(name: String, input: FeatureShape, kernel: Int, stride: Int) {
        self.name = name
        inputShape = input
        geometry = SpatialGeometry(kernel: kernel, stride: stride, padding: 0)
        outputShape = FeatureShape(
            channels: input.channels, height: geometry.outputSize(input.height), width: geometry.outputSize(input.width))
    }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        input = x
        let y = output.tensor(batch: x.batch, shape: outputShape)
        let c = inputShape.channels, w = inputShape.width
        let oh = outputShape.height, ow = outputShape.width, k = geometry.kernel, s = geometry.stride
        Parallel.forEachRange(x.batch) { images, _ in
            for n in images {
                let src = x.sample(n), dst = y.sample(n)
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let o = dst + (oy * ow + ox) * c
                        o.update(from: src + ((oy * s) * w + ox * s) * c, count: c)
                        for ky in 0..<k {
                            for kx in 0..<k where ky != 0 || kx != 0 {
                                let i = src + ((oy * s + ky) * w + ox * s + kx) * c
                                for ch in 0..<c { o[ch] = i[ch] > o[ch] ? i[ch] : o[ch] }
                            }
                        }
                    }
                }
            }
        }
        lastOutput = y
        return y
    }

    /// Routes each output's gradient to the first input of its window (in row order) that equals the
    /// maximum, which is the input the forward pass picked.
    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input, let y = lastOutput else { preconditionFailure("\(name): backward before forward") }
        guard computesInputGradient else { return .empty(inputShape) }
        let dx = inputGradient.tensor(batch: x.batch, shape: inputShape)
        let c = inputShape.channels, w = inputShape.width
        let oh = outputShape.height, ow = outputShape.width, k = geometry.kernel, s = geometry.stride
        Parallel.forEachRange(x.batch) { images, _ in
            var routed = [Bool](repeating: false, count: c)
            for n in images {
                let src = x.sample(n), out = y.sample(n), g = dy.sample(n), d = dx.sample(n)
                d.update(repeating: 0, count: inputShape.count)
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let o = (oy * ow + ox) * c
                        for ch in 0..<c { routed[ch] = false }
                        for ky in 0..<k {
                            for kx in 0..<k {
                                let i = ((oy * s + ky) * w + ox * s + kx) * c
                                for ch in 0..<c where !routed[ch] && src[i + ch] == out[o + ch] {
                                    d[i + ch] += g[o + ch]
                                    routed[ch] = true
                                }
                            }
                        }
                    }
                }
            }
        }
        return dx
    }
}
