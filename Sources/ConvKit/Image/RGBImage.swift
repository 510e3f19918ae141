/// An 8-bit RGB image, rows top to bottom, pixels interleaved: pixel (`x`, `y`) is
/// `pixels[3 * (y * width + x) ..< 3 * (y * width + x) + 3]`.
///
/// Resampling rounds to the nearest byte. The engine's image value: photos come in as one and feature
/// visualisations go out as one; drawing on it and laying images out is ConvRender's.
public struct RGBImage: Equatable, Sendable {
    /// One colour, 8 bits per channel.
    public typealias Color = (r: UInt8, g: UInt8, b: UInt8)

    public let width: Int
    public let height: Int
    /// `width * height * 3` bytes.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height * 3,
                     "an RGB image of \(width)x\(height) needs \(width * height * 3) bytes, got \(pixels.count)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// An image filled with `color` (black by default).
    public init(width: Int, height: Int, color: Color = (0, 0, 0)) {
        precondition(width >= 0 && height >= 0, "negative image size")
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        if color != (0, 0, 0) {
            for i in 0..<width * height {
                pixels[3 * i] = color.r; pixels[3 * i + 1] = color.g; pixels[3 * i + 2] = color.b
            }
        }
        self.init(width: width, height: height, pixels: pixels)
    }

    /// The pixel at column `x`, row `y`.
    public subscript(x: Int, y: Int) -> Color {
        get {
            precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel (\(x), \(y)) outside \(width)x\(height)")
            let i = 3 * (y * width + x)
            return (pixels[i], pixels[i + 1], pixels[i + 2])
        }
        set {
            precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel (\(x), \(y)) outside \(width)x\(height)")
            let i = 3 * (y * width + x)
            pixels[i] = newValue.r; pixels[i + 1] = newValue.g; pixels[i + 2] = newValue.b
        }
    }

    // MARK: - Resampling

    /// Bilinear resize with `align_corners=False` semantics (PyTorch `F.interpolate(mode="bilinear")`,
    /// OpenCV `INTER_LINEAR`): output pixel `i` samples input position `(i + 0.5) * in / out - 0.5`,
    /// clamped to the image. Best for enlarging; shrinking by more than 2x aliases (use `downscaledArea`).
    public func resizedBilinear(width newWidth: Int, height newHeight: Int) -> RGBImage {
        resampled(x: .bilinear(from: width, to: newWidth), y: .bilinear(from: height, to: newHeight))
    }

    /// Area-average resize: each output pixel is the mean of the input area it covers, pixels cut by
    /// the area's edges weighted by the covered fraction. When shrinking this is OpenCV's
    /// `INTER_AREA` (identical bytes on the images tried). The way to bring a photo down to 32 x 32.
    public func downscaledArea(width newWidth: Int, height newHeight: Int) -> RGBImage {
        resampled(x: .area(from: width, to: newWidth), y: .area(from: height, to: newHeight))
    }

    /// Resize choosing per axis: area average where it shrinks, bilinear where it enlarges.
    public func resized(width newWidth: Int, height newHeight: Int) -> RGBImage {
        resampled(x: .automatic(from: width, to: newWidth), y: .automatic(from: height, to: newHeight))
    }

    /// Each pixel repeated as a `factor` x `factor` block: crisp enlargement of tiny images.
    public func scaledNearest(by factor: Int) -> RGBImage {
        precondition(factor >= 1, "scale factor must be at least 1")
        var result = RGBImage(width: width * factor, height: height * factor)
        pixels.withUnsafeBufferPointer { source in
            result.pixels.withUnsafeMutableBufferPointer { out in
                let outWidth = width * factor
                for y in 0..<height * factor {
                    let sourceRow = (y / factor) * width
                    for x in 0..<outWidth {
                        let s = 3 * (sourceRow + x / factor), d = 3 * (y * outWidth + x)
                        out[d] = source[s]; out[d + 1] = source[s + 1]; out[d + 2] = source[s + 2]
                    }
                }
            }
        }
        return result
    }

    /// The `width` x `height` region whose top-left corner is (`x`, `y`); it must lie inside the image.
    public func cropped(x: Int, y: Int, width cropWidth: Int, height cropHeight: Int) -> RGBImage {
        precondition(x >= 0 && y >= 0 && cropWidth >= 0 && cropHeight >= 0 &&
                     x + cropWidth <= width && y + cropHeight <= height, "crop outside the image")
        var result = RGBImage(width: cropWidth, height: cropHeight)
        for row in 0..<cropHeight {
            let from = 3 * ((y + row) * width + x)
            result.pixels.replaceSubrange(3 * row * cropWidth ..< 3 * (row + 1) * cropWidth,
                                          with: pixels[from ..< from + 3 * cropWidth])
        }
        return result
    }

    /// The largest centred square (for photos headed for a square network input).
    public func centerCroppedSquare() -> RGBImage {
        let side = min(width, height)
        return cropped(x: (width - side) / 2, y: (height - side) / 2, width: side, height: side)
    }

    private func resampled(x: Resample, y: Resample) -> RGBImage {
        precondition(width > 0 && height > 0, "cannot resize an empty image")
        let outWidth = x.outputCount, outHeight = y.outputCount
        var floats = [Float](repeating: 0, count: outWidth * outHeight * 3)
        pixels.withUnsafeBufferPointer { s in
            floats.withUnsafeMutableBufferPointer { d in
                Resample.apply(s.baseAddress!, width: width, height: height, channels: 3, x: x, y: y, into: d.baseAddress!)
            }
        }
        return RGBImage(width: outWidth, height: outHeight, pixels: floats.map(RGBImage.byte))
    }

    /// Rounds to the nearest byte (halves up), clamped to 0...255: how every resampled or mixed pixel
    /// becomes a byte.
    @inline(__always)
    public static func byte(_ value: Float) -> UInt8 { UInt8(min(max(value, 0), 255) + 0.5) }
}
