import ConvKit

extension SanityCheck {
    /// The row of maps per method as the layers are randomised (trained first), one tile per map, each
    /// min-max scaled on `colormap`.
    public func picture(width: Int = 32, height: Int = 32, colormap: Colormap = .jet) -> RGBImage {
        var tiles: [RGBImage] = [], labels: [String] = []
        for (m, method) in methods.enumerated() {
            for (n, map) in ([referenceMaps[m]] + steps.map { $0.maps[m] }).enumerated() {
                tiles.append(HeatMap(width: width, height: height, values: map).normalized().colored(colormap))
                labels.append(n == 0 ? "\(method.rawValue)" : steps[n - 1].layer)
            }
        }
        return Visualizer.grid(
            tiles, labels: labels, title: "\(mode.rawValue) randomisation: trained, then each layer", tile: 64,
            columns: steps.count + 1)
    }
}
