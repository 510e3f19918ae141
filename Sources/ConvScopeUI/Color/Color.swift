/// A 24-bit RGB colour, 8 bits per channel.
///
/// Widgets speak only in these; the backend quantises them to whatever the terminal can show
/// (see `ColorMode` and `TerminalPalette`).
public struct Color: Sendable, Hashable, CustomStringConvertible {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8

    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// A colour from `0xRRGGBB`.
    public init(hex: UInt32) {
        self.init(red: UInt8((hex >> 16) & 0xFF), green: UInt8((hex >> 8) & 0xFF), blue: UInt8(hex & 0xFF))
    }

    /// A colour from the engine's `(r, g, b)` byte triples (`RGBImage.Color`, `Colormap.Color`).
    public init(_ rgb: (r: UInt8, g: UInt8, b: UInt8)) {
        self.init(red: rgb.r, green: rgb.g, blue: rgb.b)
    }

    /// A grey with all three channels equal to `level`.
    public init(grey level: UInt8) {
        self.init(red: level, green: level, blue: level)
    }

    /// A colour from channels in [0, 1]; values outside are clamped and NaN becomes 0.
    public init(unitRed red: Double, green: Double, blue: Double) {
        self.init(red: Color.byte(red), green: Color.byte(green), blue: Color.byte(blue))
    }

    /// The colour packed as `0xRRGGBB`.
    public var packed: UInt32 { UInt32(red) << 16 | UInt32(green) << 8 | UInt32(blue) }

    /// Straight-line interpolation towards `other`: `t = 0` gives `self`, `t = 1` gives `other`.
    public func mixed(with other: Color, by t: Double) -> Color {
        let t = t.isNaN ? 0 : min(max(t, 0), 1)
        func channel(_ a: UInt8, _ b: UInt8) -> UInt8 {
            UInt8((Double(a) + (Double(b) - Double(a)) * t).rounded())
        }
        return Color(red: channel(red, other.red), green: channel(green, other.green), blue: channel(blue, other.blue))
    }

    /// Squared Euclidean distance in RGB space, the metric used to pick the nearest palette colour.
    public func squaredDistance(to other: Color) -> Int {
        let dr = Int(red) - Int(other.red)
        let dg = Int(green) - Int(other.green)
        let db = Int(blue) - Int(other.blue)
        return dr * dr + dg * dg + db * db
    }

    public var description: String {
        let hex = String(packed, radix: 16)
        return "#" + String(repeating: "0", count: 6 - hex.count) + hex
    }

    private static func byte(_ unit: Double) -> UInt8 {
        guard !unit.isNaN else { return 0 }
        return UInt8((min(max(unit, 0), 1) * 255).rounded())
    }
}

extension Color {
    public static let black = Color(hex: 0x000000)
    public static let white = Color(hex: 0xFFFFFF)
    public static let red = Color(hex: 0xFF0000)
    public static let green = Color(hex: 0x00FF00)
    public static let blue = Color(hex: 0x0000FF)
    public static let yellow = Color(hex: 0xFFFF00)
    public static let cyan = Color(hex: 0x00FFFF)
    public static let magenta = Color(hex: 0xFF00FF)
    public static let grey = Color(hex: 0x808080)
}
