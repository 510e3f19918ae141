import ConvKit

extension ExplanationBoard {
    /// `entry`'s map coloured at the input's resolution: CAM maps upsampled bilinearly on jet, pixel maps
    /// at full resolution (diverging palette, white zero, when signed). Nil for a baseline or when the
    /// method cannot explain this model (`entry.error`).
    public func heatmap(of entry: Entry) -> RGBImage? {
        entry.explanation.map { Visualizer.heatmap($0, size: image.width) }
    }
}
