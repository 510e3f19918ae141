import ConvKit

/// A heat map's values as colours: the step from the engine's numbers to a picture.
extension HeatMap {
    /// The map coloured through `colormap`, values clamped to [0, 1] (normalise first).
    public func colored(_ colormap: Colormap) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        colormap.table.withUnsafeBufferPointer { table in
            values.withUnsafeBufferPointer { v in
                pixels.withUnsafeMutableBufferPointer { out in
                    for i in 0..<v.count {
                        let entry = 3 * Colormap.tableIndex(v[i])
                        out[3 * i] = table[entry]
                        out[3 * i + 1] = table[entry + 1]
                        out[3 * i + 2] = table[entry + 2]
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }
}
