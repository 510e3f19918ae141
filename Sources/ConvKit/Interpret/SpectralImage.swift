import Foundation

/// The image parameterisation of feature visualisation: a colour image described by the coefficients of a
/// cosine (DCT-II) basis per decorrelated colour channel, scaled by `1 / frequency^decay`, mixed into RGB
/// by the square root of CIFAR-10's colour covariance and squashed into 0...1 by a sigmoid.
///
/// Why: optimising pixels directly on a 32x32 input finds high-frequency patterns the network reacts to
/// but no person recognises. In this basis one Adam step moves low frequencies more than high ones (the
/// spectrum of natural images falls as `1/f`) and moves colours along the data's principal axes, which
/// Olah, Mordvintsev and Schubert (Distill 2017) found makes the images readable. A cosine basis has no
/// wrap-around at the borders, unlike the FFT's.
struct SpectralImage {
    let height: Int
    let width: Int
    /// Orthonormal DCT-II matrices, row `u` holding basis function `u`: `height x height` and `width x width`.
    private let rows: [Float]
    private let columns: [Float]
    /// `1 / max(f, f_min)^decay` per coefficient (`height x width`), normalised to a mean square of 1 so
    /// that a unit-variance spectrum gives a unit-variance image.
    let weights: [Float]

    /// The symmetric square root of CIFAR-10's RGB covariance (training set, values in 0...1), divided by its
    /// largest column norm: decorrelated channel `k` adds `colour[c * 3 + k]` to RGB channel `c`.
    /// Measured with numpy over the 50,000 training images (docs/interpretation.md).
    static let colour: [Float] = [
        0.7577, 0.4525, 0.3362,
        0.4525, 0.6663, 0.4666,
        0.3362, 0.4666, 0.8181,
    ]

    init(height: Int, width: Int, decay: Float) {
        self.height = height
        self.width = width
        rows = Self.cosineBasis(height)
        columns = Self.cosineBasis(width)
        let lowest = 1 / Double(2 * max(height, width))
        var weights = [Float](repeating: 0, count: height * width)
        for u in 0..<height {
            for v in 0..<width {
                let fu = Double(u) / Double(2 * height), fv = Double(v) / Double(2 * width)
                weights[u * width + v] = Float(1 / pow(max((fu * fu + fv * fv).squareRoot(), lowest), Double(decay)))
            }
        }
        let meanSquare = weights.reduce(0) { $0 + $1 * $1 } / Float(weights.count)
        self.weights = weights.map { $0 / meanSquare.squareRoot() }
    }

    /// Orthonormal DCT-II: `D[u][x] = a(u) cos(pi (2x + 1) u / 2n)`.
    private static func cosineBasis(_ n: Int) -> [Float] {
        (0..<(n * n)).map { index in
            let u = index / n, x = index % n
            let scale = u == 0 ? (1 / Double(n)).squareRoot() : (2 / Double(n)).squareRoot()
            return Float(scale * cos(Double.pi * Double(2 * x + 1) * Double(u) / Double(2 * n)))
        }
    }

    var planeCount: Int { height * width }
    /// Coefficients per image: three planes of `height x width`.
    var coefficientCount: Int { 3 * planeCount }

    /// Pixels (channels-last RGB in 0...1) from one image's coefficients (three planes, channel-major).
    /// `scratch` holds at least `2 * coefficientCount` floats.
    func pixels(from spectrum: UnsafePointer<Float>, into pixels: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let plane = planeCount, decorrelated = scratch, temporary = scratch + coefficientCount
        for k in 0..<3 {
            // A_k = D_h^T (w . Z_k) D_w
            for i in 0..<plane { temporary[i] = weights[i] * spectrum[k * plane + i] }
            rows.withUnsafeBufferPointer { d in
                BLAS.gemm(transposeA: true, m: height, n: width, k: height, a: d.baseAddress!, lda: height,
                          b: temporary, ldb: width, c: temporary + plane, ldc: width)
            }
            columns.withUnsafeBufferPointer { d in
                BLAS.gemm(m: height, n: width, k: width, a: temporary + plane, lda: width, b: d.baseAddress!, ldb: width,
                          c: decorrelated + k * plane, ldc: width)
            }
        }
        let mix = Self.colour
        for p in 0..<plane {
            let a0 = decorrelated[p], a1 = decorrelated[plane + p], a2 = decorrelated[2 * plane + p]
            for c in 0..<3 {
                let logit = mix[c * 3] * a0 + mix[c * 3 + 1] * a1 + mix[c * 3 + 2] * a2
                pixels[p * 3 + c] = 1 / (1 + exp(-logit))
            }
        }
    }

    /// The gradient with respect to the coefficients from the gradient with respect to the pixels that
    /// `pixels(from:)` returned (`pixels` are those values; the sigmoid's derivative is `p (1 - p)`).
    func coefficientGradient(
        pixels: UnsafePointer<Float>, pixelGradient: UnsafePointer<Float>, into gradient: UnsafeMutablePointer<Float>,
        scratch: UnsafeMutablePointer<Float>
    ) {
        let plane = planeCount, decorrelated = scratch, temporary = scratch + coefficientCount
        let mix = Self.colour
        for p in 0..<plane {
            var d = (Float(0), Float(0), Float(0))
            for c in 0..<3 {
                let value = pixels[p * 3 + c]
                let g = pixelGradient[p * 3 + c] * value * (1 - value)
                d.0 += mix[c * 3] * g
                d.1 += mix[c * 3 + 1] * g
                d.2 += mix[c * 3 + 2] * g
            }
            decorrelated[p] = d.0
            decorrelated[plane + p] = d.1
            decorrelated[2 * plane + p] = d.2
        }
        for k in 0..<3 {
            // dZ_k = w . (D_h dA_k D_w^T)
            rows.withUnsafeBufferPointer { d in
                BLAS.gemm(m: height, n: width, k: height, a: d.baseAddress!, lda: height, b: decorrelated + k * plane, ldb: width,
                          c: temporary, ldc: width)
            }
            columns.withUnsafeBufferPointer { d in
                BLAS.gemm(transposeB: true, m: height, n: width, k: width, a: temporary, lda: width, b: d.baseAddress!, ldb: width,
                          c: gradient + k * plane, ldc: width)
            }
            for i in 0..<plane { gradient[k * plane + i] *= weights[i] }
        }
    }
}

/// One step's random shift and scale of an image (wrapping round at the borders), as bilinear sampling
/// weights per output row and column, with its exact transpose for the backward pass.
struct ImageJitter {
    private struct Taps {
        var low: [Int]
        var high: [Int]
        var fraction: [Float]

        /// Output `i` reads source coordinate `(i + 0.5 - n/2) / scale + n/2 - 0.5 - shift`, wrapped.
        init(size n: Int, scale: Float, shift: Int) {
            low = []
            high = []
            fraction = []
            for i in 0..<n {
                let source = (Float(i) + 0.5 - Float(n) / 2) / scale + Float(n) / 2 - 0.5 - Float(shift)
                let floor = source.rounded(.down)
                let base = Int(floor)
                low.append(((base % n) + n) % n)
                high.append((((base + 1) % n) + n) % n)
                fraction.append(source - floor)
            }
        }
    }

    private let rows: Taps
    private let columns: Taps
    let height: Int
    let width: Int

    init(height: Int, width: Int, scale: Float, shiftX: Int, shiftY: Int) {
        self.height = height
        self.width = width
        rows = Taps(size: height, scale: scale, shift: shiftY)
        columns = Taps(size: width, scale: scale, shift: shiftX)
    }

    /// `output = T(input)`, both channels-last RGB.
    func apply(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>) {
        for y in 0..<height {
            let y0 = rows.low[y], y1 = rows.high[y], fy = rows.fraction[y]
            for x in 0..<width {
                let x0 = columns.low[x], x1 = columns.high[x], fx = columns.fraction[x]
                for c in 0..<3 {
                    let top = input[(y0 * width + x0) * 3 + c] * (1 - fx) + input[(y0 * width + x1) * 3 + c] * fx
                    let bottom = input[(y1 * width + x0) * 3 + c] * (1 - fx) + input[(y1 * width + x1) * 3 + c] * fx
                    output[(y * width + x) * 3 + c] = top * (1 - fy) + bottom * fy
                }
            }
        }
    }

    /// `inputGradient += T^T(outputGradient)`.
    func addTransposed(_ outputGradient: UnsafePointer<Float>, into inputGradient: UnsafeMutablePointer<Float>) {
        for y in 0..<height {
            let y0 = rows.low[y], y1 = rows.high[y], fy = rows.fraction[y]
            for x in 0..<width {
                let x0 = columns.low[x], x1 = columns.high[x], fx = columns.fraction[x]
                for c in 0..<3 {
                    let g = outputGradient[(y * width + x) * 3 + c]
                    inputGradient[(y0 * width + x0) * 3 + c] += g * (1 - fy) * (1 - fx)
                    inputGradient[(y0 * width + x1) * 3 + c] += g * (1 - fy) * fx
                    inputGradient[(y1 * width + x0) * 3 + c] += g * fy * (1 - fx)
                    inputGradient[(y1 * width + x1) * 3 + c] += g * fy * fx
                }
            }
        }
    }
}
