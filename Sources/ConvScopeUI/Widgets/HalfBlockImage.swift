/// An 8-bit RGB image, row-major, three bytes per pixel.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `width * height * 3` bytes: red, green, blue for each pixel, rows top to bottom.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height * 3,
                     "an RGB image needs width * height * 3 bytes")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// An image of one colour.
    public init(width: Int, height: Int, fill: Color = .black) {
        let count = max(width, 0) * max(height, 0)
        var pixels = [UInt8](repeating: 0, count: count * 3)
        for index in 0..<count {
            pixels[3 * index] = fill.red
            pixels[3 * index + 1] = fill.green
            pixels[3 * index + 2] = fill.blue
        }
        self.init(width: max(width, 0), height: max(height, 0), pixels: pixels)
    }

    public subscript(x: Int, y: Int) -> Color {
        get {
            let base = 3 * (y * width + x)
            return Color(red: pixels[base], green: pixels[base + 1], blue: pixels[base + 2])
        }
        set {
            let base = 3 * (y * width + x)
            pixels[base] = newValue.red
            pixels[base + 1] = newValue.green
            pixels[base + 2] = newValue.blue
        }
    }
}

/// How an image is shrunk to fit its region.
public enum ScaleFilter: Sendable, Hashable {
    /// Take the source pixel under each target pixel's centre: crisp, may drop thin details.
    case nearest
    /// Average every source pixel the target pixel covers: smooth, keeps overall brightness.
    case area
}

/// An image drawn with the upper half block `▀`: each cell shows two pixels stacked vertically,
/// the top one as the foreground colour and the bottom one as the background colour.
///
/// The image keeps its aspect ratio and is centred in its region. When it fits, it is enlarged by
/// the largest whole factor that still fits (each pixel becomes an s x s block, so a 32 x 32 CIFAR
/// image stays sharp); otherwise it is shrunk with `filter`. With an odd pixel height the bottom
/// row of cells has only a top pixel and keeps the terminal's background.
public struct HalfBlockImage: Sendable {
    public var image: RGBImage
    public var filter: ScaleFilter

    public init(image: RGBImage, filter: ScaleFilter = .area) {
        self.image = image
        self.filter = filter
    }

    /// The pixel size the image is drawn at in a region of `columns` x `rows` cells
    /// (that is `columns` x `2 * rows` pixels); zero when either side is empty.
    public static func fittedSize(width: Int, height: Int, columns: Int, rows: Int) -> (width: Int, height: Int) {
        let (availableWidth, availableHeight) = (columns, rows * 2)
        guard width > 0, height > 0, availableWidth > 0, availableHeight > 0 else { return (0, 0) }
        if width <= availableWidth && height <= availableHeight {
            let scale = min(availableWidth / width, availableHeight / height)
            return (width * scale, height * scale)
        }
        let shrink = max(Double(width) / Double(availableWidth), Double(height) / Double(availableHeight))
        return (max(Int(Double(width) / shrink), 1), max(Int(Double(height) / shrink), 1))
    }

    /// `image` resampled to `width` x `height`: pixel replication when enlarging by a whole factor,
    /// otherwise `filter`.
    public static func resampled(_ image: RGBImage, width: Int, height: Int, filter: ScaleFilter) -> RGBImage {
        if width == image.width && height == image.height { return image }
        var result = RGBImage(width: width, height: height)
        let shrinking = width < image.width || height < image.height
        for y in 0..<height {
            let top = y * image.height / height
            let bottom = max((y + 1) * image.height / height, top + 1)
            for x in 0..<width {
                let left = x * image.width / width
                let right = max((x + 1) * image.width / width, left + 1)
                if shrinking && filter == .area {
                    result[x, y] = average(of: image, columns: left..<right, rows: top..<bottom)
                } else {
                    let sourceX = min((2 * x + 1) * image.width / (2 * width), image.width - 1)
                    let sourceY = min((2 * y + 1) * image.height / (2 * height), image.height - 1)
                    result[x, y] = image[sourceX, sourceY]
                }
            }
        }
        return result
    }

    /// Draws the image centred in `rect` and returns the cells it covers.
    @discardableResult
    public func draw(into grid: inout CellGrid, in rect: Rect) -> Rect {
        let size = HalfBlockImage.fittedSize(width: image.width, height: image.height, columns: rect.width, rows: rect.height)
        guard size.width > 0 else { return Rect(x: rect.x, y: rect.y, width: 0, height: 0) }
        let scaled = HalfBlockImage.resampled(image, width: size.width, height: size.height, filter: filter)
        let area = rect.centered(width: size.width, height: (size.height + 1) / 2)
        for row in 0..<area.height {
            for column in 0..<size.width {
                let top = scaled[column, 2 * row]
                let bottom: Color? = 2 * row + 1 < size.height ? scaled[column, 2 * row + 1] : nil
                grid.set(Cell("▀", style: Style(foreground: top, background: bottom)),
                         x: area.x + column, y: area.y + row, clip: rect)
            }
        }
        return area
    }

    private static func average(of image: RGBImage, columns: Range<Int>, rows: Range<Int>) -> Color {
        var (red, green, blue) = (0, 0, 0)
        for y in rows {
            for x in columns {
                let pixel = image[x, y]
                red += Int(pixel.red)
                green += Int(pixel.green)
                blue += Int(pixel.blue)
            }
        }
        let count = columns.count * rows.count
        return Color(red: UInt8((red + count / 2) / count), green: UInt8((green + count / 2) / count),
                     blue: UInt8((blue + count / 2) / count))
    }
}

/// A grid of numbers shown as colours (a feature map, a class-activation map, a filter), drawn as
/// a `HalfBlockImage`.
///
/// Values are scaled from `range` (by default the smallest to the largest finite value) to [0, 1]
/// and passed to `colormap`. A constant map shows the colormap's middle; non-finite values show
/// `invalidColor`.
public struct Heatmap: Sendable {
    public var width: Int
    public var height: Int
    /// `width * height` values, row-major.
    public var values: [Float]
    public var range: ClosedRange<Float>?
    public var colormap: @Sendable (Double) -> Color
    public var invalidColor: Color

    public init(
        width: Int, height: Int, values: [Float], range: ClosedRange<Float>? = nil,
        colormap: @escaping @Sendable (Double) -> Color = Colormaps.jet, invalidColor: Color = .magenta
    ) {
        precondition(width >= 0 && height >= 0 && values.count == width * height, "a heatmap needs width * height values")
        self.width = width
        self.height = height
        self.values = values
        self.range = range
        self.colormap = colormap
        self.invalidColor = invalidColor
    }

    /// The colours, one pixel per value.
    public func image() -> RGBImage {
        let finite = values.filter(\.isFinite)
        let low = range?.lowerBound ?? finite.min() ?? 0
        let high = range?.upperBound ?? finite.max() ?? 0
        var image = RGBImage(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                let value = values[y * width + x]
                guard value.isFinite else { image[x, y] = invalidColor; continue }
                let fraction = high > low ? (Double(value) - Double(low)) / (Double(high) - Double(low)) : 0.5
                image[x, y] = colormap(fraction)
            }
        }
        return image
    }

    /// Draws the heatmap centred in `rect` and returns the cells it covers.
    @discardableResult
    public func draw(into grid: inout CellGrid, in rect: Rect, filter: ScaleFilter = .area) -> Rect {
        HalfBlockImage(image: image(), filter: filter).draw(into: &grid, in: rect)
    }
}
