import Foundation

/// Turns images of an `ImageSet` into a normalised, optionally augmented NHWC float batch.
///
/// The output tensor is `batch x 3 x 32 x 32` (`FeatureShape.cifarImage`) with element (n, y, x, c) at
/// `((n * 32 + y) * 32 + x) * 3 + c`, written into a caller-owned `FloatBuffer` that is reused from step
/// to step. All random numbers for a batch are drawn first, image by image in batch order, from the
/// caller's `RandomSource`; the per-image work then runs in parallel, so a seed gives the same batch
/// whatever the number of cores.
///
/// Images without rotation or jitter (the `.none` and `.standard` presets) are converted by index
/// arithmetic and a byte-to-float lookup table straight from the planar bytes. Rotation and jitter work
/// on float pixel values (0...255) in the output slot, and normalise at the end.
public struct BatchAssembler: Sendable {
    public var normalization: Normalization

    public init(normalization: Normalization = .cifar10) {
        self.normalization = normalization
    }

    /// Writes images `indices` of `set`, augmented, into `buffer` and their classes into `labels`
    /// (replacing its contents), and returns the batch tensor viewing `buffer`.
    @discardableResult
    public func assemble<Indices: Collection>(
        _ set: ImageSet, indices: Indices, augmentation: Augmentation, random: inout RandomSource,
        into buffer: FloatBuffer, labels: inout [Int]
    ) -> Tensor where Indices.Element == Int {
        let transforms = indices.map { augmentation.draw(source: $0, &random) }
        return assemble(set, transforms: transforms, into: buffer, labels: &labels)
    }

    /// Writes the images of `transforms` (each rendered with exactly its choices) into `buffer` and
    /// their classes into `labels` (replacing its contents), and returns the batch tensor viewing `buffer`.
    /// With `parallel` false the images are rendered on the calling thread only (a prefetch beside a
    /// step that has the cores); the result is the same.
    @discardableResult
    public func assemble(
        _ set: ImageSet, transforms: [ImageTransform], into buffer: FloatBuffer, labels: inout [Int], parallel: Bool = true
    ) -> Tensor {
        labels.removeAll(keepingCapacity: true)
        for transform in transforms {
            precondition(transform.source >= 0 && transform.source < set.count, "BatchAssembler: image \(transform.source) outside 0..<\(set.count)")
            labels.append(set.label(transform.source))
        }
        let tensor = buffer.tensor(batch: transforms.count, shape: .cifarImage)
        guard !transforms.isEmpty else { return tensor }
        let out = tensor.pointer
        set.pixels.withUnsafeBufferPointer { pixels in
            normalization.table.withUnsafeBufferPointer { table in
                let kernel = Kernel(normalization: normalization, table: table.baseAddress!, pixels: pixels.baseAddress!)
                let render = { (range: Range<Int>, _: Int) in
                    for n in range {
                        kernel.render(transforms[n], into: out + n * ImageSet.bytesPerImage)
                    }
                }
                if parallel {
                    Parallel.forEachRange(transforms.count, minimum: 16, render)
                } else {
                    render(0..<transforms.count, 0)
                }
            }
        }
        return tensor
    }

    /// Image `index` of `set`, normalised and not augmented, as a 1 x 3 x 32 x 32 tensor in `buffer`
    /// (for inference on one image).
    public func tensor(_ set: ImageSet, index: Int, into buffer: FloatBuffer) -> Tensor {
        precondition(index >= 0 && index < set.count, "BatchAssembler: image \(index) outside 0..<\(set.count)")
        let tensor = buffer.tensor(batch: 1, shape: .cifarImage)
        render(set, ImageTransform(source: index), into: tensor.pointer)
        return tensor
    }
}

extension BatchAssembler {
    /// Renders image `transform.source` of `set` with exactly the given choices, normalised, channels-last.
    public func render(_ set: ImageSet, _ transform: ImageTransform, into out: UnsafeMutablePointer<Float>) {
        set.pixels.withUnsafeBufferPointer { pixels in
            normalization.table.withUnsafeBufferPointer { table in
                Kernel(normalization: normalization, table: table.baseAddress!, pixels: pixels.baseAddress!)
                    .render(transform, into: out)
            }
        }
    }
}

/// The per-image work of `BatchAssembler`, over raw pointers that stay valid for the whole batch.
private struct Kernel {
    let normalization: Normalization
    /// `Normalization.table`.
    let table: UnsafePointer<Float>
    /// The whole set's planar bytes.
    let pixels: UnsafePointer<UInt8>

    private static let side = ImageSet.side
    private static let plane = ImageSet.planeSize

    func render(_ t: ImageTransform, into out: UnsafeMutablePointer<Float>) {
        let image = pixels + t.source * ImageSet.bytesPerImage
        if t.isIntegerOnly {
            renderShifted(image, t, into: out)
        } else {
            renderResampled(image, t, into: out)
            if t.jitters { jitter(t, out) }
            normalizeInPlace(out)
        }
    }

    /// Float pixel values (0...255, interleaved) to normalised values, with `Normalization`'s formula.
    private func normalizeInPlace(_ out: UnsafeMutablePointer<Float>) {
        let m0 = normalization.mean[0], m1 = normalization.mean[1], m2 = normalization.mean[2]
        let s0 = normalization.std[0], s1 = normalization.std[1], s2 = normalization.std[2]
        for p in 0 ..< Kernel.plane {
            let q = out + 3 * p
            q[0] = Normalization.formula(q[0], mean: m0, std: s0)
            q[1] = Normalization.formula(q[1], mean: m1, std: s1)
            q[2] = Normalization.formula(q[2], mean: m2, std: s2)
        }
    }

    /// The pixel value (0...255) of channel `c` everywhere outside the image: the dataset's mean colour,
    /// which normalises to zero, as padding an already normalised tensor with zeros does.
    @inline(__always)
    private func padding(_ c: Int) -> Float { normalization.mean[c] * 255 }

    /// A coordinate up to one image side outside 0..<32 mirrored back in at the edge pixels: -2 -> 2, 33 -> 29.
    @inline(__always)
    private static func reflect(_ i: Int) -> Int { i < 0 ? -i : i >= Kernel.side ? 2 * (Kernel.side - 1) - i : i }

    /// Crop and flip as index arithmetic, bytes to normalised floats by table lookup.
    private func renderShifted(_ image: UnsafePointer<UInt8>, _ t: ImageTransform, into out: UnsafeMutablePointer<Float>) {
        let side = Kernel.side, plane = Kernel.plane
        // The mean colour, normalised: zero up to rounding, exactly as the float path computes it.
        let pad0 = normalization.normalize(padding(0), channel: 0)
        let pad1 = normalization.normalize(padding(1), channel: 1)
        let pad2 = normalization.normalize(padding(2), channel: 2)
        let red = table, green = table + 256, blue = table + 512
        for y in 0 ..< side {
            let row = out + y * side * 3
            let sy = t.reflects ? Kernel.reflect(y + t.shiftY) : y + t.shiftY
            guard sy >= 0 && sy < side else {
                for x in 0 ..< side {
                    row[3 * x] = pad0; row[3 * x + 1] = pad1; row[3 * x + 2] = pad2
                }
                continue
            }
            let r = image + sy * side, g = r + plane, b = g + plane
            // Source column for output x: x + shift, or (31 - x) + shift when flipped.
            let start = t.flip ? side - 1 + t.shiftX : t.shiftX
            let step = t.flip ? -1 : 1
            for x in 0 ..< side {
                let sx = t.reflects ? Kernel.reflect(start + step * x) : start + step * x
                if sx >= 0 && sx < side {
                    row[3 * x] = red[Int(r[sx])]
                    row[3 * x + 1] = green[Int(g[sx])]
                    row[3 * x + 2] = blue[Int(b[sx])]
                } else {
                    row[3 * x] = pad0; row[3 * x + 1] = pad1; row[3 * x + 2] = pad2
                }
            }
        }
    }

    /// Crop, flip and rotation as one inverse mapping with bilinear sampling, giving float pixel values
    /// (0...255, interleaved) in `out`. Points outside the cropped frame, and padding inside it, take the mean colour.
    private func renderResampled(_ image: UnsafePointer<UInt8>, _ t: ImageTransform, into out: UnsafeMutablePointer<Float>) {
        let side = Kernel.side, plane = Kernel.plane
        let centre = Float(side) / 2
        let c = cos(t.angle), s = sin(t.angle)
        let pad0 = padding(0), pad1 = padding(1), pad2 = padding(2)
        // Byte offset of frame pixel (u, v) in the source plane, or -1 for the mean colour.
        @inline(__always) func sourceOffset(_ u: Int, _ v: Int) -> Int {
            guard u >= 0 && u < side && v >= 0 && v < side else { return -1 }
            var sx = (t.flip ? side - 1 - u : u) + t.shiftX, sy = v + t.shiftY
            if t.reflects { (sx, sy) = (Kernel.reflect(sx), Kernel.reflect(sy)) }
            guard sx >= 0 && sx < side && sy >= 0 && sy < side else { return -1 }
            return sy * side + sx
        }
        for y in 0 ..< side {
            for x in 0 ..< side {
                let o = out + (y * side + x) * 3
                // Where output pixel (x, y) comes from in the cropped, flipped frame (pixel centres at +0.5).
                let dx = Float(x) + 0.5 - centre, dy = Float(y) + 0.5 - centre
                let fx = c * dx - s * dy + centre - 0.5
                let fy = s * dx + c * dy + centre - 0.5
                // fx, fy lie within 23 pixels of the frame (16 * sqrt 2 from its centre), so truncating
                // after adding 64 is floor, without a libm call.
                let x0 = Int(fx + 64) - 64, y0 = Int(fy + 64) - 64
                let ax = fx - Float(x0), ay = fy - Float(y0)
                var r: Float = 0, g: Float = 0, b: Float = 0
                @inline(__always) func add(_ u: Int, _ v: Int, _ w: Float) {
                    guard w != 0 else { return }
                    let at = sourceOffset(u, v)
                    guard at >= 0 else {
                        r += w * pad0; g += w * pad1; b += w * pad2
                        return
                    }
                    r += w * Float(image[at])
                    g += w * Float(image[plane + at])
                    b += w * Float(image[2 * plane + at])
                }
                add(x0, y0, (1 - ax) * (1 - ay))
                add(x0 + 1, y0, ax * (1 - ay))
                add(x0, y0 + 1, (1 - ax) * ay)
                add(x0 + 1, y0 + 1, ax * ay)
                o[0] = r; o[1] = g; o[2] = b
            }
        }
    }

    /// Brightness, contrast and saturation (in the transform's order) on float pixel values, clamped to 0...255.
    private func jitter(_ t: ImageTransform, _ out: UnsafeMutablePointer<Float>) {
        let pixelCount = Kernel.plane
        @inline(__always) func clamp(_ v: Float) -> Float { min(max(v, 0), 255) }
        @inline(__always) func gray(_ p: UnsafeMutablePointer<Float>) -> Float {
            0.2989 * p[0] + 0.587 * p[1] + 0.114 * p[2]
        }
        for position in 0 ..< 3 {
            let step = position == 0 ? t.jitterOrder.0 : position == 1 ? t.jitterOrder.1 : t.jitterOrder.2
            switch step {
            case 0:
                let f = t.brightness
                for i in 0 ..< 3 * pixelCount { out[i] = clamp(out[i] * f) }
            case 1:
                var sum: Float = 0
                for p in 0 ..< pixelCount { sum += gray(out + 3 * p) }
                let mean = sum / Float(pixelCount), f = t.contrast
                for i in 0 ..< 3 * pixelCount { out[i] = clamp(f * out[i] + (1 - f) * mean) }
            default:
                let f = t.saturation
                for p in 0 ..< pixelCount {
                    let q = out + 3 * p, g = gray(q)
                    q[0] = clamp(f * q[0] + (1 - f) * g)
                    q[1] = clamp(f * q[1] + (1 - f) * g)
                    q[2] = clamp(f * q[2] + (1 - f) * g)
                }
            }
        }
    }
}
