import Foundation

/// A separable Gaussian blur of an interleaved float image, edges replicated: Integrated Gradients'
/// `blur` baseline.
enum GaussianBlur {
    /// The kernel reaches `ceil(3 sigma)` pixels each side and is normalised to sum 1.
    static func apply(_ image: [Float], width: Int, height: Int, channels: Int, sigma: Float) -> [Float] {
        let radius = Int((3 * sigma).rounded(.up))
        var kernel = (-radius...radius).map { Float(exp(-Double($0 * $0) / (2 * Double(sigma * sigma)))) }
        let total = kernel.reduce(0, +)
        kernel = kernel.map { $0 / total }
        func pass(_ source: [Float], horizontal: Bool) -> [Float] {
            var out = [Float](repeating: 0, count: source.count)
            for y in 0..<height {
                for x in 0..<width {
                    for c in 0..<channels {
                        var sum: Float = 0
                        for (t, w) in kernel.enumerated() {
                            let offset = t - radius
                            let sx = horizontal ? min(max(x + offset, 0), width - 1) : x
                            let sy = horizontal ? y : min(max(y + offset, 0), height - 1)
                            sum += w * source[(sy * width + sx) * channels + c]
                        }
                        out[(y * width + x) * channels + c] = sum
                    }
                }
            }
            return out
        }
        return pass(pass(image, horizontal: true), horizontal: false)
    }
}
