/// Per-channel normalisation of pixel bytes: `x = (byte / 255 - mean[c]) / std[c]`, as torchvision's
/// `ToTensor()` followed by `Normalize(mean, std)`.
///
/// Byte inputs go through a 3 x 256 lookup table computed with the very same expression as
/// `normalize(_:channel:)`, so the table path and the arithmetic path give bit-identical results for
/// whole-byte values.
public struct Normalization: Sendable, Equatable {
    /// Per-channel mean of `byte / 255` (R, G, B).
    public let mean: [Float]
    /// Per-channel standard deviation of `byte / 255` (R, G, B).
    public let std: [Float]
    /// `table[c * 256 + b]` is the normalised value of byte `b` in channel `c`.
    public let table: [Float]

    public init(mean: [Float], std: [Float]) {
        precondition(mean.count == 3 && std.count == 3, "Normalization needs three means and three deviations")
        precondition(std.allSatisfy { $0 > 0 }, "Normalization: standard deviations must be positive")
        self.mean = mean
        self.std = std
        table = (0 ..< 3).flatMap { c in
            (0 ..< 256).map { Normalization.formula(Float($0), mean: mean[c], std: std[c]) }
        }
    }

    /// CIFAR-10's training-set statistics, the values every CIFAR-10 PyTorch tutorial uses.
    public static let cifar10 = Normalization(mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616])

    /// `byte / 255` only (mean 0, deviation 1).
    public static let unit = Normalization(mean: [0, 0, 0], std: [1, 1, 1])

    /// The normalised value of a pixel value `value` (0...255, may be fractional) in channel `channel`.
    @inline(__always)
    public func normalize(_ value: Float, channel: Int) -> Float {
        Normalization.formula(value, mean: mean[channel], std: std[channel])
    }

    /// The normalised value of byte `byte` in channel `channel`.
    @inline(__always)
    public func normalize(byte: UInt8, channel: Int) -> Float { table[channel &* 256 &+ Int(byte)] }

    /// The byte a normalised value stands for, rounded and clamped to 0...255 (for showing tensors).
    @inline(__always)
    public func byte(fromNormalized value: Float, channel: Int) -> UInt8 {
        let v = (value * std[channel] + mean[channel]) * 255
        return UInt8(min(max(v, 0), 255).rounded())
    }

    /// One image from interleaved RGB bytes (3072 of them, as `ImageSet.interleavedRGB` gives or a PNG
    /// reader returns) as a normalised 1 x 3 x 32 x 32 tensor (NHWC) in `buffer`.
    public func tensor(interleavedRGB bytes: [UInt8], into buffer: FloatBuffer) -> Tensor {
        precondition(bytes.count == ImageSet.bytesPerImage, "expected \(ImageSet.bytesPerImage) RGB bytes, got \(bytes.count)")
        let tensor = buffer.tensor(batch: 1, shape: .cifarImage)
        let out = tensor.pointer
        table.withUnsafeBufferPointer { t in
            bytes.withUnsafeBufferPointer { rgb in
                for p in 0 ..< ImageSet.planeSize {
                    out[3 * p] = t[Int(rgb[3 * p])]
                    out[3 * p + 1] = t[256 + Int(rgb[3 * p + 1])]
                    out[3 * p + 2] = t[512 + Int(rgb[3 * p + 2])]
                }
            }
        }
        return tensor
    }

    /// A normalised 32 x 32 x 3 sample (NHWC, for example `tensor.sample(n)`) back as interleaved RGB bytes.
    public func interleavedRGB(fromNormalized sample: UnsafePointer<Float>) -> [UInt8] {
        (0 ..< ImageSet.bytesPerImage).map { byte(fromNormalized: sample[$0], channel: $0 % 3) }
    }

    @inline(__always)
    static func formula(_ value: Float, mean: Float, std: Float) -> Float { (value / 255 - mean) / std }
}
