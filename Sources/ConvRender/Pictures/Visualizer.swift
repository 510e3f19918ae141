import ConvKit
import Foundation

/// Turns interpretation results into pictures (`RGBImage`) for PNG files and for the TUI.
public enum Visualizer {
    /// The heatmap overlay of pytorch-grad-cam's `show_cam_on_image`: the map min-max scaled to [0, 1],
    /// upsampled bilinearly to `size` x `size`, coloured, and blended 50/50 with the (un-normalised,
    /// bilinearly upsampled) image. Unlike that function, the blend is not divided by its maximum
    /// afterwards, so a constant map gives exactly the colormap's colour blended with the image.
    /// An empty map (no positive evidence) stays all zero: the colormap's lowest colour.
    public static func overlay(
        image: RGBImage, map: ActivationMap, size: Int = 256, colormap: Colormap = .jet
    ) -> (heatmap: RGBImage, overlay: RGBImage) {
        overlay(image: image, explanation: .activation(map), size: size, colormap: colormap)
    }

    /// The overlay of any explanation: CAM maps as `overlay(image:map:)`; pixel maps at their full
    /// resolution, signed ones (Integrated Gradients, Guided Backprop, Occlusion...) on the diverging
    /// palette with zero at its white middle and the largest magnitude at its ends, unsigned ones min-max
    /// scaled on `colormap`.
    public static func overlay(
        image: RGBImage, explanation: Explanation, size: Int = 256, colormap: Colormap = .jet
    ) -> (heatmap: RGBImage, overlay: RGBImage) {
        let heat = heatmap(explanation, size: size, colormap: colormap)
        let picture = image.resizedBilinear(width: size, height: size)
        return (heat, RGBImage.blend(heat, picture, alpha: 0.5))
    }

    /// The heatmap half of `overlay(image:explanation:size:colormap:)`, without the image: what the
    /// explanation board shows for each method.
    public static func heatmap(_ explanation: Explanation, size: Int, colormap: Colormap = .jet) -> RGBImage {
        switch explanation {
        case .activation(let map):
            let normalized = HeatMap(width: map.width, height: map.height, values: map.normalized)
            return normalized.resizedBilinear(width: size, height: size).colored(colormap)
        case .pixel(let attribution):
            return pixelHeatMap(attribution, colormap: colormap).resizedBilinear(width: size, height: size)
        }
    }

    /// A pixel attribution's map coloured at its own resolution (diverging when signed).
    public static func pixelHeatMap(_ attribution: PixelAttribution, colormap: Colormap = .jet) -> RGBImage {
        let map = HeatMap(width: attribution.width, height: attribution.height, values: attribution.map)
        return attribution.method.isSigned ? map.signedNormalized().colored(.diverging) : map.normalized().colored(colormap)
    }

    /// Image | heatmap | overlay side by side, with the method, layer, class and score written under them.
    public static func strip(
        image: RGBImage, map: ActivationMap, className: String, probability: Float, size: Int = 256,
        colormap: Colormap = .jet
    ) -> RGBImage {
        strip(image: image, explanation: .activation(map), className: className, probability: probability, size: size, colormap: colormap)
    }

    /// Image | heatmap | overlay of any explanation, captioned.
    public static func strip(
        image: RGBImage, explanation: Explanation, className: String, probability: Float, size: Int = 256,
        colormap: Colormap = .jet
    ) -> RGBImage {
        let (heat, blended) = overlay(image: image, explanation: explanation, size: size, colormap: colormap)
        let pictures = RGBImage.strip([image.resizedBilinear(width: size, height: size), heat, blended], gap: 8)
        let scale = size >= 192 ? 2 : 1
        let lineHeight = (BitmapFont.standard.lineHeight + 2) * scale
        var canvas = RGBImage(width: pictures.width + 16, height: pictures.height + 16 + 2 * lineHeight + 8)
        canvas.draw(pictures, x: 8, y: 8)
        var caption = String(format: "%@ %.2f", className, probability)
        let where_: String
        switch explanation {
        case .activation(let map):
            if map.isEmpty { caption += "  (no positive evidence)" }
            where_ = "\(map.method) at \(map.layer)"
        case .pixel(let attribution):
            where_ = "\(attribution.method)" + (attribution.layer.map { " at \($0)" } ?? "") + (attribution.method.isSigned ? "  (blue -, red +)" : "")
        }
        canvas.drawText(caption, x: 8, y: pictures.height + 16, scale: scale)
        canvas.drawText(where_, x: 8, y: pictures.height + 16 + lineHeight, scale: scale, color: (180, 180, 180))
        return canvas
    }

    /// One tile per channel plane, coloured on a shared or separate scale: a diverging map centred on
    /// zero when values are signed, `sequential` otherwise.
    public static func tiles(
        planes: [[Float]], width: Int, height: Int, scope: ColorScaleScope, globalRange: ClosedRange<Float>? = nil,
        sequential: Colormap = .viridis
    ) -> [RGBImage] {
        // The layer's range only when a tile is coloured by it (the app redraws these every frame).
        let usesLayerRange = scope == .layer || (scope == .global && globalRange == nil)
        let layerRange = usesLayerRange ? planes.joined().finiteRange : 0...0
        return planes.map { plane in
            let range = scope == .map ? plane.finiteRange : scope == .layer ? layerRange : (globalRange ?? layerRange)
            let signed = range.lowerBound < 0
            let values: [Float] = plane.map { v in
                if signed {
                    let magnitude = max(abs(range.lowerBound), abs(range.upperBound))
                    return magnitude > 0 ? 0.5 + v / (2 * magnitude) : 0.5
                }
                return range.upperBound > range.lowerBound ? (v - range.lowerBound) / (range.upperBound - range.lowerBound) : 0
            }
            return HeatMap(width: width, height: height, values: values).colored(signed ? .diverging : sequential)
        }
    }

    /// The first layer's filters as colour patches (k x k x RGB), each channel scaled by the scope's range.
    public static func rgbFilters(_ bank: FilterBank, scope: ColorScaleScope, globalRange: ClosedRange<Float>? = nil) -> [RGBImage] {
        precondition(bank.isRGB, "colour patches need three input channels")
        let k = bank.kernel, layerRange = bank.weights.finiteRange
        return (0..<bank.outChannels).map { out in
            let planes = (0..<3).map { Array(bank.plane(out: out, channel: $0)) }
            let range = scope == .map ? planes.joined().finiteRange : scope == .layer ? layerRange : (globalRange ?? layerRange)
            let span = max(range.upperBound - range.lowerBound, 1e-12)
            var pixels = [UInt8](repeating: 0, count: k * k * 3)
            for p in 0..<(k * k) {
                for c in 0..<3 {
                    pixels[p * 3 + c] = UInt8(max(0, min(255, ((planes[c][p] - range.lowerBound) / span * 255).rounded())))
                }
            }
            return RGBImage(width: k, height: k, pixels: pixels)
        }
    }

    /// A labelled grid of tiles, each enlarged (nearest neighbour) to about `tile` pixels, under a title.
    public static func grid(_ tiles: [RGBImage], labels: [String], title: String, tile: Int = 48, columns: Int? = nil) -> RGBImage {
        let side = tiles.first.map { max($0.width, $0.height) } ?? 1
        let enlarged = tiles.map { $0.scaledNearest(by: max(1, tile / side)) }
        let columnCount = columns ?? max(1, Int(Double(tiles.count).squareRoot().rounded(.up)))
        let body = RGBImage.grid(enlarged, labels: labels, columns: columnCount, margin: 6)
        let titleHeight = BitmapFont.standard.lineHeight + 8
        var canvas = RGBImage(width: max(body.width, BitmapFont.standard.size(of: title).width + 12), height: body.height + titleHeight)
        canvas.drawText(title, x: 6, y: 6)
        canvas.draw(body, x: 0, y: titleHeight)
        return canvas
    }
}
