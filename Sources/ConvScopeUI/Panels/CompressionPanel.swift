import ConvKit
import ConvPresent

/// The compression view: the before/after table of `convscope prune` and `quantize` (parameters,
/// non-zero parameters, stored weight bytes, test accuracy, inference images/s) for the model as
/// trained and the compressed copies measured so far, and a bar per conv and fc weight tensor with its
/// share of zeros: of the newest compressed copy, or of the current weights before there is one.
///
/// Rows still being measured say so; when not all rows fit, the newest are shown. Bars flow into
/// more columns when they do not fit in one. In diff mode each model takes three rows: measured at the
/// marked time, now, and the change (`Δ`, accuracy in percentage points); each bar shows its tensor's
/// share of zeros now and its change since the marked time (red rose, blue fell, grey unchanged), of the
/// newest compressed model measured at both times, or of the weights themselves before there is one.
public enum CompressionPanel {
    /// Width of one column of sparsity bars at least.
    static let barColumnWidth = 34

    public static func draw(
        _ results: CompressionResults, change: CompressionChange? = nil, testImages: Int, into grid: inout CellGrid, in rect: Rect,
        theme: Theme = .standard
    ) {
        guard !rect.isEmpty else { return }
        let keys = ["p", "P", "i"].map { "\($0) \(AppModel.compressionMethods[Character($0)]!.label)" } + ["w write the newest"]
        let hints = [
            (keys.joined(separator: "  "), theme.keyName),
            change.map { ("Δ since step \($0.markedStep): each model then, now, and the change (t clears the mark)", theme.title) }
                ?? ("measured on copies of the weights while training goes on", theme.dimText),
        ]
        let notes = "accuracy on \(testImages.formatted) test images, img/s at batch 256; int8 kernel: \(QuantizedNetwork.kernelDescription)"
            .wrapped(toWidth: rect.width).prefix(2)
        let (bars, barsTitle) = change.map(changedSparsity) ?? shownSparsity(results)
        let (hintArea, body) = rect.splitTop(min(hints.count, rect.height))
        for (index, (text, style)) in hints.enumerated() where index < hintArea.height {
            grid.writeLine(text, in: Rect(x: hintArea.x, y: hintArea.y + index, width: hintArea.width, height: 1), style: style)
        }
        let space = body.height - notes.count
        let rows = change.map(changeRows) ?? results.rows.map(row)
        let tableHeight = min(1 + max(rows.count, 1), max(space - min(1 + bars.count, 4), 2))
        let (tableArea, belowTable) = body.splitTop(tableHeight)
        let (noteArea, barsArea) = belowTable.splitTop(notes.count)
        drawTable(rows, into: &grid, in: tableArea, theme: theme)
        for (index, line) in notes.enumerated() where index < noteArea.height {
            grid.writeLine(line, in: Rect(x: noteArea.x, y: noteArea.y + index, width: noteArea.width, height: 1), style: theme.dimText)
        }
        let (titleRow, barRows) = barsArea.splitTop(min(1, barsArea.height))
        grid.writeLine(barsTitle, in: titleRow, style: theme.title)
        drawBars(bars, into: &grid, in: barRows, theme: theme)
    }

    /// One line of the table: its cells (label, step, numbers), or, while it has no numbers, what to say across them.
    struct Line {
        var cells: [String]
        var note: (text: String, isWarning: Bool)?
    }

    /// A row of the lab's table as a line: measured, or `queued`, `computing…` or why it failed.
    static func row(_ row: CompressionRow) -> Line {
        let step = row.weightsVersion.map(String.init) ?? ""
        switch row.status {
        case .measured(let report): return Line(cells: [row.label, step] + report.cells.dropFirst())
        case .queued: return Line(cells: [row.label, step], note: ("queued", false))
        case .measuring: return Line(cells: [row.label, step], note: ("computing…", false))
        case .failed(let why): return Line(cells: [row.label, step], note: ("failed: " + why, true))
        }
    }

    /// Diff mode's lines: per model, its row at the marked time, its newest row, and the change under them.
    static func changeRows(_ change: CompressionChange) -> [Line] {
        change.pairs.flatMap { pair -> [Line] in
            let then = pair.then.map(row) ?? Line(cells: [pair.label, String(change.markedStep)], note: ("waiting", false))
            let difference = pair.change.map { delta in
                Line(cells: [
                    "  Δ", "", signed(delta.parameters), signed(delta.nonZeroParameters),
                    String(format: "%+.1f KB", Double(delta.modelBytes) / 1024), String(format: "%+.1f pp", delta.accuracy * 100),
                    String(format: "%+.0f", delta.imagesPerSecond),
                ])
            } ?? Line(cells: ["  Δ", ""], note: ("once both are measured", false))
            return [then, row(pair.now), difference]
        }
    }

    /// `+1,234`, `-56`, `0`.
    static func signed(_ value: Int) -> String {
        (value > 0 ? "+" : value < 0 ? "-" : "") + abs(value).formatted
    }

    /// The before/after table: a header and the newest lines that fit; lines not yet measured say so across
    /// the number columns.
    static func drawTable(_ lines: [Line], into grid: inout CellGrid, in rect: Rect, theme: Theme) {
        guard rect.height >= 2 else { return }
        // The CLI's titles, with the speed column shortened (the note under the table says it is
        // inference at batch 256) so that the table fits beside the layer list at 100 columns.
        let titles = ModelReport.columnTitles.dropLast() + ["img/s"]
        let columns = [Table.Column(titles[0], width: 12), Table.Column("step", width: 5, alignment: .trailing)]
            + zip(titles.dropFirst(), [9, 9, 9, 8, 6]).map { Table.Column($0, width: $1, alignment: .trailing) }
        let shown = Array(lines.suffix(rect.height - 1))
        let table = Table(columns: columns, rows: shown.map(\.cells), theme: theme)
        table.draw(into: &grid, in: rect)
        if shown.isEmpty {
            let body = Rect(x: rect.x, y: rect.y + 1, width: rect.width, height: 1)
            grid.writeLine("nothing measured yet: p, P or i measures a compressed copy and the model as trained", in: body, style: theme.dimText)
            return
        }
        let widths = table.columnWidths(total: rect.width)
        let numbersX = rect.x + widths[0] + 1 + widths[1] + 1
        for (index, line) in shown.enumerated() {
            guard let note = line.note else { continue }
            grid.writeLine(
                note.text, in: Rect(x: numbersX, y: rect.y + 1 + index, width: rect.maxX - numbersX, height: 1),
                style: note.isWarning ? theme.warning : theme.dimText)
        }
    }

    /// The bars and their title: the newest compressed copy's sparsity, else the current weights'.
    static func shownSparsity(_ results: CompressionResults) -> ([BarRow], String) {
        func bars(_ sparsity: [WeightSparsity]) -> [BarRow] {
            zip(labels(sparsity.map { ($0.parameter, $0.count) }), sparsity).map { label, tensor in
                BarRow(label: label, value: Double(tensor.sparsity), color: AppColors.accent)
            }
        }
        if let row = results.newestCompressed {
            return (bars(row.sparsity), "zero weights per layer: \(row.label), step \(row.weightsVersion ?? 0)")
        }
        guard let version = results.currentVersion else { return ([], "zero weights per layer: reading the weights…") }
        return (bars(results.currentSparsity), "zero weights per layer: current weights, step \(version)")
    }

    /// Diff mode's bars and their title: each tensor's share of zeros now as the bar, and its change since the
    /// marked time as the number (`conv1  1,728 ████▋  +12.0pp`), red where it rose, blue where it fell, grey where
    /// it stayed (the number fits the narrowest column of bars, as the percentages do).
    static func changedSparsity(_ change: CompressionChange) -> ([BarRow], String) {
        let (pair, tensors) = change.shownSparsity
        let since = "zero weights per layer now, Δ since step \(change.markedStep)"
        let title: String
        if let pair {
            title = "\(since): \(pair.label), step \(pair.now.weightsVersion ?? 0)"
        } else if let version = change.weightsVersion, !tensors.isEmpty {
            title = "\(since): current weights, step \(version)"
        } else {
            title = "\(since): reading the weights of both times…"
        }
        let rows = zip(labels(tensors.map { ($0.parameter, $0.count) }), tensors).map { label, tensor in
            // Tenths of a point, as the bars' percentages; a change that rounds to none is +0.0, never -0.0.
            let points = (tensor.change * 1000).rounded() / 10
            let color = points > 0 ? AppColors.bad : points < 0 ? AppColors.accent : AppColors.neutral
            return BarRow(label: label, value: Double(tensor.now), color: color, valueText: String(format: "%+.1fpp", points == 0 ? 0 : points))
        }
        return (rows, title)
    }

    /// The bars' labels: each tensor's layer and its size (`conv1  1,728`), in aligned columns.
    static func labels(_ tensors: [(parameter: String, count: Int)]) -> [String] {
        let names = tensors.map { $0.parameter.hasSuffix(".weight") ? String($0.parameter.dropLast(7)) : $0.parameter }
        let counts = tensors.map(\.count.formatted)
        let nameWidth = names.map(\.count).max() ?? 0, countWidth = counts.map(\.count).max() ?? 0
        return zip(names, counts).map { $0.padded(toWidth: nameWidth) + " " + $1.padded(toWidth: countWidth, alignment: .trailing) }
    }

    /// One bar per weight tensor (`conv1  1,728 ████▋   30.0%`), in as many columns as the height
    /// needs and the width allows; what still does not fit is counted in a last line.
    static func drawBars(_ rows: [BarRow], into grid: inout CellGrid, in rect: Rect, theme: Theme) {
        guard !rect.isEmpty, !rows.isEmpty else { return }
        let neededColumns = (rows.count + rect.height - 1) / rect.height
        let columns = max(min(neededColumns, rect.width / barColumnWidth), 1)
        let capacity = columns * rect.height
        let shown = rows.count <= capacity ? rows : Array(rows.prefix(capacity - 1))
        let gap = 2, width = (rect.width - gap * (columns - 1)) / columns
        for column in 0..<columns {
            let chunk = shown.dropFirst(column * rect.height).prefix(rect.height)
            let area = Rect(x: rect.x + column * (width + gap), y: rect.y, width: width, height: rect.height)
            BarChart(rows: Array(chunk), theme: theme).draw(into: &grid, in: area)
        }
        if shown.count < rows.count {
            let last = Rect(x: rect.x + (columns - 1) * (width + gap), y: rect.maxY - 1, width: width, height: 1)
            grid.writeLine("+\(rows.count - shown.count) more", in: last, style: theme.dimText)
        }
    }
}
