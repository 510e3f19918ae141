@testable import ConvKit
import ConvPresent
import XCTest

/// How `convscope summary` and the compression reports word the engine's model values.
/// (`@testable` for `ModelReport`'s memberwise initialiser.)
final class ModelTextTests: XCTestCase {
    func testNumbersGetThousandsSeparators() {
        XCTAssertEqual(0.formatted, "0")
        XCTAssertEqual(999.formatted, "999")
        XCTAssertEqual(1000.formatted, "1,000")
        XCTAssertEqual(1_234_567.formatted, "1,234,567")
        XCTAssertEqual((-141_034).formatted, "-141,034")
    }

    func testTheSummaryTableAlignsItsColumnsAndTotals() throws {
        let summary = ModelSummary(try Network("simple"))
        let lines = summary.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertTrue(lines[0].hasPrefix("model: simple = "), lines[0])
        XCTAssertEqual(lines[1].split(separator: " ").map(String.init), ["layer", "output", "params", "mult-adds", "RF"])
        XCTAssertTrue(lines[2].allSatisfy { $0 == "-" || $0 == " " }, "a rule under the header")
        XCTAssertTrue(lines[3].hasPrefix("input"))
        let total = try XCTUnwrap(lines.first { $0.hasPrefix("total") })
        XCTAssertTrue(total.contains("141,034"), total)
        XCTAssertEqual(lines[lines.count - 3].count, lines[2].count, "a rule above the totals, as wide as the one under the header")
        XCTAssertEqual(lines.last, "", "the text ends with a newline")
        // Every line of the table is as wide as the rule (numbers right-aligned, names left-aligned).
        for line in lines[1..<(lines.count - 1)] where !line.hasPrefix("total") {
            XCTAssertEqual(line.count, lines[2].count, line)
        }
    }

    func testAReportRowHasOneCellPerTitle() {
        let report = ModelReport(
            label: "pruned 50%", parameters: 141_034, nonZeroParameters: 70_517, modelBytes: 564_136, accuracy: 0.8123,
            imagesPerSecond: 12_345.6)
        XCTAssertEqual(ModelReport.columnTitles, ["model", "params", "non-zero", "weights", "test acc", "infer img/s"])
        XCTAssertEqual(report.cells, ["pruned 50%", "141,034", "70,517", "550.9 KB", "81.23%", "12346"])
    }
}
