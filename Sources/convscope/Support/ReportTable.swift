import ConvKit
import ConvPresent
import Foundation

/// Prints the before/after table of a compression command.
func printReport(_ rows: [ModelReport], dataset: Dataset) {
    printColumns(ModelReport.columnTitles, rows.map(\.cells))
    print("test accuracy on \(dataset.test.count.formatted) \(dataset.displayName) test images; images/s at batch 256, \(Parallel.workerCount) threads")
}

/// Prints a table: the first column left-aligned, the others right-aligned, two spaces apart, a rule under
/// the header.
func printColumns(_ header: [String], _ rows: [[String]]) {
    let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max()! }
    func line(_ values: [String]) -> String {
        values.enumerated().map { column, value in
            column == 0 ? value.padding(toLength: widths[0], withPad: " ", startingAt: 0)
                : String(repeating: " ", count: widths[column] - value.count) + value
        }.joined(separator: "  ")
    }
    print(line(header))
    print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
    for row in rows { print(line(row)) }
}
