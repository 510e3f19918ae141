/// A pixel attribution of one image: a signed (or, for saliency, absolute) value per input pixel and
/// colour channel, with respect to the normalised input.
public struct PixelAttribution: Sendable {
    public let method: PixelAttributionMethod
    public let classIndex: Int
    /// The layer Guided Grad-CAM read; nil for the others.
    public let layer: String?
    public let width: Int
    public let height: Int
    public let channels: Int
    /// Channels-last `height x width x channels`, as the engine stores images.
    public let attribution: [Float]
    /// The network's raw class scores for the image.
    public let logits: [Float]
    /// Integrated Gradients: `sum(attribution) - (logit(x) - logit(baseline))` (Captum's convergence delta).
    public let completenessGap: Float?
    /// What is drawn, row-major `height x width`: the channels summed at each pixel (Captum's
    /// `visualize_image_attr`), or for Occlusion and RISE, whose channels all carry the same value, that value.
    public let map: [Float]

    public init(
        method: PixelAttributionMethod, classIndex: Int, layer: String? = nil, width: Int, height: Int, channels: Int,
        attribution: [Float], logits: [Float], completenessGap: Float? = nil
    ) {
        precondition(attribution.count == width * height * channels)
        self.method = method
        self.classIndex = classIndex
        self.layer = layer
        self.width = width
        self.height = height
        self.channels = channels
        self.attribution = attribution
        self.logits = logits
        self.completenessGap = completenessGap
        let uniform = method == .occlusion || method == .rise
        map = (0..<(width * height)).map { p in
            uniform ? attribution[p * channels] : (0..<channels).reduce(Float(0)) { $0 + attribution[p * channels + $1] }
        }
    }

    /// The attribution as Captum returns it: channels first, `channels x height x width`.
    public var channelsFirst: [[[Float]]] {
        (0..<channels).map { c in
            (0..<height).map { y in (0..<width).map { x in attribution[(y * width + x) * channels + c] } }
        }
    }

    /// Rows of `map` (for JSON output).
    public var mapRows: [[Float]] {
        let values = map
        return (0..<height).map { Array(values[($0 * width)..<(($0 + 1) * width)]) }
    }
}

/// One explanation of one image, whatever the method: the common face faithfulness scores, sanity
/// checks and the app use.
public enum Explanation: Sendable {
    case activation(ActivationMap)
    case pixel(PixelAttribution)

    public var method: ExplanationMethod {
        switch self {
        case .activation(let map): return .activation(map.method)
        case .pixel(let attribution): return .pixel(attribution.method)
        }
    }

    public var classIndex: Int {
        switch self {
        case .activation(let map): return map.classIndex
        case .pixel(let attribution): return attribution.classIndex
        }
    }

    /// The map scaled as the front ends colour it, at `size` x `size`, before the colours: CAM maps and
    /// unsigned pixel maps min-max scaled to [0, 1], signed pixel maps divided by their largest magnitude
    /// (-1...1, zero stays zero). What diff mode subtracts (`ExplanationBoard.change(since:)`), so that a
    /// map that only grew or shrank as a whole shows no change.
    public func scaledMap(size: Int) -> HeatMap {
        switch self {
        case .activation(let map):
            return HeatMap(width: map.width, height: map.height, values: map.normalized).resizedBilinear(width: size, height: size)
        case .pixel(let attribution):
            let map = HeatMap(width: attribution.width, height: attribution.height, values: attribution.map)
            let scaled = attribution.method.isSigned ? map.signedNormalized().mapped { 2 * $0 - 1 } : map.normalized()
            return scaled.resizedBilinear(width: size, height: size)
        }
    }

    /// The map at the input's resolution (`width x height`): CAM maps upsampled bilinearly as
    /// pytorch-grad-cam does, pixel maps as they are. Ranks pixels for the faithfulness scores.
    public func map(width: Int, height: Int) -> [Float] {
        switch self {
        case .activation(let map):
            if map.width == width && map.height == height { return map.values }
            return HeatMap(width: map.width, height: map.height, values: map.values).resizedBilinear(width: width, height: height).values
        case .pixel(let attribution):
            precondition(attribution.width == width && attribution.height == height)
            return attribution.map
        }
    }
}
