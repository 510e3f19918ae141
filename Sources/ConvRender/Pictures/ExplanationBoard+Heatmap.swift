import ConvKit

extension ExplanationBoard {
    /// `entry`'s map coloured at the input's resolution: CAM maps upsampled bilinearly on jet, pixel maps
    /// at full resolution (diverging palette, white zero, when signed). In diff mode (`since`), the map's
    /// change on the diverging palette at a fixed scale: white where nothing changed, full colour where the
    /// map went from one end of its scale to the other (`Entry.changeSpan`). Nil for a baseline or when the
    /// method cannot explain this model (`entry.error`).
    public func heatmap(of entry: Entry) -> RGBImage? {
        guard since != nil else { return entry.explanation.map { Visualizer.heatmap($0, size: image.width) } }
        guard let change = entry.mapChange else { return nil }
        let span = entry.changeSpan
        return HeatMap(width: change.width, height: change.height, values: change.values.map { min(max(0.5 + 0.5 * $0 / span, 0), 1) })
            .colored(.diverging)
    }
}
