import ConvKit

/// Mixing and drawing on an `RGBImage`: blends, rectangles, lines, pasted images and text, each clipped at
/// the image's edges.
extension RGBImage {
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
}
