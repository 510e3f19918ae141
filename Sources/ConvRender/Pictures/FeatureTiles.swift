import ConvKit

/// The tiles of the feature-map and filter grids, made one way for the app's features view, its PNG export
/// and `convscope export`: each front end then lays them out (cells or a PNG grid) and labels them itself.
public enum FeatureTiles {
    /// One tile per feature map, coloured by `scope` (`globalRange` for `.global`); a flat layer's output is
    /// one row of `channels` values.
    public static func maps(_ maps: FeatureMaps, scope: ColorScaleScope, globalRange: ClosedRange<Float>?) -> [RGBImage] {
        guard maps.isSpatial else {
            return Visualizer.tiles(planes: [maps.values], width: maps.channels, height: 1, scope: scope, globalRange: globalRange)
        }
        let planes = (0..<maps.channels).map { Array(maps.plane($0)) }
        return Visualizer.tiles(planes: planes, width: maps.width, height: maps.height, scope: scope, globalRange: globalRange)
    }

    /// One tile per filter: a colour patch when the filters see the three RGB channels and no `channel` is
    /// asked for, else one plane per filter, input `channel`'s or the average over the inputs.
    public static func filters(
        _ bank: FilterBank, channel: Int? = nil, scope: ColorScaleScope, globalRange: ClosedRange<Float>?
    ) -> [RGBImage] {
        if bank.isRGB && channel == nil { return Visualizer.rgbFilters(bank, scope: scope, globalRange: globalRange) }
        let planes = (0..<bank.outChannels).map { out in
            channel.map { Array(bank.plane(out: out, channel: $0)) } ?? bank.averagePlane(out: out)
        }
        return Visualizer.tiles(planes: planes, width: bank.kernel, height: bank.kernel, scope: scope, globalRange: globalRange)
    }
}
