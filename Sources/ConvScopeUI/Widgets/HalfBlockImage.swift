import ConvKit

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
    /// ConvKit's area average when shrinking with `.area`, otherwise the source pixel under each
    /// target pixel's centre.
    public static func resampled(_ image: RGBImage, width: Int, height: Int, filter: ScaleFilter) -> RGBImage {
        if width == image.width && height == image.height { return image }
        let factor = width / max(image.width, 1)
        if factor >= 1 && width == image.width * factor && height == image.height * factor {
            return image.scaledNearest(by: factor)
        }
        if filter == .area && width <= image.width && height <= image.height {
            return image.downscaledArea(width: width, height: height)
        }
        var result = RGBImage(width: width, height: height)
        for y in 0..<height {
            let sourceY = min((2 * y + 1) * image.height / (2 * height), image.height - 1)
            for x in 0..<width {
                result[x, y] = image[min((2 * x + 1) * image.width / (2 * width), image.width - 1), sourceY]
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
                let top = Color(scaled[column, 2 * row])
                let bottom: Color? = 2 * row + 1 < size.height ? Color(scaled[column, 2 * row + 1]) : nil
                grid.set(Cell("▀", style: Style(foreground: top, background: bottom)),
                         x: area.x + column, y: area.y + row, clip: rect)
            }
        }
        return area
    }
}
