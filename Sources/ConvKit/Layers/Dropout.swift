/// Inverted dropout: in training, zeroes each element (`dropout`) or each whole channel of a sample
/// (`dropout2d`) with probability `p` and scales the survivors by `1 / (1 - p)`; identity in inference.
public final class Dropout: Layer {
    public let name: String
    public let kind: LayerKind
    public let probability: Float
    public let inputShape: FeatureShape
    public var outputShape: FeatureShape { inputShape }
    public var computesInputGradient = true
    public private(set) var lastOutput: Tensor?
    /// Keeps the current mask for further training passes (used to check gradients with a fixed mask).
    public var freezesMask = false
    /// The random stream masks are drawn from.
    public var random: RandomSource

    /// Per element (`dropout`) or per sample and channel (`dropout2d`): 0 or `1 / (1 - p)`.
    private let mask = FloatBuffer()
    private let output = FloatBuffer()
    private let inputGradient = FloatBuffer()
    private var lastMode = ForwardMode.inference
    private var maskedCount = 0

    public init(name: String, input: FeatureShape, probability: Float, channelwise: Bool, seed: UInt64 = 0) {
        self.name = name
        kind = channelwise ? .dropout2d : .dropout
        self.probability = probability
        inputShape = input
        random = RandomSource(seed: seed)
    }

    private var channelwise: Bool { kind == .dropout2d }
    private var unitsPerSample: Int { channelwise ? inputShape.channels : inputShape.count }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        lastMode = mode
        guard mode == .training, probability > 0 else {
            lastOutput = x
            return x
        }
        let units = x.batch * unitsPerSample
        if !(freezesMask && maskedCount == units) {
            mask.reserve(units)
            let keep = 1 - probability, scale = probability < 1 ? 1 / keep : 0
            for i in 0..<units { mask.base[i] = random.uniform() < probability ? 0 : scale }
            maskedCount = units
        }
        let y = output.tensor(batch: x.batch, shape: inputShape)
        applyMask(x.pointer, y.pointer, batch: x.batch)
        lastOutput = y
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard computesInputGradient else { return .empty(inputShape) }
        guard lastMode == .training, probability > 0 else { return dy }
        let dx = inputGradient.tensor(batch: dy.batch, shape: inputShape)
        applyMask(dy.pointer, dx.pointer, batch: dy.batch)
        return dx
    }

    private func applyMask(_ source: UnsafeMutablePointer<Float>, _ target: UnsafeMutablePointer<Float>, batch: Int) {
        let m = mask.base
        if channelwise {
            let c = inputShape.channels, positions = inputShape.spatialCount
            for n in 0..<batch {
                for p in 0..<positions {
                    let o = (n * positions + p) * c
                    for ch in 0..<c { target[o + ch] = source[o + ch] * m[n * c + ch] }
                }
            }
        } else {
            for i in 0..<batch * inputShape.count { target[i] = source[i] * m[i] }
        }
    }
}
