import ConvKit
import Foundation

/// How the app and the command line word a `CheckpointComparison`.
public enum ComparisonText {
    /// `16x3x3x3`, or `-` for a layer the model lacks.
    public static func shape(_ shape: [Int]?) -> String {
        shape.map { $0.map(String.init).joined(separator: "x") } ?? "-"
    }

    /// The relative change `0.412`, or the reason there is none (`shapes differ`).
    public static func change(_ layer: CheckpointComparison.LayerChange) -> String {
        if let change = layer.relativeChange { return String(format: "%.4f", change) }
        return layer.gap?.rawValue ?? "-"
    }

    /// The cosine `0.9987`, or `-`.
    public static func cosine(_ layer: CheckpointComparison.LayerChange) -> String {
        layer.cosine.map { String(format: "%.4f", $0) } ?? "-"
    }

    /// `30.0%`, or `-`.
    public static func percent(_ share: Double?) -> String {
        share.map { String(format: "%.1f%%", $0 * 100) } ?? "-"
    }

    /// What the weight columns compare.
    public static func basis(_ basis: CheckpointComparison.WeightBasis) -> String {
        switch basis {
        case .stored: return "conv and fc weights as stored"
        case .foldedBatchNorm: return "conv and fc weights with batch norm folded in (int8 weights dequantised)"
        }
    }

    /// `A 71.20%  B 68.10%  (-3.10 points)`.
    public static func accuracies(_ comparison: CheckpointComparison) -> String {
        let a = comparison.scoreA.accuracy, b = comparison.scoreB.accuracy
        return String(format: "A %.2f%%  B %.2f%%  (%+.2f points)", a * 100, b * 100, (b - a) * 100)
    }

    /// `812 flips (8.1%): 502 right→wrong, 210 wrong→right, 100 wrong→wrong` (fits the app's 80 columns).
    public static func flipSummary(_ comparison: CheckpointComparison) -> String {
        let count = comparison.flips.count
        let share = Double(count) / Double(max(comparison.images, 1)) * 100
        return String(format: "%d flip%@ (%.1f%%): ", count, count == 1 ? "" : "s", share)
            + "\(comparison.count(.broken)) right→wrong, \(comparison.count(.fixed)) wrong→right, "
            + "\(comparison.count(.changed)) wrong→wrong"
    }

    /// `#17 cat: A cat 81% → B dog 55% (right→wrong)`.
    public static func flip(_ flip: CheckpointComparison.Flip, classNames: [String]) -> String {
        func name(_ c: Int) -> String { c < classNames.count ? classNames[c] : "class \(c)" }
        return "#\(flip.index) \(name(flip.label)): A \(name(flip.predictionA)) \(Int((flip.confidenceA * 100).rounded()))%"
            + " → B \(name(flip.predictionB)) \(Int((flip.confidenceB * 100).rounded()))% (\(direction(flip.direction)))"
    }

    /// `right→wrong`, `wrong→right`, `wrong→wrong` (both wrong, with different answers).
    public static func direction(_ direction: CheckpointComparison.Flip.Direction) -> String {
        switch direction {
        case .broken: return "right→wrong"
        case .fixed: return "wrong→right"
        case .changed: return "wrong→wrong"
        }
    }
}
