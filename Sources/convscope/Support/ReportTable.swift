import ConvKit
import ConvPresent
import Foundation

/// Prints the before/after table of a compression command.
func printReport(_ rows: [ModelReport], dataset: Dataset) {
    printColumns(ModelReport.columnTitles, rows.map(\.cells))
    print("test accuracy on \(dataset.test.count.formatted) \(dataset.displayName) test images; images/s at batch 256, \(Parallel.workerCount) threads")
}

/// Prints a table (`TextTable`: the first column left-aligned, the others right-aligned, a rule under the header).
func printColumns(_ header: [String], _ rows: [[String]]) {
    for line in TextTable(header: header, rows: rows).lines { print(line) }
}
