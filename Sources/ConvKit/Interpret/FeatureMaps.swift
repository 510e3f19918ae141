/// One layer's output for one image, as channel planes ready to draw: `values[c * height * width + y * width + x]`.
public struct FeatureMaps: Sendable {
    public let layer: String
    public let channels: Int
    public let height: Int
    public let width: Int
    /// Channel-major planes (converted from the engine's channels-last layout).
    public let values: [Float]

    /// Copies sample `index` of a layer's output tensor into planes.
    public init(layer: String, output: Tensor, index: Int = 0) {
        self.layer = layer
        let shape = output.shape
        channels = shape.isFlat ? shape.count : shape.channels
        height = shape.isFlat ? 1 : shape.height
        width = shape.isFlat ? 1 : shape.width
        let source = output.sample(index)
        let positions = height * width, c = channels
        var planes = [Float](repeating: 0, count: c * positions)
        planes.withUnsafeMutableBufferPointer { planes in
            for p in 0..<positions {
                for ch in 0..<c { planes[ch * positions + p] = source[p * c + ch] }
            }
        }
        values = planes
    }

    /// Channel `c` as a row-major height x width plane.
    public func plane(_ c: Int) -> ArraySlice<Float> {
        values[(c * height * width)..<((c + 1) * height * width)]
    }

    public var isSpatial: Bool { height * width > 1 }

    /// Statistics over all channels.
    public var statistics: ValueStatistics { ValueStatistics(values) }
}

/// Summary statistics of a set of values: range, mean, spread and the share of exact zeros
/// (after a ReLU: the "dead" units that pass no signal).
public struct ValueStatistics: Sendable, Equatable {
    public var count: Int
    public var minimum: Float
    public var maximum: Float
    public var mean: Float
    public var standardDeviation: Float
    /// Fraction of values that are exactly zero.
    public var zeroFraction: Float
    /// Root of the sum of squares.
    public var norm: Float

    public init<C: Collection>(_ values: C) where C.Element == Float {
        count = values.count
        var low = Float.infinity, high = -Float.infinity, sum = 0.0, squares = 0.0, zeros = 0
        for v in values {
            low = min(low, v)
            high = max(high, v)
            sum += Double(v)
            squares += Double(v) * Double(v)
            if v == 0 { zeros += 1 }
        }
        let n = Double(max(count, 1))
        minimum = count == 0 ? 0 : low
        maximum = count == 0 ? 0 : high
        mean = Float(sum / n)
        standardDeviation = Float(max(squares / n - (sum / n) * (sum / n), 0).squareRoot())
        zeroFraction = Float(Double(zeros) / n)
        norm = Float(squares.squareRoot())
    }
}
