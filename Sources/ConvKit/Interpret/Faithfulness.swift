import Foundation

/// How well a map ranks the pixels the model actually uses: the scores of a faithfulness scoreboard
/// for one image and one class. Every score uses the class's softmax probability.
public struct FaithfulnessScores: Sendable, Equatable, Codable {
    /// Area under the probability curve as the most relevant pixels are replaced by the mean colour
    /// (RISE's deletion): lower is better.
    public var deletion: Double
    /// Area under the curve as the most relevant pixels are put back into a blurred image (RISE's
    /// insertion): higher is better.
    public var insertion: Double
    /// ROAD (Rong et al. 2022), most relevant first: the mean probability with 10%, 20% ... 90% of the
    /// pixels removed by noisy linear imputation. Lower is better.
    public var roadMostRelevantFirst: Double
    /// ROAD, least relevant first: higher is better.
    public var roadLeastRelevantFirst: Double
    /// Average Drop's term (Chattopadhay et al. 2018): `max(0, p - p_masked) / p` in percent, the image
    /// multiplied by the map scaled to [0, 1]. Lower is better.
    public var drop: Double
    /// Increase in Confidence's term: 1 when the masked image scores higher than the image, else 0.
    public var increase: Double

    public static let names = ["deletion", "insertion", "road_morf", "road_lerf", "average_drop", "increase_in_confidence"]

    public var values: [Double] { [deletion, insertion, roadMostRelevantFirst, roadLeastRelevantFirst, drop, increase] }

    /// The mean of several images' scores.
    public static func mean(_ all: [FaithfulnessScores]) -> FaithfulnessScores? {
        guard !all.isEmpty else { return nil }
        let n = Double(all.count)
        return columnwise { key in all.map(key).reduce(0, +) / n }
    }

    /// The standard error of each mean over several images (sample standard deviation / sqrt(n)): how far two
    /// rows' means may differ by the choice of images alone. Nil for fewer than two images.
    public static func standardError(_ all: [FaithfulnessScores]) -> FaithfulnessScores? {
        guard all.count >= 2, let mean = mean(all) else { return nil }
        let n = Double(all.count)
        return columnwise { key in
            let centre = key(mean)
            let squares = all.map { (key($0) - centre) * (key($0) - centre) }.reduce(0, +)
            return (squares / (n - 1)).squareRoot() / n.squareRoot()
        }
    }

    /// Scores made of one statistic of each score, `statistic(key)` for every field.
    private static func columnwise(_ statistic: ((FaithfulnessScores) -> Double) -> Double) -> FaithfulnessScores {
        FaithfulnessScores(
            deletion: statistic(\.deletion), insertion: statistic(\.insertion), roadMostRelevantFirst: statistic(\.roadMostRelevantFirst),
            roadLeastRelevantFirst: statistic(\.roadLeastRelevantFirst), drop: statistic(\.drop), increase: statistic(\.increase))
    }
}

/// The maps every method must beat: a method that does no better than an edge detector shows it.
public enum BaselineMap: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Uniform random values (seeded): what ranking by chance scores.
    case random
    /// The gradient magnitude of the image's brightness (3x3 Sobel): an edge detector that knows
    /// nothing about the model.
    case sobel
    /// The same value everywhere: pixels are taken in raster order (top rows first), and Average Drop
    /// sees the unmasked image.
    case constant

    public var description: String { "\(rawValue) (baseline)" }

    /// The map for a channels-last normalised image.
    public func map(image: [Float], width: Int, height: Int, channels: Int, seed: UInt64) -> [Float] {
        switch self {
        case .random:
            var random = RandomSource(seed: seed)
            return (0..<(width * height)).map { _ in random.uniform() }
        case .constant:
            return [Float](repeating: 1, count: width * height)
        case .sobel:
            func brightness(_ x: Int, _ y: Int) -> Float {
                let cx = min(max(x, 0), width - 1), cy = min(max(y, 0), height - 1)
                return (0..<channels).reduce(0) { $0 + image[(cy * width + cx) * channels + $1] } / Float(channels)
            }
            return (0..<(width * height)).map { p in
                let x = p % width, y = p / width
                let gx = brightness(x + 1, y - 1) + 2 * brightness(x + 1, y) + brightness(x + 1, y + 1)
                    - brightness(x - 1, y - 1) - 2 * brightness(x - 1, y) - brightness(x - 1, y + 1)
                let gy = brightness(x - 1, y + 1) + 2 * brightness(x, y + 1) + brightness(x + 1, y + 1)
                    - brightness(x - 1, y - 1) - 2 * brightness(x, y - 1) - brightness(x + 1, y - 1)
                return (gx * gx + gy * gy).squareRoot()
            }
        }
    }
}

/// Computes `FaithfulnessScores` for maps of the inspector's latest image.
public struct FaithfulnessScorer {
    /// Pixels changed per step of the deletion and insertion curves.
    public var pixelsPerStep = 32
    /// The blur of insertion's starting image (pixels).
    public var insertionBlurSigma: Float = 4
    /// ROAD's fractions of pixels removed.
    public var roadFractions: [Double] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    /// ROAD's imputation noise (standard deviation, normalised units), as in the paper's code.
    public var roadNoise: Float = 0.01
    public var seed: UInt64 = 0

    public init() {}

    /// The scores of `map` (one value per pixel, row-major at the input's resolution) for `classIndex`.
    public func scores(
        inspector: Inspector, map: [Float], classIndex: Int, progress: ExplanationProgress? = nil
    ) throws(InterpretError) -> FaithfulnessScores {
        guard let image = inspector.image else { throw .noImage }
        let shape = inspector.network.inputShape, channels = shape.channels, pixels = shape.spatialCount
        precondition(map.count == pixels, "a faithfulness map has one value per input pixel")
        let x = Array(image.elements)
        // Most relevant first; ties (a constant map) in raster order.
        let order = (0..<pixels).sorted { map[$0] != map[$1] ? map[$0] > map[$1] : $0 < $1 }
        let blurred = GaussianBlur.apply(x, width: shape.width, height: shape.height, channels: channels, sigma: insertionBlurSigma)
        let steps = (pixels + pixelsPerStep - 1) / pixelsPerStep
        // Average Drop / Increase: the image times the map scaled to [0, 1] (a flat map keeps the image). It goes
        // first, just before deletion's first image (the image itself, whose probability is the original's): both
        // are scored in one forward pass, in adjacent rows of the first batch. The fully connected layer's OpenBLAS
        // product rounds a batch of one, and rows past the last full block of a batch, differently from rows of one
        // block (up to 1e-6 of a probability measured), so a masked image scored apart from its original could
        // come out a few ulps above it, which Increase's strict `>` counted as a rise. A masked image identical to
        // the image (a flat map, or one lowest only where the image is 0) takes the original's score outright.
        let low = map.min() ?? 0, high = map.max() ?? 0
        let scaled = map.map { high > low ? ($0 - low) / (high - low) : 1 }
        var inputs: [[Float]] = [(0..<x.count).map { x[$0] * scaled[$0 / channels] }]
        // Deletion: 0...steps steps of pixels set to the mean colour (0).
        for step in 0...steps {
            var current = x
            for p in order.prefix(step * pixelsPerStep) { for c in 0..<channels { current[p * channels + c] = 0 } }
            inputs.append(current)
        }
        // Insertion: from the blurred image, the most relevant pixels put back first.
        for step in 0...steps {
            var current = blurred
            for p in order.prefix(step * pixelsPerStep) { for c in 0..<channels { current[p * channels + c] = x[p * channels + c] } }
            inputs.append(current)
        }
        var random = RandomSource(seed: seed)
        for mostRelevantFirst in [true, false] {
            for fraction in roadFractions {
                let count = Int((fraction * Double(pixels)).rounded())
                let removed = mostRelevantFirst ? Array(order.prefix(count)) : Array(order.suffix(count))
                inputs.append(
                    Self.noisyLinearImputation(
                        x, removed: removed, width: shape.width, height: shape.height, channels: channels, noise: roadNoise,
                        random: &random))
            }
        }
        let scores = try inspector.classScores(count: inputs.count, classIndex: classIndex, progress: progress) { i, out in
            inputs[i].withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: $0.count) }
        }
        let probabilities = scores.dropFirst().map { Double(Inspector.softmax($0)[classIndex]) }
        let deletion = Array(probabilities[0...steps]), insertion = Array(probabilities[(steps + 1)...(2 * steps + 1)])
        let road = Array(probabilities[(2 * steps + 2)..<(2 * steps + 2 + 2 * roadFractions.count)])
        let original = deletion[0]
        let masked = inputs[0] == x ? original : Double(Inspector.softmax(scores[0])[classIndex])
        return FaithfulnessScores(
            deletion: Self.area(deletion), insertion: Self.area(insertion),
            roadMostRelevantFirst: road.prefix(roadFractions.count).reduce(0, +) / Double(roadFractions.count),
            roadLeastRelevantFirst: road.suffix(roadFractions.count).reduce(0, +) / Double(roadFractions.count),
            drop: 100 * max(0, original - masked) / max(original, 1e-12), increase: masked > original ? 1 : 0)
    }

    /// Trapezoid area of a curve sampled evenly over [0, 1].
    static func area(_ curve: [Double]) -> Double {
        guard curve.count > 1 else { return curve.first ?? 0 }
        var sum = 0.0
        for i in 1..<curve.count { sum += (curve[i - 1] + curve[i]) / 2 }
        return sum / Double(curve.count - 1)
    }

    /// ROAD's noisy linear imputation: each removed pixel becomes the weighted mean of its neighbours
    /// (1/6 for the four direct ones, 1/12 for the diagonals, the system solved for all removed pixels
    /// together; kept pixels are fixed), plus Gaussian noise. Solved by Gauss-Seidel sweeps, which
    /// converge because every removed pixel's equation is diagonally dominant.
    static func noisyLinearImputation(
        _ image: [Float], removed: [Int], width: Int, height: Int, channels: Int, noise: Float, random: inout RandomSource
    ) -> [Float] {
        var out = image
        guard !removed.isEmpty else { return out }
        for p in removed { for c in 0..<channels { out[p * channels + c] = 0 } }
        let neighbours: [(Int, Int, Float)] = [
            (-1, 0, 1.0 / 6), (1, 0, 1.0 / 6), (0, -1, 1.0 / 6), (0, 1, 1.0 / 6),
            (-1, -1, 1.0 / 12), (1, -1, 1.0 / 12), (-1, 1, 1.0 / 12), (1, 1, 1.0 / 12),
        ]
        for _ in 0..<200 {
            var change: Float = 0
            for p in removed {
                let x = p % width, y = p / width
                for c in 0..<channels {
                    var sum: Float = 0, weight: Float = 0
                    for (dx, dy, w) in neighbours {
                        let nx = x + dx, ny = y + dy
                        guard nx >= 0, nx < width, ny >= 0, ny < height else { continue }
                        sum += w * out[(ny * width + nx) * channels + c]
                        weight += w
                    }
                    let value = sum / weight
                    change = max(change, abs(value - out[p * channels + c]))
                    out[p * channels + c] = value
                }
            }
            if change < 1e-5 { break }
        }
        for p in removed { for c in 0..<channels { out[p * channels + c] += noise * random.normal() } }
        return out
    }
}
