import ConvKit
import Foundation

extension ModelReport {
    /// The before/after table's column titles, matching `cells`.
    public static let columnTitles = ["model", "params", "non-zero", "weights", "test acc", "infer img/s"]

    /// The row's values as the before/after table shows them, under `columnTitles`.
    public var cells: [String] {
        [
            label, parameters.formatted, nonZeroParameters.formatted, String(format: "%.1f KB", Double(modelBytes) / 1024),
            String(format: "%.2f%%", accuracy * 100), String(format: "%.0f", imagesPerSecond),
        ]
    }
}
