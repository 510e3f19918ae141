/// Separable resampling of interleaved float images: per-axis tap tables and the loops that apply them.
///
/// An axis is a sparse matrix from input to output positions: output `i` is the weighted sum of the
/// inputs `indices[offsets[i]..<offsets[i+1]]`, with weights that add up to 1. Resampling an image runs
/// the x axis over every row, then the y axis over the resulting rows.
struct Resample: Sendable {
    let offsets: [Int]
    let indices: [Int]
    let weights: [Float]

    var outputCount: Int { offsets.count - 1 }

    /// Bilinear taps with PyTorch's `align_corners=False` (also OpenCV's `INTER_LINEAR`):
    /// output `i` samples input position `(i + 0.5) * in / out - 0.5`, clamped to `[0, in - 1]`.
    static func bilinear(from input: Int, to output: Int) -> Resample {
        precondition(input > 0 && output > 0, "resampling needs non-empty sizes")
        var offsets = [0], indices: [Int] = [], weights: [Float] = []
        let scale = Double(input) / Double(output)
        for i in 0..<output {
            let source = max((Double(i) + 0.5) * scale - 0.5, 0)
            let low = min(Int(source), input - 1)
            let high = min(low + 1, input - 1)
            let fraction = Float(min(source - Double(low), 1))
            if high == low || fraction == 0 {
                indices.append(low); weights.append(1)
            } else {
                indices.append(low); weights.append(1 - fraction)
                indices.append(high); weights.append(fraction)
            }
            offsets.append(indices.count)
        }
        return Resample(offsets: offsets, indices: indices, weights: weights)
    }

    /// Area (box) taps, like OpenCV's `INTER_AREA` when shrinking: output `i` covers the
    /// input interval `[i * in / out, (i + 1) * in / out)` and averages the pixels under it, each
    /// weighted by how much of it is covered (fractions at the edges). Exact integer arithmetic finds
    /// the overlaps. When enlarging, each output pixel takes its one covering input pixel (or blends
    /// two at a boundary): use `bilinear` for enlarging.
    static func area(from input: Int, to output: Int) -> Resample {
        precondition(input > 0 && output > 0, "resampling needs non-empty sizes")
        var offsets = [0], indices: [Int] = [], weights: [Float] = []
        // Positions in units of 1 / output of an input pixel: input pixel j spans [j*output, (j+1)*output).
        for i in 0..<output {
            let begin = i * input, end = (i + 1) * input
            var j = begin / output
            while j * output < end {
                let overlap = min(end, (j + 1) * output) - max(begin, j * output)
                if overlap > 0 {
                    indices.append(j)
                    weights.append(Float(Double(overlap) / Double(input)))
                }
                j += 1
            }
            offsets.append(indices.count)
        }
        return Resample(offsets: offsets, indices: indices, weights: weights)
    }

    /// Area taps when shrinking, bilinear when enlarging, identity when equal.
    static func automatic(from input: Int, to output: Int) -> Resample {
        output < input ? area(from: input, to: output) : bilinear(from: input, to: output)
    }

    /// Resamples a `width x height` image of `channels` interleaved floats to
    /// `x.outputCount x y.outputCount`, writing into `destination`.
    ///
    /// The source may be bytes (an `RGBImage`'s pixels): they are widened one tap at a time, so a large
    /// photo never needs a float copy of itself.
    static func apply<Sample: ResampleSample>(
        _ source: UnsafePointer<Sample>, width: Int, height: Int, channels: Int,
        x: Resample, y: Resample, into destination: UnsafeMutablePointer<Float>
    ) {
        let outWidth = x.outputCount, outHeight = y.outputCount
        let rowLength = outWidth * channels
        let rows = UnsafeMutablePointer<Float>.allocate(capacity: max(height * rowLength, 1))
        defer { rows.deallocate() }

        x.offsets.withUnsafeBufferPointer { xo in
        x.indices.withUnsafeBufferPointer { xi in
        x.weights.withUnsafeBufferPointer { xw in
            for row in 0..<height {
                let input = source + row * width * channels
                let output = rows + row * rowLength
                for ox in 0..<outWidth {
                    let out = output + ox * channels
                    for c in 0..<channels { out[c] = 0 }
                    for tap in xo[ox]..<xo[ox + 1] {
                        let w = xw[tap]
                        let pixel = input + xi[tap] * channels
                        for c in 0..<channels { out[c] += w * pixel[c].floatValue }
                    }
                }
            }
        }}}

        y.offsets.withUnsafeBufferPointer { yo in
        y.indices.withUnsafeBufferPointer { yi in
        y.weights.withUnsafeBufferPointer { yw in
            for oy in 0..<outHeight {
                let out = destination + oy * rowLength
                out.update(repeating: 0, count: rowLength)
                for tap in yo[oy]..<yo[oy + 1] {
                    let w = yw[tap]
                    let input = rows + yi[tap] * rowLength
                    for k in 0..<rowLength { out[k] += w * input[k] }
                }
            }
        }}}
    }
}

/// An element type `Resample.apply` reads: floats, or the bytes of an 8-bit image.
protocol ResampleSample {
    var floatValue: Float { get }
}

extension Float: ResampleSample {
    @inline(__always) var floatValue: Float { self }
}

extension UInt8: ResampleSample {
    @inline(__always) var floatValue: Float { Float(self) }
}
