import ConvKit
import Foundation

/// Prints the before/after table of a compression command.
func printReport(_ rows: [ModelReport], dataset: Dataset) {
    let header = ModelReport.columnTitles
    let cells = rows.map(\.cells)
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
