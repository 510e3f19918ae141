import Foundation

/// Tick positions and labels for chart axes: "nice" numbers (1, 2 or 5 times a power of ten).
public struct AxisTicks: Sendable, Equatable {
    /// The axis range the chart maps onto its full extent.
    public var lower: Double
    public var upper: Double
    /// Tick values, ascending, all within `lower...upper`.
    public var values: [Double]
    /// One label per tick value.
    public var labels: [String]

    /// Linear ticks about `targetCount` apart over `minimum...maximum` (both finite).
    ///
    /// The step is the smallest of 1, 2 or 5 times a power of ten that gives at most `targetCount`
    /// intervals. With `snapToTicks` the range widens outwards to whole steps (0.1...1.7 becomes
    /// 0...2 with ticks 0.0, 0.5, ..., 2.0); without it the range stays as given and only the ticks
    /// inside are listed. An empty range is widened first so there is always something to label.
    public static func linear(minimum: Double, maximum: Double, targetCount: Int, snapToTicks: Bool) -> AxisTicks {
        var (low, high) = (min(minimum, maximum), max(minimum, maximum))
        if high - low < 1e-12 * max(abs(low), 1) {
            let pad = low == 0 ? 1 : abs(low) * 0.1
            (low, high) = (low - pad, high + pad)
        }
        let step = niceStep(span: high - low, intervals: max(targetCount - 1, 1))
        let first = (low / step).rounded(.down), last = (high / step).rounded(.up)
        if snapToTicks { (low, high) = (first * step, last * step) }
        let tolerance = step * 1e-9
        let values = stride(from: first, through: last, by: 1).map { $0 * step }
            .filter { $0 >= low - tolerance && $0 <= high + tolerance }
        let decimals = max(0, -Int((log10(step) + 1e-9).rounded(.down)))
        return AxisTicks(lower: low, upper: high, values: values, labels: values.map { label($0, decimals: decimals) })
    }

    /// Ticks for a base-10 logarithmic axis over the positive range `minimum...maximum`.
    ///
    /// The range widens to the nearest 1, 2 or 5 times a power of ten on each side. Ticks sit at those
    /// same numbers, or only at powers of ten once the range spans two decades or more.
    public static func logarithmic(minimum: Double, maximum: Double) -> AxisTicks {
        precondition(minimum > 0 && maximum > 0, "a log axis needs positive bounds")
        var (low, high) = (min(minimum, maximum), max(minimum, maximum))
        if high / low < 1 + 1e-9 { (low, high) = (low / 2, high * 2) }
        let lower = logCandidate(atMost: low), upper = logCandidate(atLeast: high)
        let decadesOnly = log10(upper / lower) >= 2 - 1e-9
        let mantissas: [Double] = decadesOnly ? [1] : [1, 2, 5]
        let firstExponent = Int((log10(lower) + 1e-9).rounded(.down))
        let lastExponent = Int((log10(upper) + 1e-9).rounded(.down))
        let candidates: [Double] = (firstExponent...lastExponent).flatMap { exponent -> [Double] in
            let decade = pow(10, Double(exponent))
            return mantissas.map { $0 * decade }
        }
        let (from, to) = (lower * (1 - 1e-9), upper * (1 + 1e-9))
        let values = candidates.filter { $0 >= from && $0 <= to }
        return AxisTicks(lower: lower, upper: upper, values: values, labels: values.map(logLabel))
    }

    /// The smallest 1, 2 or 5 times a power of ten at least `span / intervals`.
    static func niceStep(span: Double, intervals: Int) -> Double {
        let raw = span / Double(intervals)
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        for multiple in [1.0, 2, 5, 10] where multiple * magnitude >= raw * (1 - 1e-9) {
            return multiple * magnitude
        }
        return 10 * magnitude
    }

    private static func label(_ value: Double, decimals: Int) -> String {
        let magnitude = abs(value)
        if magnitude != 0 && (magnitude >= 1e7 || decimals > 6) { return String(format: "%.2g", value) }
        // Avoid "-0.0" for a tick that is zero up to rounding.
        let rounded = (value * pow(10, Double(decimals))).rounded() == 0 ? 0 : value
        return String(format: "%.\(decimals)f", rounded)
    }

    private static func logLabel(_ value: Double) -> String {
        if value >= 1e5 || value < 1e-3 { return String(format: "%.0e", value) }
        let decimals = value >= 1 ? 0 : -Int((log10(value) + 1e-9).rounded(.down))
        return String(format: "%.\(decimals)f", value)
    }

    private static func logCandidate(atMost value: Double) -> Double {
        let decade = pow(10, (log10(value) + 1e-9).rounded(.down))
        return [5.0, 2, 1].map { $0 * decade }.first { $0 <= value * (1 + 1e-9) } ?? decade
    }

    private static func logCandidate(atLeast value: Double) -> Double {
        let decade = pow(10, (log10(value) - 1e-9).rounded(.down))
        return [1.0, 2, 5, 10].map { $0 * decade }.first { $0 >= value * (1 - 1e-9) } ?? 10 * decade
    }
}
