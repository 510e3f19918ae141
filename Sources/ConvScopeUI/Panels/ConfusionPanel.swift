import ConvKit
import Foundation

/// The latest test evaluation: a confusion matrix (rows the true class, columns the predicted one,
/// cells the percentage of the row, shaded by it: green on the diagonal, red off it) with each
/// class's accuracy at the end of its row, and per-class accuracy bars when there is room. Without an
/// evaluation, `absentText` says when one comes.
public enum ConfusionPanel {
    public static func draw(
        _ evaluation: Evaluation?, classNames: [String], epoch: Int, baseline: Evaluation? = nil, baselineName: String? = nil,
        into grid: inout CellGrid, in rect: Rect,
        theme: Theme = .standard, absentText: String = "The confusion matrix appears after the first epoch's test evaluation."
    ) {
        guard !rect.isEmpty else { return }
        guard let evaluation else {
            for (index, line) in absentText.wrapped(toWidth: rect.width)
                .prefix(rect.height).enumerated()
            {
                grid.writeLine(line, in: Rect(x: rect.x, y: rect.y + index, width: rect.width, height: 1), style: theme.dimText)
            }
            return
        }
        let classes = evaluation.confusion.count
        // Diff mode: the change of each class's accuracy since the marked time, in the accuracy column.
        let baseline = baseline.flatMap { $0.confusion.count == evaluation.confusion.count ? $0 : nil }
        var title = String(format: "test accuracy %.2f%%, loss %.4f", evaluation.accuracy * 100, evaluation.loss)
        if let baseline {
            title = String(format: "test accuracy %.2f%% (%+.2f since %@)", evaluation.accuracy * 100,
                           (evaluation.accuracy - baseline.accuracy) * 100, baselineName ?? "the mark")
        }
        grid.writeLine((epoch > 0 ? "epoch \(epoch): " : "") + title, in: rect, style: theme.title)
        let labelWidth = 6, cellWidth = 4
        let header = Rect(x: rect.x, y: rect.y + 1, width: rect.width, height: 1)
        var line = "true\\".padded(toWidth: labelWidth)
        for c in 0..<classes { line += String(short(c, classNames).prefix(3)).padded(toWidth: cellWidth, alignment: .trailing) }
        grid.writeLine(line + (baseline == nil ? "  acc" : "  Δacc"), in: header, style: theme.dimText)
        let accuracies = evaluation.perClassAccuracy
        let before = baseline?.perClassAccuracy
        for truth in 0..<classes {
            let y = rect.y + 2 + truth
            guard y < rect.maxY else { break }
            let row = evaluation.confusion[truth]
            let total = max(row.reduce(0, +), 1)
            var x = grid.write(short(truth, classNames).padded(toWidth: labelWidth), x: rect.x, y: y, style: theme.text, clip: rect)
            for predicted in 0..<classes {
                let share = Double(row[predicted]) / Double(total)
                let text = row[predicted] == 0 ? "." : String(Int((share * 100).rounded()))
                x = grid.write(text.padded(toWidth: cellWidth, alignment: .trailing), x: x, y: y, style: cellStyle(share, diagonal: truth == predicted), clip: rect)
            }
            if let before {
                let change = (accuracies[truth] - before[truth]) * 100
                let color = change.rounded() > 0 ? AppColors.good : change.rounded() < 0 ? AppColors.bad : AppColors.neutral
                grid.write(String(format: " %+3.0f%%", change), x: x, y: y, style: Style(foreground: color), clip: rect)
            } else {
                let accuracy = String(format: "%3.0f%%", accuracies[truth] * 100)
                grid.write(" " + accuracy, x: x, y: y, style: Style(foreground: accuracyColor(accuracies[truth])), clip: rect)
            }
        }
        let barsTop = rect.y + 3 + classes
        let bars = Rect(x: rect.x, y: barsTop, width: rect.width, height: rect.maxY - barsTop)
        guard bars.height >= classes else { return }
        BarChart(rows: (0..<classes).map {
            BarRow(label: short($0, classNames), value: Double(accuracies[$0]), color: accuracyColor(accuracies[$0]))
        }, theme: theme).draw(into: &grid, in: bars)
    }

    /// The cell's colours: the share of its row as the strength of green (diagonal) or red.
    static func cellStyle(_ share: Double, diagonal: Bool) -> Style {
        guard share > 0 else { return Style(foreground: Color(grey: 90)) }
        let strength = min(0.15 + share * 0.85, 1)
        let base = diagonal ? Color(hex: 0x2E8B3E) : Color(hex: 0xB22222)
        let background = Color(grey: 28).mixed(with: base, by: diagonal ? strength : min(strength * 2, 1))
        return Style(foreground: .white, background: background)
    }

    /// Red below 50 %, yellow below 80 %, green above.
    static func accuracyColor(_ accuracy: Float) -> Color {
        accuracy < 0.5 ? AppColors.bad : accuracy < 0.8 ? AppColors.caution : AppColors.good
    }

    /// The first five letters of the class name.
    static func short(_ index: Int, _ names: [String]) -> String {
        String((names.indices.contains(index) ? names[index] : "\(index)").prefix(5))
    }
}
