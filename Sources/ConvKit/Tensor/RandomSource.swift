import Foundation

/// A small, fast, seedable random generator (xoshiro256**, seeded through SplitMix64).
///
/// Every random choice in ConvScope (initialisation, shuffling, augmentation, dropout, the synthetic
/// data) comes from one of these, so a run is reproducible from its `--seed`.
public struct RandomSource: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64

    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// An independent stream derived from this seed and a label (for example one per epoch).
    public init(seed: UInt64, stream: UInt64) {
        self.init(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03) &+ stream)
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1).
    @inline(__always)
    public mutating func uniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Uniform in [low, high).
    @inline(__always)
    public mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * uniform() }

    /// Uniform integer in `0..<bound`.
    @inline(__always)
    public mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    /// Standard normal (Box-Muller, in Double for accuracy in the tails).
    public mutating func normal() -> Float {
        let u1 = max(Double(next() >> 11) * 0x1p-53, 1e-300)
        let u2 = Double(next() >> 11) * 0x1p-53
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }

    /// A random permutation of `0..<count` (Fisher-Yates, stable across platforms and Swift versions).
    public mutating func permutation(_ count: Int) -> [Int] {
        var order = Array(0..<count)
        if count > 1 {
            for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, below(i + 1)) }
        }
        return order
    }
}
