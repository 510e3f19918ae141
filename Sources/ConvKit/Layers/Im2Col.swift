/// Lowers a channels-last convolution to a matrix product and back.
///
/// Row `(n, oy, ox)` of the column matrix holds the input window under output pixel `(oy, ox)` of image
/// `n`, ordered kernel-row, kernel-column, channel: exactly the order of an OHWI weight row, so that
/// `output = columns x weight^T`. Out-of-image taps (padding) read as zero.
struct Im2Col {
    let height, width, channels: Int
    let kernel, stride, padding: Int
    let outHeight, outWidth: Int

    /// Columns per row: `kernel * kernel * channels`.
    var rowLength: Int { kernel * kernel * channels }
    /// Rows per image: `outHeight * outWidth`.
    var rowsPerImage: Int { outHeight * outWidth }

    /// Fills `columns` with the windows of `images` consecutive images starting at `source`, one row
    /// of `rowStride` elements (at least `rowLength`; the rest is left as it is) per output pixel.
    func lower<Element: Numeric>(
        _ source: UnsafePointer<Element>, images: Int, into columns: UnsafeMutablePointer<Element>, rowStride: Int? = nil
    ) {
        let c = channels, k = kernel, span = k * c, stride = rowStride ?? rowLength
        var row = columns
        for image in 0..<images {
            let src = source + image * height * width * c
            for oy in 0..<outHeight {
                let y0 = oy * self.stride - padding
                for ox in 0..<outWidth {
                    let x0 = ox * self.stride - padding
                    let inside = x0 >= 0 && x0 + k <= width
                    for ky in 0..<k {
                        let y = y0 + ky
                        let dst = row + ky * span
                        if y < 0 || y >= height {
                            dst.update(repeating: 0, count: span)
                        } else if inside {
                            dst.update(from: src + (y * width + x0) * c, count: span)
                        } else {
                            for kx in 0..<k {
                                let x = x0 + kx
                                if x < 0 || x >= width {
                                    (dst + kx * c).update(repeating: 0, count: c)
                                } else {
                                    (dst + kx * c).update(from: src + (y * width + x) * c, count: c)
                                }
                            }
                        }
                    }
                    row += stride
                }
            }
        }
    }

    /// Adds each row of `columns` back onto the pixels it was read from; `destination` must be zeroed first.
    func raise(_ columns: UnsafePointer<Float>, images: Int, into destination: UnsafeMutablePointer<Float>) {
        let c = channels, k = kernel, span = k * c
        var row = columns
        for image in 0..<images {
            let dst = destination + image * height * width * c
            for oy in 0..<outHeight {
                let y0 = oy * stride - padding
                for ox in 0..<outWidth {
                    let x0 = ox * stride - padding
                    for ky in 0..<k {
                        let y = y0 + ky
                        guard y >= 0 && y < height else { continue }
                        let src = row + ky * span
                        for kx in 0..<k {
                            let x = x0 + kx
                            guard x >= 0 && x < width else { continue }
                            let d = dst + (y * width + x) * c, s = src + kx * c
                            for i in 0..<c { d[i] += s[i] }
                        }
                    }
                    row += rowLength
                }
            }
        }
    }
}
