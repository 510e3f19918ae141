import ConvKit

/// Images laid out on one canvas: labelled grids and side-by-side strips.
extension RGBImage {
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
