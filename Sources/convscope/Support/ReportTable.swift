import ConvKit
import Foundation

/// Prints the before/after table of a compression command.
func printReport(_ rows: [ModelReport], dataset: Dataset) {
    let header = ["model", "params", "non-zero", "weights", "test acc", "infer img/s"]
    let cells = rows.map { row in
        [
            row.label, row.parameters.formatted, row.nonZeroParameters.formatted,
            String(format: "%.1f KB", Double(row.modelBytes) / 1024), String(format: "%.2f%%", row.accuracy * 100),
            String(format: "%.0f", row.imagesPerSecond),
        ]
    }
    let widths = header.indices.map { column in ([header] + cells).map { $0[column].count }.max()! }
    func line(_ values: [String]) -> String {
        values.enumerated().map { column, value in
            column == 0 ? value.padding(toLength: widths[0], withPad: " ", startingAt: 0)
                : String(repeating: " ", count: widths[column] - value.count) + value
        }.joined(separator: "  ")
    }
    print(line(header))
    print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
    for row in cells { print(line(row)) }
    print("test accuracy on \(dataset.test.count.formatted) \(dataset.displayName) test images; images/s at batch 256, \(Parallel.workerCount) threads")
}
