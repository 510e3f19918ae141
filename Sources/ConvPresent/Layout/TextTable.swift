/// A table as lines of plain text, the one layout of the command line's tables (`summary`, `diff`, the
/// compression reports): the first column left-aligned, the others right-aligned, two spaces apart, a rule
/// of dashes under the header and another above the footer rows (a totals line), when there are any.
///
/// Widths count characters, so the table lines up in a terminal for the ASCII and single-width text it
/// holds. (The app's `Table` widget draws into cells with its own column widths, a scroll bar and a
/// selection; it is a view, this is text.)
public struct TextTable: Sendable, Equatable {
    public var header: [String]
    public var rows: [[String]]
    /// Rows after a second rule, such as a totals line.
    public var footer: [[String]]

    /// Every row has as many cells as `header`.
    public init(header: [String], rows: [[String]], footer: [[String]] = []) {
        precondition((rows + footer).allSatisfy { $0.count == header.count }, "every row has one cell per column")
        self.header = header
        self.rows = rows
        self.footer = footer
    }

    /// The table's lines, without line ends.
    public var lines: [String] {
        let all = [header] + rows + footer
        let widths = header.indices.map { column in all.map { $0[column].count }.max()! }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        return [line(header), rule] + rows.map(line) + (footer.isEmpty ? [] : [rule] + footer.map(line))
    }

    /// The lines, each ended by a newline.
    public var text: String { lines.map { $0 + "\n" }.joined() }
}
