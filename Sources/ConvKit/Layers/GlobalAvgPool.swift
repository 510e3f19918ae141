/// Global average pooling (`gap`): the mean of each channel over all positions, giving a flat
/// vector of `channels` features per sample. The head CAM needs: `gap` then `fc`.
public final class GlobalAvgPool: Layer {
    public let name: String
    public var kind: LayerKind { .gap }
    public let inputShape: FeatureShape
    public let outputShape: FeatureShape
    public var computesInputGradient = true
    public private(set) var lastOutput: Tensor?

    private let output = FloatBuffer()
    private let inputGradient = FloatBuffer()
    private var input: Tensor?

    public init(name: String, input: FeatureShape) {
        self.name = name
        inputShape = input
        outputShape = FeatureShape(features: input.channels)
    }

    public var geometry: SpatialGeometry {
        SpatialGeometry(kernel: max(inputShape.height, inputShape.width), stride: 1, padding: 0)
    }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        input = x
        let y = output.tensor(batch: x.batch, shape: outputShape)
        let c = inputShape.channels, positions = inputShape.spatialCount
        let scale = 1 / Float(positions)
        for n in 0..<x.batch {
            let src = x.sample(n), dst = y.sample(n)
            dst.update(repeating: 0, count: c)
            for p in 0..<positions {
                let row = src + p * c
                for ch in 0..<c { dst[ch] += row[ch] }
            }
            for ch in 0..<c { dst[ch] *= scale }
        }
        lastOutput = y
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("\(name): backward before forward") }
        guard computesInputGradient else { return .empty(inputShape) }
        let dx = inputGradient.tensor(batch: x.batch, shape: inputShape)
        let c = inputShape.channels, positions = inputShape.spatialCount
        let scale = 1 / Float(positions)
        for n in 0..<x.batch {
            let g = dy.sample(n), d = dx.sample(n)
            for p in 0..<positions {
                let row = d + p * c
                for ch in 0..<c { row[ch] = g[ch] * scale }
            }
        }
        return dx
    }
}
