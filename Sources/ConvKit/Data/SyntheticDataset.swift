import Foundation

/// A built-in stand-in for CIFAR-10 when the real files are absent: ten classes of procedurally drawn
/// 32 x 32 colour images, where the class is the SHAPE and everything else is random.
///
/// Each image has a random background (flat or a two-colour gradient), one shape in a random colour
/// that contrasts with it, at a random position, size and (where it means something) rotation, plus
/// mild per-pixel noise. Edges are anti-aliased from signed distances. Image `i` draws from its own
/// `RandomSource` stream derived from the seed, the split and `i`, so generation runs in parallel and the
/// same seed always yields the same bytes. Labels cycle `0, 1, ..., 9, 0, ...`, so every prefix of ten
/// images is balanced. Datasets built from this are labelled `SYNTHETIC` (see `DataSource`).
public enum SyntheticDataset {
    /// The classes, in label order, named after what is drawn.
    public static let classNames = [
        "disc", "square", "triangle", "ring", "h-stripes", "v-stripes", "d-stripes", "checkerboard", "cross", "dots",
    ]
    public static let defaultTrainCount = 10_000
    public static let defaultTestCount = 2_000

    /// A train and a test set drawn from `seed` (the two never share an image stream).
    public static func generate(
        seed: UInt64, trainCount: Int = defaultTrainCount, testCount: Int = defaultTestCount
    ) -> Dataset {
        Dataset(
            train: images(seed: seed, split: 0, count: trainCount),
            test: images(seed: seed, split: 1, count: testCount),
            source: .synthetic(seed: seed))
    }

    /// `count` images of split `split` (0 for training, 1 for test; others are further independent sets).
    public static func images(seed: UInt64, split: UInt64, count: Int) -> ImageSet {
        let size = ImageSet.bytesPerImage
        let labels = (0 ..< max(count, 0)).map { UInt8($0 % classNames.count) }
        let pixels = [UInt8](unsafeUninitializedCapacity: labels.count * size) { buffer, initialized in
            let base = buffer.baseAddress!
            Parallel.forEachRange(labels.count, minimum: 64) { range, _ in
                for i in range {
                    var random = RandomSource(seed: seed, stream: (split &+ 1) << 40 | UInt64(i))
                    draw(shape: Int(labels[i]), into: base + i * size, random: &random)
                }
            }
            initialized = labels.count * size
        }
        return ImageSet(pixels: pixels, labels: labels)
    }

    // MARK: - Drawing

    private typealias Colour = (r: Float, g: Float, b: Float)

    /// Draws one image of class `shape` into 3072 planar bytes at `out`.
    private static func draw(shape: Int, into out: UnsafeMutablePointer<UInt8>, random: inout RandomSource) {
        let side = Float(ImageSet.side)
        // Background: a colour, and half the time a gradient towards a second one.
        let back0 = randomColour(&random)
        var back1 = back0
        var gradient: (dx: Float, dy: Float) = (0, 0)
        if random.uniform() < 0.5 {
            back1 = (
                clampColour(back0.r + random.uniform(-70, 70)),
                clampColour(back0.g + random.uniform(-70, 70)),
                clampColour(back0.b + random.uniform(-70, 70)))
            let angle = random.uniform(0, 2 * .pi)
            gradient = (cos(angle) / side, sin(angle) / side)
        }
        let backMean: Colour = ((back0.r + back1.r) / 2, (back0.g + back1.g) / 2, (back0.b + back1.b) / 2)
        // Foreground: far enough from the background that the shape is always visible.
        var fore = randomColour(&random)
        var attempts = 0
        while distance(fore, backMean) < 110 && attempts < 16 {
            fore = randomColour(&random)
            attempts += 1
        }
        if distance(fore, backMean) < 110 { fore = (255 - backMean.r, 255 - backMean.g, 255 - backMean.b) }
        let coverage = makeCoverage(shape: shape, random: &random)
        let noise = random.uniform(3, 14)

        let plane = ImageSet.planeSize
        for y in 0 ..< ImageSet.side {
            for x in 0 ..< ImageSet.side {
                let px = Float(x) + 0.5, py = Float(y) + 0.5
                let t = min(max((px - side / 2) * gradient.dx + (py - side / 2) * gradient.dy + 0.5, 0), 1)
                let m = coverage(px, py)
                let p = y * ImageSet.side + x
                let r = (back0.r + (back1.r - back0.r) * t) * (1 - m) + fore.r * m
                let g = (back0.g + (back1.g - back0.g) * t) * (1 - m) + fore.g * m
                let b = (back0.b + (back1.b - back0.b) * t) * (1 - m) + fore.b * m
                // Three noise values in [-1, 1) from one 64-bit draw, 21 bits each.
                let bits = random.next()
                let unit: Float = 1.0 / 1_048_576
                out[p] = toByte(r + noise * (Float(bits & 0x1F_FFFF) * unit - 1))
                out[plane + p] = toByte(g + noise * (Float((bits >> 21) & 0x1F_FFFF) * unit - 1))
                out[2 * plane + p] = toByte(b + noise * (Float((bits >> 42) & 0x1F_FFFF) * unit - 1))
            }
        }
    }

    /// The shape's coverage (0 outside, 1 inside, anti-aliased at the edge) at a point in pixels.
    private static func makeCoverage(shape: Int, random: inout RandomSource) -> (Float, Float) -> Float {
        switch shape {
        case 0:  // filled disc
            let r = random.uniform(5, 11)
            let (cx, cy) = centre(margin: r + 1, &random)
            return { x, y in fill(length(x - cx, y - cy) - r) }
        case 1:  // filled square, slightly rotated
            let h = random.uniform(5, 10)
            let (cx, cy) = centre(margin: h + 1, &random)
            let (c, s) = rotation(random.uniform(-0.35, 0.35))
            return { x, y in
                let u = (x - cx) * c + (y - cy) * s, v = (y - cy) * c - (x - cx) * s
                return fill(max(abs(u), abs(v)) - h)
            }
        case 2:  // filled equilateral triangle at any rotation
            let radius = random.uniform(7.5, 13)
            let (cx, cy) = centre(margin: radius * 0.75 + 1, &random)
            let turn = random.uniform(0, 2 * .pi)
            let normals = (0 ..< 3).map { k -> (Float, Float) in
                let a = turn + .pi / 3 + Float(k) * 2 * .pi / 3
                return (cos(a), sin(a))
            }
            let (n0, n1, n2) = (normals[0], normals[1], normals[2])
            let inradius = radius / 2
            return { x, y in
                let dx = x - cx, dy = y - cy
                let d = max(dx * n0.0 + dy * n0.1, dx * n1.0 + dy * n1.1, dx * n2.0 + dy * n2.1)
                return fill(d - inradius)
            }
        case 3:  // ring
            let r = random.uniform(7, 12.5)
            let thickness = random.uniform(2, 3.5)
            let (cx, cy) = centre(margin: r + 1, &random)
            let middle = r - thickness / 2
            return { x, y in fill(abs(length(x - cx, y - cy) - middle) - thickness / 2) }
        case 4, 5, 6:  // horizontal, vertical or diagonal stripes filling a patch
            let period = random.uniform(shape == 6 ? 5.5 : 4.5, 8)
            let phase = random.uniform(0, period)
            let patch = randomPatch(&random)
            let slope: Float = random.uniform() < 0.5 ? 1 : -1
            return { x, y in
                let u: Float
                switch shape {
                case 4: u = y
                case 5: u = x
                default: u = (x + slope * y) * 0.70710678
                }
                return stripe(u + phase, period: period) * patch(x, y)
            }
        case 7:  // checkerboard filling a patch
            let cell = random.uniform(3, 6)
            let (ox, oy) = (random.uniform(0, 2 * cell), random.uniform(0, 2 * cell))
            let patch = randomPatch(&random)
            return { x, y in
                let a = stripe(x + ox, period: 2 * cell), b = stripe(y + oy, period: 2 * cell)
                return (a * (1 - b) + (1 - a) * b) * patch(x, y)
            }
        case 8:  // plus-shaped cross, slightly rotated
            let arm = random.uniform(7, 13)
            let half = random.uniform(1.5, 3)
            let (cx, cy) = centre(margin: arm + 1, &random)
            let (c, s) = rotation(random.uniform(-0.25, 0.25))
            return { x, y in
                let u = abs((x - cx) * c + (y - cy) * s), v = abs((y - cy) * c - (x - cx) * s)
                return fill(min(max(u - arm, v - half), max(u - half, v - arm)))
            }
        default:  // scattered small dots
            let count = 7 + random.below(8)
            let radius = random.uniform(1.3, 2.2)
            var centres = [SIMD2<Float>]()
            for _ in 0 ..< count { centres.append(SIMD2(random.uniform(2.5, 29.5), random.uniform(2.5, 29.5))) }
            return { x, y in
                centres.withUnsafeBufferPointer { points in
                    var nearest = Float.greatestFiniteMagnitude
                    for centre in points {
                        let dx = x - centre.x, dy = y - centre.y
                        nearest = min(nearest, dx * dx + dy * dy)
                    }
                    return fill(nearest.squareRoot() - radius)
                }
            }
        }
    }

    @inline(__always)
    private static func length(_ dx: Float, _ dy: Float) -> Float { (dx * dx + dy * dy).squareRoot() }

    /// Coverage of a pixel whose centre lies `d` pixels outside the edge (negative: inside).
    @inline(__always)
    private static func fill(_ d: Float) -> Float { min(max(0.5 - d, 0), 1) }

    /// 1 on the first half of each period of `u`, 0 on the second, with anti-aliased edges.
    @inline(__always)
    private static func stripe(_ u: Float, period: Float) -> Float {
        // Here u > -23 and period >= 4.5, so u / period + 64 is positive and truncating it is floor.
        let t = u - period * (Float(Int(u / period + 64)) - 64)  // 0 ..< period
        let quarter = period / 4
        // Distance from the centre of the "on" half, folded over the period.
        let d = abs(t - quarter)
        return fill(min(d, period - d) - quarter)
    }

    /// A random rectangle of at least 16 x 16 pixels, as a coverage function.
    private static func randomPatch(_ random: inout RandomSource) -> (Float, Float) -> Float {
        let w = random.uniform(16, 30), h = random.uniform(16, 30)
        let x0 = random.uniform(1, 31 - w), y0 = random.uniform(1, 31 - h)
        let cx = x0 + w / 2, cy = y0 + h / 2
        return { x, y in fill(max(abs(x - cx) - w / 2, abs(y - cy) - h / 2)) }
    }

    private static func centre(margin: Float, _ random: inout RandomSource) -> (Float, Float) {
        let side = Float(ImageSet.side)
        let m = min(margin, side / 2)
        return (random.uniform(m, side - m), random.uniform(m, side - m))
    }

    private static func rotation(_ angle: Float) -> (Float, Float) { (cos(angle), sin(angle)) }

    private static func randomColour(_ random: inout RandomSource) -> Colour {
        (random.uniform(0, 255), random.uniform(0, 255), random.uniform(0, 255))
    }

    private static func distance(_ a: Colour, _ b: Colour) -> Float {
        ((a.r - b.r) * (a.r - b.r) + (a.g - b.g) * (a.g - b.g) + (a.b - b.b) * (a.b - b.b)).squareRoot()
    }

    @inline(__always)
    private static func clampColour(_ v: Float) -> Float { min(max(v, 0), 255) }

    @inline(__always)
    private static func toByte(_ v: Float) -> UInt8 { UInt8(min(max(v, 0), 255) + 0.5) }  // round half up, v >= 0
}
