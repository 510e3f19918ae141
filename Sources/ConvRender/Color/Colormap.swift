/// A colour scale from `t = 0` to `t = 1`, defined by control points with linear interpolation
/// between them, plus a 256-entry lookup table (entry `i` is the colour at `t = i / 255`).
///
/// - `jet`: the MATLAB / OpenCV `COLORMAP_JET` definition (what pytorch-grad-cam's
///   `cv2.applyColorMap(..., COLORMAP_JET)` shows): dark blue `(0, 0, 0.5)` at 0, blue at 1/8, cyan at
///   3/8, yellow at 5/8, red at 7/8, dark red `(0.5, 0, 0)` at 1; within one unit of OpenCV's table.
///   (matplotlib's `jet` places its breakpoints slightly differently.)
/// - `viridis`, `inferno`: matplotlib's perceptually uniform maps, as 33 evenly spaced control
///   points fitted (least squares) to matplotlib's 256-colour tables; every entry is within one unit.
/// - `grey`: black to white.
/// - `diverging`: blue through white (at 0.5) to red, for signed values mapped so that zero is 0.5
///   (see `HeatMap.signedNormalized()`).
public struct Colormap: Equatable, Sendable {
    /// One colour, 8 bits per channel.
    public typealias Color = (r: UInt8, g: UInt8, b: UInt8)

    /// Lower-case name, as the command line spells it.
    public let name: String
    /// Control point positions, increasing from 0 to 1.
    private let positions: [Float]
    /// Control point colours, 3 floats in [0, 1] per point.
    private let components: [Float]
    /// 256 RGB entries, 3 bytes each: entry `i` is `color(at: i / 255)`.
    public let table: [UInt8]

    /// A colormap through `points` (position, red, green, blue), positions increasing from 0 to 1.
    public init(name: String, points: [(t: Float, r: Float, g: Float, b: Float)]) {
        precondition(points.count >= 2 && points.first!.t == 0 && points.last!.t == 1, "control points must span 0...1")
        precondition(zip(points, points.dropFirst()).allSatisfy { $0.t < $1.t }, "control points must increase")
        self.name = name
        positions = points.map(\.t)
        components = points.flatMap { [$0.r, $0.g, $0.b] }
        var table = [UInt8](repeating: 0, count: 256 * 3)
        for i in 0..<256 {
            let c = Colormap.interpolate(positions, components, Float(i) / 255)
            table[3 * i] = Colormap.byte(c.r)
            table[3 * i + 1] = Colormap.byte(c.g)
            table[3 * i + 2] = Colormap.byte(c.b)
        }
        self.table = table
    }

    /// A colormap through evenly spaced colours, given as 3 floats in [0, 1] per point.
    init(name: String, evenlySpaced rgb: [Float]) {
        let n = rgb.count / 3
        self.init(name: name, points: (0..<n).map {
            (t: $0 == n - 1 ? 1 : Float($0) / Float(n - 1), r: rgb[3 * $0], g: rgb[3 * $0 + 1], b: rgb[3 * $0 + 2])
        })
    }

    /// The colour at `t`, clamped to [0, 1] (NaN counts as 0), interpolated exactly between control points.
    public func color(at t: Float) -> Color {
        let c = rgb(at: t)
        return (Colormap.byte(c.r), Colormap.byte(c.g), Colormap.byte(c.b))
    }

    /// The colour at `t` (clamped) as floats in [0, 1], before rounding to bytes.
    public func rgb(at t: Float) -> (r: Float, g: Float, b: Float) {
        Colormap.interpolate(positions, components, t.isNaN ? 0 : min(max(t, 0), 1))
    }

    /// Table entry `index` (0...255).
    @inline(__always)
    public func entry(_ index: Int) -> Color {
        (table[3 * index], table[3 * index + 1], table[3 * index + 2])
    }

    /// The table entry nearest to `t` (clamped; NaN counts as 0): the fast path for whole images.
    @inline(__always)
    public static func tableIndex(_ t: Float) -> Int {
        guard t > 0 else { return 0 }
        return t >= 1 ? 255 : Int(t * 255 + 0.5)
    }

    public static func == (a: Colormap, b: Colormap) -> Bool { a.name == b.name && a.table == b.table }

    private static func interpolate(_ positions: [Float], _ components: [Float], _ t: Float) -> (r: Float, g: Float, b: Float) {
        var upper = 1
        while upper < positions.count - 1 && positions[upper] < t { upper += 1 }
        let lower = upper - 1
        let f = (t - positions[lower]) / (positions[upper] - positions[lower])
        func mix(_ c: Int) -> Float { components[3 * lower + c] + (components[3 * upper + c] - components[3 * lower + c]) * f }
        return (mix(0), mix(1), mix(2))
    }

    @inline(__always)
    static func byte(_ value: Float) -> UInt8 { UInt8(min(max(value, 0), 1) * 255 + 0.5) }

    // MARK: - The maps

    /// MATLAB / OpenCV jet: dark blue, blue, cyan, yellow, red, dark red.
    public static let jet = Colormap(name: "jet", points: [
        (0, 0, 0, 0.5), (0.125, 0, 0, 1), (0.375, 0, 1, 1), (0.625, 1, 1, 0), (0.875, 1, 0, 0), (1, 0.5, 0, 0),
    ])

    /// Black to white.
    public static let grey = Colormap(name: "grey", points: [(0, 0, 0, 0), (1, 1, 1, 1)])

    /// Blue (negative) through white (zero, at 0.5) to red (positive). White spans 127/255 to 128/255,
    /// the two table entries nearest 0.5, so zero is white through the lookup table too.
    public static let diverging = Colormap(name: "diverging", points: [
        (0, 0.05, 0.19, 0.50), (0.25, 0.36, 0.60, 0.87), (127 / 255, 1, 1, 1), (128 / 255, 1, 1, 1),
        (0.75, 0.93, 0.45, 0.36), (1, 0.55, 0.02, 0.10),
    ])

    /// matplotlib's viridis: dark purple, blue, green, yellow.
    public static let viridis = Colormap(name: "viridis", evenlySpaced: [
        0.2673, 0.0033, 0.3297, 0.2774, 0.0499, 0.3759, 0.2827, 0.0952, 0.4175, 0.2833, 0.1355, 0.4535,
        0.2793, 0.1750, 0.4835, 0.2711, 0.2134, 0.5071, 0.2595, 0.2508, 0.5248, 0.2455, 0.2868, 0.5373,
        0.2302, 0.3214, 0.5457, 0.2148, 0.3546, 0.5512, 0.1999, 0.3865, 0.5546, 0.1860, 0.4173, 0.5568,
        0.1732, 0.4474, 0.5579, 0.1612, 0.4771, 0.5582, 0.1496, 0.5064, 0.5575, 0.1383, 0.5358, 0.5553,
        0.1279, 0.5651, 0.5511, 0.1203, 0.5945, 0.5444, 0.1193, 0.6238, 0.5346, 0.1297, 0.6529, 0.5212,
        0.1542, 0.6816, 0.5036, 0.1920, 0.7096, 0.4816, 0.2407, 0.7367, 0.4550, 0.2980, 0.7626, 0.4234,
        0.3624, 0.7869, 0.3870, 0.4326, 0.8092, 0.3457, 0.5077, 0.8294, 0.2996, 0.5870, 0.8472, 0.2492,
        0.6692, 0.8624, 0.1955, 0.7529, 0.8752, 0.1418, 0.8361, 0.8862, 0.0990, 0.9169, 0.8961, 0.0968,
        0.9936, 0.9061, 0.1422,
    ])

    /// matplotlib's inferno: black, purple, red, orange, pale yellow.
    public static let inferno = Colormap(name: "inferno", evenlySpaced: [
        0.0007, 0.0000, 0.0105, 0.0124, 0.0106, 0.0703, 0.0409, 0.0281, 0.1404, 0.0810, 0.0442, 0.2141,
        0.1278, 0.0484, 0.2906, 0.1823, 0.0402, 0.3560, 0.2373, 0.0353, 0.3973, 0.2895, 0.0446, 0.4191,
        0.3400, 0.0616, 0.4298, 0.3897, 0.0803, 0.4335, 0.4393, 0.0987, 0.4321, 0.4889, 0.1165, 0.4263,
        0.5386, 0.1339, 0.4161, 0.5882, 0.1516, 0.4015, 0.6375, 0.1702, 0.3826, 0.6860, 0.1907, 0.3594,
        0.7330, 0.2140, 0.3323, 0.7779, 0.2410, 0.3019, 0.8199, 0.2724, 0.2687, 0.8582, 0.3086, 0.2334,
        0.8922, 0.3496, 0.1966, 0.9215, 0.3951, 0.1585, 0.9456, 0.4445, 0.1189, 0.9644, 0.4971, 0.0778,
        0.9779, 0.5524, 0.0360, 0.9859, 0.6099, 0.0197, 0.9884, 0.6690, 0.0571, 0.9852, 0.7295, 0.1214,
        0.9763, 0.7909, 0.1961, 0.9625, 0.8523, 0.2850, 0.9471, 0.9117, 0.3944, 0.9488, 0.9618, 0.5255,
        0.9866, 0.9989, 0.6468,
    ])

    /// Every built-in map.
    public static let all: [Colormap] = [jet, viridis, inferno, grey, diverging]

    /// The built-in map called `name` (case-insensitive; `gray` also finds `grey`), or nil.
    public static func named(_ name: String) -> Colormap? {
        let key = name.lowercased() == "gray" ? "grey" : name.lowercased()
        return all.first { $0.name == key }
    }
}
