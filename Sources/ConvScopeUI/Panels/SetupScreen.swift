import ConvKit
import Foundation

/// Draws the setup screen: a centred box with the explanation, the three choices, the download's
/// progress bar and any error.
public enum SetupScreen {
    public static func draw(_ model: SetupModel, into grid: inout CellGrid, in rect: Rect, theme: Theme = .standard) {
        grid.fill(rect)
        var lines: [(String, Style)] = [("CIFAR-10 was not found. Looked in:", theme.text)]
        lines += model.placesTried.map { ("  " + $0, theme.dimText) }
        lines.append(("", theme.text))
        let choices = [
            ("d", "download CIFAR-10 now (about 163 MB) into \(model.downloadDirectory)"),
            ("s", "train on the built-in SYNTHETIC shapes instead"),
            ("q", "quit"),
        ]
        let choiceStyle = model.canChoose ? theme.text : theme.dimText
        lines += choices.map { (" \($0.0)  \($0.1)", choiceStyle) }
        lines.append(("", theme.text))
        switch model.phase {
        case .choosing: lines.append(("Press d, s or q.", theme.dimText))
        case .downloading(let progress): lines.append((progressText(progress, width: max(rect.width - 8, 10)), theme.title))
        case .loading(let what): lines.append((what, theme.title))
        case .failed(let error): lines += ("error: " + error).wrapped(toWidth: max(rect.width - 6, 20)).map { ($0, theme.warning) }
        }
        let width = min(max(lines.map(\.0.count).max() ?? 0, 40) + 4, rect.width)
        let box = rect.centered(width: width, height: lines.count + 2)
        let inside = Frame(title: "ConvScope: no data yet", isFocused: true, theme: theme).draw(into: &grid, in: box)
        for (index, (text, style)) in lines.enumerated() where index < inside.height {
            grid.writeLine(text, in: Rect(x: inside.x + 1, y: inside.y + index, width: inside.width - 2, height: 1), style: style)
        }
    }

    /// `downloading ▕████▌     ▏ 45.2%  73.1 / 162.2 MB`, or the bytes so far when the size is unknown.
    public static func progressText(_ progress: DownloadProgress?, width: Int) -> String {
        guard let progress else { return "connecting…" }
        if progress.phase == .unpacking { return "unpacking and checking…" }
        return progressText(received: progress.received, total: progress.total, width: width)
    }

    /// The download line for `received` of `total` bytes (`total` nil or 0 when unknown).
    public static func progressText(received: Int64, total: Int64?, width: Int) -> String {
        let megabytes = Double(received) / 1_048_576
        guard let total, total > 0 else { return String(format: "downloading: %.1f MB received", megabytes) }
        let fraction = min(Double(received) / Double(total), 1)
        let numbers = String(format: " %5.1f%%  %.1f / %.1f MB", fraction * 100, megabytes, Double(total) / 1_048_576)
        let barWidth = max(min(30, width - numbers.count - 14), 5)
        return "downloading ▕" + BarChart.bar(value: fraction, width: barWidth) + "▏" + numbers
    }
}
