/// An 8-bit RGB image, rows top to bottom, pixels interleaved: pixel (`x`, `y`) is
/// `pixels[3 * (y * width + x) ..< 3 * (y * width + x) + 3]`.
///
/// Resampling rounds to the nearest byte. Drawing (fill, paste, text) clips at the edges.
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

    /// Rounds to the nearest byte (halves up), clamped to 0...255.
    @inline(__always)
    static func byte(_ value: Float) -> UInt8 { UInt8(min(max(value, 0), 255) + 0.5) }

    // MARK: - Mixing and drawing

    /// `(1 - alpha) * self + alpha * other`, pixel by pixel; the images must be the same size.
    /// (A Grad-CAM overlay is `photo.blended(with: heat, alpha: 0.5)`.)
    public func blended(with other: RGBImage, alpha: Float) -> RGBImage {
        precondition(width == other.width && height == other.height,
                     "cannot blend \(width)x\(height) with \(other.width)x\(other.height)")
        let a = min(max(alpha, 0), 1)
        var result = self
        other.pixels.withUnsafeBufferPointer { o in
            result.pixels.withUnsafeMutableBufferPointer { p in
                for i in 0..<p.count { p[i] = RGBImage.byte((1 - a) * Float(p[i]) + a * Float(o[i])) }
            }
        }
        return result
    }

    /// `(1 - alpha) * a + alpha * b`; see `blended(with:alpha:)`.
    public static func blend(_ a: RGBImage, _ b: RGBImage, alpha: Float) -> RGBImage {
        a.blended(with: b, alpha: alpha)
    }

    /// Paints the rectangle with `color`, clipped to the image.
    public mutating func fill(x: Int, y: Int, width rectWidth: Int, height rectHeight: Int, color: Color) {
        let x0 = max(x, 0), y0 = max(y, 0)
        let x1 = min(x + rectWidth, width), y1 = min(y + rectHeight, height)
        guard x0 < x1, y0 < y1 else { return }
        let rowWidth = width
        pixels.withUnsafeMutableBufferPointer { p in
            for row in y0..<y1 {
                for column in x0..<x1 {
                    let i = 3 * (row * rowWidth + column)
                    p[i] = color.r; p[i + 1] = color.g; p[i + 2] = color.b
                }
            }
        }
    }

    /// Draws a straight line from (`x0`, `y0`) to (`x1`, `y1`), both ends included, `thickness` pixels
    /// wide (a square pen centred on each pixel of Bresenham's line), clipped to the image.
    public mutating func drawLine(from x0: Int, _ y0: Int, to x1: Int, _ y1: Int, color: Color, thickness: Int = 1) {
        let (dx, dy) = (abs(x1 - x0), -abs(y1 - y0))
        let (sx, sy) = (x0 < x1 ? 1 : -1, y0 < y1 ? 1 : -1)
        let offset = (max(thickness, 1) - 1) / 2
        var (x, y, error) = (x0, y0, dx + dy)
        while true {
            fill(x: x - offset, y: y - offset, width: max(thickness, 1), height: max(thickness, 1), color: color)
            if x == x1 && y == y1 { break }
            let doubled = 2 * error
            if doubled >= dy { error += dy; x += sx }
            if doubled <= dx { error += dx; y += sy }
        }
    }

    /// Copies `image` with its top-left corner at (`x`, `y`), clipped to this image.
    public mutating func draw(_ image: RGBImage, x: Int, y: Int) {
        let x0 = max(x, 0), y0 = max(y, 0)
        let x1 = min(x + image.width, width), y1 = min(y + image.height, height)
        guard x0 < x1, y0 < y1 else { return }
        let rowWidth = width
        image.pixels.withUnsafeBufferPointer { source in
            pixels.withUnsafeMutableBufferPointer { p in
                for row in y0..<y1 {
                    let from = 3 * ((row - y) * image.width + (x0 - x))
                    let to = 3 * (row * rowWidth + x0)
                    (p.baseAddress! + to).update(from: source.baseAddress! + from, count: 3 * (x1 - x0))
                }
            }
        }
    }

    /// Writes `text` with the built-in 5 x 7 font, top-left corner at (`x`, `y`), clipped.
    public mutating func drawText(_ text: String, x: Int, y: Int, scale: Int = 1, color: Color = (255, 255, 255)) {
        BitmapFont.standard.draw(text, into: &self, x: x, y: y, scale: scale, color: color)
    }

    // MARK: - Layouts

    /// Images in a grid, left to right then top to bottom, each in a cell the size of the largest
    /// image (smaller ones centred), with its label (if any) centred below it, `margin` pixels around
    /// and between the cells. Labels wider than a cell are clipped by their neighbours' space.
    public static func grid(
        _ images: [RGBImage], labels: [String] = [], columns: Int, margin: Int = 4, labelScale: Int = 1,
        background: Color = (0, 0, 0), textColor: Color = (255, 255, 255)
    ) -> RGBImage {
        precondition(columns >= 1 && margin >= 0 && labelScale >= 1, "invalid grid layout")
        precondition(labels.isEmpty || labels.count == images.count, "one label per image, or none")
        guard !images.isEmpty else { return RGBImage(width: 2 * margin, height: 2 * margin, color: background) }
        let font = BitmapFont.standard
        let cellWidth = images.map(\.width).max()!
        let imageHeight = images.map(\.height).max()!
        let labelHeight = labels.isEmpty ? 0 : font.glyphHeight * labelScale + margin
        let cellHeight = imageHeight + labelHeight
        let rows = (images.count + columns - 1) / columns
        let usedColumns = min(columns, images.count)
        var canvas = RGBImage(width: margin + usedColumns * (cellWidth + margin),
                              height: margin + rows * (cellHeight + margin), color: background)
        for (index, image) in images.enumerated() {
            let cellX = margin + (index % columns) * (cellWidth + margin)
            let cellY = margin + (index / columns) * (cellHeight + margin)
            canvas.draw(image, x: cellX + (cellWidth - image.width) / 2, y: cellY + (imageHeight - image.height) / 2)
            if !labels.isEmpty {
                let label = labels[index]
                let textWidth = font.size(of: label, scale: labelScale).width
                canvas.drawText(label, x: cellX + (cellWidth - textWidth) / 2, y: cellY + imageHeight + margin,
                                scale: labelScale, color: textColor)
            }
        }
        return canvas
    }

    /// Images side by side, `gap` pixels apart, vertically centred on a `background` as tall as the tallest.
    public static func strip(_ images: [RGBImage], gap: Int = 4, background: Color = (0, 0, 0)) -> RGBImage {
        precondition(gap >= 0, "negative gap")
        guard !images.isEmpty else { return RGBImage(width: 0, height: 0) }
        let height = images.map(\.height).max()!
        let width = images.map(\.width).reduce(0, +) + gap * (images.count - 1)
        var canvas = RGBImage(width: width, height: height, color: background)
        var x = 0
        for image in images {
            canvas.draw(image, x: x, y: (height - image.height) / 2)
            x += image.width + gap
        }
        return canvas
    }
}
