/// Average pooling over square windows without padding (PyTorch's `AvgPool2d(k, s)`): each output is
/// the mean of its `k * k` inputs.
public final class AvgPool2d: Layer {
    public let name: String
    public var kind: LayerKind { .avgpool }
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
        let scale = 1 / Float(k * k)
        Parallel.forEachRange(x.batch) { images, _ in
            for n in images {
                let src = x.sample(n), dst = y.sample(n)
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let o = dst + (oy * ow + ox) * c
                        o.update(repeating: 0, count: c)
                        for ky in 0..<k {
                            for kx in 0..<k {
                                let i = src + ((oy * s + ky) * w + ox * s + kx) * c
                                for ch in 0..<c { o[ch] += i[ch] }
                            }
                        }
                        for ch in 0..<c { o[ch] *= scale }
                    }
                }
            }
        }
        lastOutput = y
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("\(name): backward before forward") }
        guard computesInputGradient else { return .empty(inputShape) }
        let dx = inputGradient.tensor(batch: x.batch, shape: inputShape)
        let c = inputShape.channels, w = inputShape.width
        let oh = outputShape.height, ow = outputShape.width, k = geometry.kernel, s = geometry.stride
        let scale = 1 / Float(k * k)
        Parallel.forEachRange(x.batch) { images, _ in
            for n in images {
                let g = dy.sample(n), d = dx.sample(n)
                d.update(repeating: 0, count: inputShape.count)
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let go = g + (oy * ow + ox) * c
                        for ky in 0..<k {
                            for kx in 0..<k {
                                let i = d + ((oy * s + ky) * w + ox * s + kx) * c
                                for ch in 0..<c { i[ch] += go[ch] * scale }
                            }
                        }
                    }
                }
            }
        }
        return dx
    }
}
