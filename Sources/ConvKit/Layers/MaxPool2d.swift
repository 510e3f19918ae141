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
    /// For each output element, the index (within its sample) of the input that won.
    private var winners: [Int32] = []
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
        if winners.count < y.count { winners = [Int32](repeating: 0, count: y.count) }
        let c = inputShape.channels, w = inputShape.width
        let oh = outputShape.height, ow = outputShape.width, k = geometry.kernel, s = geometry.stride
        let outCount = outputShape.count
        winners.withUnsafeMutableBufferPointer { winners in
            let winners = winners.baseAddress!
            Parallel.forEachRange(x.batch) { images, _ in
                for n in images {
                    let src = x.sample(n), dst = y.sample(n), win = winners + n * outCount
                    for oy in 0..<oh {
                        for ox in 0..<ow {
                            let o = (oy * ow + ox) * c
                            let first = ((oy * s) * w + ox * s) * c
                            for ch in 0..<c {
                                dst[o + ch] = src[first + ch]
                                win[o + ch] = Int32(first + ch)
                            }
                            for ky in 0..<k {
                                for kx in 0..<k where ky != 0 || kx != 0 {
                                    let i = ((oy * s + ky) * w + ox * s + kx) * c
                                    for ch in 0..<c where src[i + ch] > dst[o + ch] || src[i + ch].isNaN {
                                        dst[o + ch] = src[i + ch]
                                        win[o + ch] = Int32(i + ch)
                                    }
                                }
                            }
                        }
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
        let inCount = inputShape.count, outCount = outputShape.count
        winners.withUnsafeBufferPointer { winners in
            let winners = winners.baseAddress!
            Parallel.forEachRange(x.batch) { images, _ in
                for n in images {
                    let g = dy.sample(n), d = dx.sample(n), win = winners + n * outCount
                    d.update(repeating: 0, count: inCount)
                    for o in 0..<outCount { d[Int(win[o])] += g[o] }
                }
            }
        }
        return dx
    }
}
