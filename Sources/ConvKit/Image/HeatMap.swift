/// A 2-D map of floats (a class activation map, a feature map), row-major: `values[y * width + x]`.
///
/// Turning one into a picture is `normalized()` (or `signedNormalized()`), `resizedBilinear` to the
/// image size, then ConvRender's `colored(_:)`. A flat map (constant, all zero, or varying by less than a
/// millionth of its magnitude) is not stretched into noise: it normalises to all zeros.
public struct HeatMap: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public var values: [Float]

    public init(width: Int, height: Int, values: [Float]) {
        precondition(width >= 0 && height >= 0 && values.count == width * height,
                     "heat map of \(width)x\(height) needs \(width * height) values, got \(values.count)")
        self.width = width
        self.height = height
        self.values = values
    }

    public init(width: Int, height: Int, repeating value: Float = 0) {
        self.init(width: width, height: height, values: [Float](repeating: value, count: width * height))
    }

    /// The value at column `x`, row `y`.
    public subscript(x: Int, y: Int) -> Float {
        get { values[y * width + x] }
        set { values[y * width + x] = newValue }
    }

    /// The smallest and largest finite values, or nil when there are none.
    public var range: (min: Float, max: Float)? {
        var low = Float.infinity, high = -Float.infinity
        values.withUnsafeBufferPointer { v in
            for value in v where value.isFinite {
                low = min(low, value)
                high = max(high, value)
            }
        }
        return low <= high ? (low, high) : nil
    }

    /// True when the map carries no spatial information: no finite values, or a spread
    /// `max - min` of at most a millionth of the largest magnitude (a constant or all-zero map).
    public var isFlat: Bool {
        guard let (low, high) = range else { return true }
        return high - low <= 1e-6 * max(abs(low), abs(high))
    }

    /// Min-max scaled to [0, 1]; all zeros when the map `isFlat`. NaN becomes 0, +inf 1, -inf 0.
    public func normalized() -> HeatMap {
        guard !isFlat, let (low, high) = range else {
            return HeatMap(width: width, height: height, repeating: 0)
        }
        let scale = 1 / (high - low)
        return mapped { $0.isNaN ? 0 : min(max(($0 - low) * scale, 0), 1) }
    }

    /// Signed values scaled so that 0 maps to 0.5 and the largest magnitude to 0 or 1, for the
    /// diverging colormap; all 0.5 when every finite value is zero. NaN becomes 0.5.
    public func signedNormalized() -> HeatMap {
        guard let (low, high) = range, max(abs(low), abs(high)) > 0 else {
            return HeatMap(width: width, height: height, repeating: 0.5)
        }
        let scale = 0.5 / max(abs(low), abs(high))
        return mapped { $0.isNaN ? 0.5 : min(max(0.5 + $0 * scale, 0), 1) }
    }

    /// Bilinear resampling with PyTorch's `align_corners=False` semantics (like
    /// `F.interpolate(..., mode="bilinear")` and OpenCV's `INTER_LINEAR`).
    public func resizedBilinear(width newWidth: Int, height newHeight: Int) -> HeatMap {
        precondition(width > 0 && height > 0 && newWidth > 0 && newHeight > 0, "cannot resize an empty map")
        var result = [Float](repeating: 0, count: newWidth * newHeight)
        values.withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer { destination in
                Resample.apply(source.baseAddress!, width: width, height: height, channels: 1,
                               x: .bilinear(from: width, to: newWidth), y: .bilinear(from: height, to: newHeight),
                               into: destination.baseAddress!)
            }
        }
        return HeatMap(width: newWidth, height: newHeight, values: result)
    }

    func mapped(_ transform: (Float) -> Float) -> HeatMap {
        var result = values
        result.withUnsafeMutableBufferPointer { v in
            for i in 0..<v.count { v[i] = transform(v[i]) }
        }
        return HeatMap(width: width, height: height, values: result)
    }
}
