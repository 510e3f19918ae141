/// A histogram of magnitudes over fixed power-of-two bins, the same bins for every tensor, layer and
/// step, so that histograms over time line up as a heat map (the health timeline).
///
/// Bin 0 holds exact zeros (a ReLU's dead outputs). Bin `b` in 1...31 holds `|x|` in
/// `[2^(b - 27), 2^(b - 26))`; bin 1 also takes everything smaller (down to the subnormals) and bin 31
/// everything from 2^4 = 16 up. That spans 2^-26 (1.5e-8: the smallest gradients that matter) to 16
/// (large activations), one octave per bin; the bin of a float is its exponent field, read without a
/// logarithm. NaN and infinities are counted apart (`nonFinite`).
///
/// Stored compactly: each bin's share of the values as a byte, `round(255 * sqrt(share))`, and at least
/// 1 when the bin holds any value, so that a single value in 50 000 still shows.
public struct HealthHistogram: Sendable, Equatable {
    public static let binCount = 32
    /// The exponent of bin 1's upper edge minus one: bin `b` starts at 2^(b + lowestExponent - 1).
    public static let lowestExponent = -26

    /// Quantised shares, `binCount` bytes.
    public var bins: [UInt8]

    public init(bins: [UInt8]) {
        precondition(bins.count == HealthHistogram.binCount, "a health histogram has \(HealthHistogram.binCount) bins")
        self.bins = bins
    }

    /// An empty histogram (no values).
    public static let empty = HealthHistogram(bins: [UInt8](repeating: 0, count: binCount))

    /// The histogram of counts (`binCount` of them).
    public init(counts: [Int]) {
        let total = counts.reduce(0, +)
        bins = counts.map { count in
            guard count > 0, total > 0 else { return 0 }
            let q = (255 * (Double(count) / Double(total)).squareRoot()).rounded()
            return UInt8(max(1, min(255, q)))
        }
    }

    /// The share of the values in `bin`, as stored (within about 1/255 of the square root of the truth).
    public func share(_ bin: Int) -> Double {
        let q = Double(bins[bin]) / 255
        return q * q
    }

    /// The bin `value` falls in, or nil when it is NaN or infinite.
    @inline(__always)
    public static func bin(of value: Float) -> Int? {
        let bits = value.bitPattern & 0x7FFF_FFFF
        let exponent = Int(bits >> 23)
        if exponent == 0xFF { return nil }
        if bits == 0 { return 0 }
        return min(max(exponent - 127 - lowestExponent + 1, 1), binCount - 1)
    }

    /// The lower edge of `bin`'s magnitudes (0 for the zero bin).
    public static func lowerEdge(of bin: Int) -> Float {
        bin == 0 ? 0 : Float(sign: .plus, exponent: bin + lowestExponent - 1, significand: 1)
    }

    /// Counts, sum of squares and non-finite count of `count` floats from `values`.
    public struct Tally {
        public var counts = [Int](repeating: 0, count: HealthHistogram.binCount)
        public var squares = 0.0
        public var nonFinite = 0

        public init() {}

        public mutating func add(_ values: UnsafePointer<Float>, count: Int) {
            counts.withUnsafeMutableBufferPointer { counts in
                var squares = 0.0, nonFinite = 0
                for i in 0..<count {
                    let v = values[i]
                    guard let bin = HealthHistogram.bin(of: v) else {
                        nonFinite += 1
                        continue
                    }
                    counts[bin] += 1
                    squares += Double(v) * Double(v)
                }
                self.squares += squares
                self.nonFinite += nonFinite
            }
        }

        public var norm: Float { Float(squares.squareRoot()) }
        public var histogram: HealthHistogram { HealthHistogram(counts: counts) }
    }
}
