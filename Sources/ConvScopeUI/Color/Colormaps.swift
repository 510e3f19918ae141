/// Built-in colormaps: functions from a value in [0, 1] to a colour, for `Heatmap`.
///
/// Inputs outside [0, 1] are clamped and NaN maps to the low end. Any `(Double) -> Color` function
/// (for example one of the engine's colormaps) can be passed to `Heatmap` instead.
public enum Colormaps {
    /// MATLAB-style jet: dark blue, blue, cyan, yellow, red, dark red.
    public static func jet(_ value: Double) -> Color {
        let t = clamped(value)
        func ramp(_ centre: Double) -> Double { min(max(1.5 - abs(4 * t - centre), 0), 1) }
        return Color(unitRed: ramp(3), green: ramp(2), blue: ramp(1))
    }

    /// Blue for 0, white for 0.5, red for 1: for signed quantities centred on zero.
    public static func diverging(_ value: Double) -> Color {
        let t = clamped(value)
        let blue = Color(hex: 0x2B5CD6), white = Color(hex: 0xF2F2F2), red = Color(hex: 0xD6302B)
        return t < 0.5 ? blue.mixed(with: white, by: t * 2) : white.mixed(with: red, by: (t - 0.5) * 2)
    }

    /// Black to white.
    public static func greys(_ value: Double) -> Color {
        Color(grey: UInt8((clamped(value) * 255).rounded()))
    }

    private static func clamped(_ value: Double) -> Double {
        value.isNaN ? 0 : min(max(value, 0), 1)
    }
}
