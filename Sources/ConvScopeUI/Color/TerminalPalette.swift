/// Quantisation of `Color`s to the colour numbers curses understands, for each `ColorMode`.
///
/// Distances are squared Euclidean in RGB. Indices 0-15 of the 256-colour palette are never chosen,
/// because emulators and user themes redefine them freely; indices 16-255 are fixed by xterm.
public enum TerminalPalette {
    /// The channel levels of the xterm 6x6x6 colour cube (indices 16-231).
    public static let cubeLevels: [UInt8] = [0, 95, 135, 175, 215, 255]

    /// The eight basic colours with xterm's default RGB values, in ANSI order
    /// (black, red, green, yellow, blue, magenta, cyan, white).
    public static let basic8: [Color] = [
        Color(hex: 0x000000), Color(hex: 0xCD0000), Color(hex: 0x00CD00), Color(hex: 0xCDCD00),
        Color(hex: 0x0000EE), Color(hex: 0xCD00CD), Color(hex: 0x00CDCD), Color(hex: 0xE5E5E5),
    ]

    /// The RGB value xterm shows for a palette index in 16...255 (cube or grey ramp).
    public static func xterm256Color(index: Int) -> Color {
        precondition((16...255).contains(index), "only indices 16-255 have fixed colours")
        if index >= 232 { return Color(grey: UInt8(8 + 10 * (index - 232))) }
        let cube = index - 16
        return Color(red: cubeLevels[cube / 36], green: cubeLevels[(cube / 6) % 6], blue: cubeLevels[cube % 6])
    }

    /// The nearest of palette indices 16-255: the nearest cube colour or the nearest grey-ramp step
    /// (`8 + 10 * i`), whichever is closer.
    public static func xterm256Index(nearest color: Color) -> Int {
        let r = nearestCubeLevel(color.red), g = nearestCubeLevel(color.green), b = nearestCubeLevel(color.blue)
        let cubeIndex = 16 + 36 * r + 6 * g + b
        let mean = (Int(color.red) + Int(color.green) + Int(color.blue)) / 3
        let greyStep = min(max((mean - 8 + 5) / 10, 0), 23)
        let greyIndex = 232 + greyStep
        let cubeDistance = color.squaredDistance(to: xterm256Color(index: cubeIndex))
        let greyDistance = color.squaredDistance(to: xterm256Color(index: greyIndex))
        return greyDistance < cubeDistance ? greyIndex : cubeIndex
    }

    /// The nearest of the eight basic colours (0-7).
    public static func basic8Index(nearest color: Color) -> Int {
        var best = 0
        for index in 1..<basic8.count
        where color.squaredDistance(to: basic8[index]) < color.squaredDistance(to: basic8[best]) {
            best = index
        }
        return best
    }

    /// The curses colour number for `color` in `mode`; `nil` (the terminal's own default colour) and
    /// every colour in `.none` mode give -1, the `use_default_colors` value.
    ///
    /// In `.trueColor` mode the number is the packed RGB value. Direct-colour terminfo entries keep
    /// the first `reservedDirectColors` numbers (8 for `xterm-direct`, from its `CO` capability) for
    /// the ANSI palette, so a packed value that small is nudged to green 1, which no eye can tell apart.
    public static func cursesColor(for color: Color?, mode: ColorMode, reservedDirectColors: Int = 8) -> Int32 {
        guard let color else { return -1 }
        switch mode {
        case .trueColor:
            let packed = Int32(color.packed)
            return packed < reservedDirectColors ? packed | 0x100 : packed
        case .palette256: return Int32(xterm256Index(nearest: color))
        case .palette8: return Int32(basic8Index(nearest: color))
        case .none: return -1
        }
    }

    /// Shade glyphs from dark to bright, for showing images without colour.
    public static let shades: [Unicode.Scalar] = [" ", "░", "▒", "▓", "█"]

    /// The glyph to show for `cell` when the terminal has no colours (`.none` mode): a half-block
    /// image cell (`▀` with a foreground colour) becomes the shade of its pixels' mean brightness,
    /// so pictures stay recognisable; every other cell keeps its glyph.
    public static func monochromeGlyph(for cell: Cell) -> Unicode.Scalar {
        guard cell.glyph == "▀", let top = cell.foreground else { return cell.glyph }
        let pixels = [top] + (cell.background.map { [$0] } ?? [])
        let luma = pixels.map { 0.299 * Double($0.red) + 0.587 * Double($0.green) + 0.114 * Double($0.blue) }
            .reduce(0, +) / Double(pixels.count)
        return shades[min(Int(luma / 256 * Double(shades.count)), shades.count - 1)]
    }

    private static func nearestCubeLevel(_ value: UInt8) -> Int {
        // Midpoints between successive levels: 47.5, 115, 155, 195, 235.
        switch value {
        case 0..<48: return 0
        case 48..<115: return 1
        default: return min((Int(value) - 115) / 40 + 2, 5)
        }
    }
}
