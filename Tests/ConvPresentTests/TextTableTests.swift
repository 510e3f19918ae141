import ConvPresent
import XCTest

/// The command line's one table layout.
final class TextTableTests: XCTestCase {
    func testColumnsAlignUnderARuledHeader() {
        let table = TextTable(header: ["class", "A", "B"], rows: [["cat", "81.2%", "9.0%"], ["airplane", "100.0%", "75.5%"]])
        XCTAssertEqual(table.lines, [
            "class          A      B",
            "--------  ------  -----",
            "cat        81.2%   9.0%",
            "airplane  100.0%  75.5%",
        ])
        XCTAssertEqual(table.text, table.lines.joined(separator: "\n") + "\n")
    }

    func testAFooterGetsItsOwnRule() {
        let table = TextTable(header: ["layer", "params"], rows: [["conv1", "448"]], footer: [["total", "1,234"]])
        XCTAssertEqual(table.lines, ["layer  params", "-----  ------", "conv1     448", "-----  ------", "total   1,234"])
    }

    func testAnEmptyTableIsItsHeaderAndRule() {
        XCTAssertEqual(TextTable(header: ["model", "acc"], rows: []).lines, ["model  acc", "-----  ---"])
    }
}
