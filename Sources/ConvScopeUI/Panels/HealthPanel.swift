import ConvKit
import ConvPresent
import ConvRender
import Foundation

/// The training-health timeline: a heat strip per weight layer over the recorded steps (the metric `h`
/// picks), the standing alarm, and for the selected layer its distribution over time (a half-block heat
/// map of the magnitude histogram `H` picks, large magnitudes on top) beside the metric's curve.
///
/// Strips and heat map share the time axis: a column per record, or per run of records when there are
/// more records than columns (the largest value of the run, so that a spike stays visible).
public enum HealthPanel {
    public static func draw(
        _ health: HealthHistory, selectedLayer: String, layerOrder: [String], metric: HealthMetric, quantity: HealthQuantity,
        recordingOff: Bool = false, into grid: inout CellGrid, in rect: Rect, theme: Theme = .standard
    ) {
        guard rect.height >= 3, rect.width >= 20 else { return }
        var area = rect
        let info = area.splitTop(1)
        area = info.rest
        let header = "h \(metricName(metric)) \(scaleText(health, metric: metric))  H \(quantity.rawValue)  " + (health.isEmpty ? "" :
            "\(health.records.count) records, every \(health.every) steps, cost \(String(format: "%.1f%%", health.overhead * 100))")
        grid.writeLine(header, in: info.top, style: theme.dimText)
        guard !health.isEmpty, !health.layers.isEmpty else {
            let text = recordingOff ? "health recording is off (--health-every 0)" : "no health records yet: the first follows step 1"
            grid.writeLine(text, in: area.splitTop(1).top, style: theme.text)
            return
        }
        if let alarm = health.alarms.first {
            let row = area.splitTop(1)
            grid.writeLine("⚠ " + HealthText.line(alarm) + (health.alarms.count > 1 ? " (+\(health.alarms.count - 1))" : ""),
                           in: row.top, style: AppColors.errorBar)
            area = row.rest
        }
        let selected = trackedIndex(of: selectedLayer, in: health.layers, order: layerOrder)
        let stripRows = min(health.layers.count, max(2, (area.height - 2) / 2))
        let (strips, rest) = area.splitTop(stripRows + 1)
        drawStrips(health, metric: metric, selected: selected, rows: stripRows, into: &grid, in: strips, theme: theme)
        guard rest.height >= 3 else { return }
        let (caption, detail) = rest.splitTop(1)
        let latest = health.records.last!
        let layer = latest.layers[selected]
        grid.writeLine(
            "\(health.layers[selected]) at step \(latest.step): |w| \(HealthText.number(layer.weightNorm))  |g| "
                + "\(HealthText.number(layer.gradientNorm))  update/weight \(HealthText.number(layer.updateRatio))  dead "
                + "\(HealthText.percent(layer.deadShare))  zero filters \(HealthText.percent(layer.zeroFilterShare))",
            in: caption, style: theme.text)
        let (mapArea, chartArea) = detail.splitLeft(detail.width / 2)
        drawDistribution(health, layer: selected, quantity: quantity, into: &grid, in: mapArea, theme: theme)
        drawCurve(health, layer: selected, metric: metric, into: &grid, in: chartArea.splitLeft(1).rest, theme: theme)
    }

    /// `grad norm`, `update/weight`, ...
    public static func metricName(_ metric: HealthMetric) -> String {
        switch metric {
        case .gradientNorm: return "grad norm"
        case .updateRatio: return "update/weight"
        case .deadShare: return "dead units"
        case .weightNorm: return "weight norm"
        }
    }

    /// The tracked layer the views follow for the list's selection: the same layer, else the nearest
    /// weight layer before it in the list (a batch norm shows its convolution), else the first after it.
    public static func trackedIndex(of name: String, in tracked: [String], order: [String]) -> Int {
        if let index = tracked.firstIndex(of: name) { return index }
        guard let position = order.firstIndex(of: name) else { return 0 }
        for candidate in order[..<position].reversed() { if let index = tracked.firstIndex(of: candidate) { return index } }
        for candidate in order[position...] { if let index = tracked.firstIndex(of: candidate) { return index } }
        return 0
    }

    /// The records each of `width` columns covers: a record spans several columns while they are fewer
    /// than the columns, and a column takes a run of records once they are more.
    static func buckets(records: Int, width: Int) -> [Range<Int>] {
        guard records > 0, width > 0 else { return [] }
        if records <= width { return (0..<width).map { column in let r = column * records / width; return r..<(r + 1) } }
        return (0..<width).map { column in (column * records / width)..<((column + 1) * records / width) }
    }

    /// Where `value` of `metric` sits on the strips' colour scale (0...1), nil when it has none.
    static func position(_ value: Float, metric: HealthMetric, logRange: ClosedRange<Float>) -> Float? {
        guard value.isFinite else { return nil }
        switch metric {
        case .deadShare: return min(max(value, 0), 1)
        case .updateRatio:
            // Centred (white) on the rule of thumb 1e-3, from 1e-6 (blue) to 1 (red).
            guard value > 0 else { return 0 }
            return min(max((log10(value) + 6) / 6, 0), 1)
        case .gradientNorm, .weightNorm:
            guard value > 0 else { return 0 }
            let span = max(logRange.upperBound - logRange.lowerBound, 1e-6)
            return min(max((log10(value) - logRange.lowerBound) / span, 0), 1)
        }
    }

    static func colormap(_ metric: HealthMetric) -> Colormap { metric == .updateRatio ? .diverging : .viridis }

    private static func drawStrips(
        _ health: HealthHistory, metric: HealthMetric, selected: Int, rows: Int, into grid: inout CellGrid, in rect: Rect, theme: Theme
    ) {
        let labelWidth = min((health.layers.map(\.count).max() ?? 4) + 2, max(rect.width / 4, 6))
        let (labels, strips) = rect.splitLeft(labelWidth)
        let columns = buckets(records: health.records.count, width: strips.width)
        let logs = health.records.flatMap { $0.layers.map { metric.value(of: $0) } }.filter { $0 > 0 && $0.isFinite }.map { log10($0) }
        let logRange = (logs.min() ?? 0)...(logs.max() ?? 1)
        let top = min(max(selected - rows / 2, 0), max(health.layers.count - rows, 0))
        let map = colormap(metric)
        for row in 0..<min(rows, rect.height - 1) {
            let index = top + row
            guard index < health.layers.count else { break }
            let y = rect.y + row
            let isSelected = index == selected
            grid.writeLine((isSelected ? "▸" : " ") + health.layers[index], in: Rect(x: labels.x, y: y, width: labels.width - 1, height: 1),
                           style: isSelected ? theme.selection : theme.text)
            for (column, bucket) in columns.enumerated() {
                let values = health.records[bucket].map { index < $0.layers.count ? metric.value(of: $0.layers[index]) : .nan }
                let value = metric == .weightNorm ? values.last! : values.max { strength($0, metric) < strength($1, metric) }!
                guard let t = position(value, metric: metric, logRange: logRange) else {
                    grid.set(Cell("!", style: AppColors.errorBar), x: strips.x + column, y: y)
                    continue
                }
                grid.set(Cell("█", style: Style(foreground: Color(map.color(at: t)))), x: strips.x + column, y: y)
            }
        }
        let axis = Rect(x: strips.x, y: rect.y + min(rows, rect.height - 1), width: strips.width, height: 1)
        let first = "step \(health.records.first!.step)", last = "step \(health.records.last!.step)"
        grid.writeLine(last, in: axis, alignment: .trailing, style: theme.dimText)
        if first.count + last.count + 2 <= axis.width { grid.writeLine(first, in: axis, style: theme.dimText) }
    }

    /// The strips' colour scale in words: `0.05-3.2` (the range shown, log), `0-100%`, or the ratio's fixed scale.
    static func scaleText(_ health: HealthHistory, metric: HealthMetric) -> String {
        switch metric {
        case .updateRatio: return "(blue 1e-6, white 1e-3, red 1)"
        case .deadShare: return "(0-100%)"
        case .gradientNorm, .weightNorm:
            let values = health.records.flatMap { $0.layers.map { metric.value(of: $0) } }.filter { $0 > 0 && $0.isFinite }
            guard let low = values.min(), let high = values.max() else { return "" }
            return "(\(HealthText.number(low))-\(HealthText.number(high)), log)"
        }
    }

    /// How far a value is from ordinary, to pick a run's representative: the update ratio's distance from
    /// 1e-3, the others' size; non-finite values first.
    static func strength(_ value: Float, _ metric: HealthMetric) -> Float {
        guard value.isFinite else { return .infinity }
        return metric == .updateRatio ? abs(log10(max(value, 1e-30)) + 3) : value
    }

    private static func drawDistribution(
        _ health: HealthHistory, layer: Int, quantity: HealthQuantity, into grid: inout CellGrid, in rect: Rect, theme: Theme
    ) {
        let labelWidth = 6
        guard rect.width > labelWidth + 2, rect.height >= 2 else { return }
        let (title, body) = rect.splitTop(1)
        grid.writeLine("\(quantity.rawValue) |x| over steps", in: title, style: theme.dimText)
        let histograms = health.records.map { $0.layers[layer].histogram(quantity) }
        var used = Set<Int>()
        for histogram in histograms { for bin in 0..<HealthHistogram.binCount where histogram.bins[bin] > 0 { used.insert(bin) } }
        let magnitudes = used.filter { $0 > 0 }
        guard let low = magnitudes.min(), let high = magnitudes.max() else { return }
        // Bins from large (top) to small, and the zero bin last when it was ever used.
        let bins = Array((low...high).reversed()) + (used.contains(0) ? [0] : [])
        let (labels, map) = body.splitLeft(labelWidth)
        let pixelRows = map.height * 2
        let columns = buckets(records: histograms.count, width: map.width)
        func binRange(_ pixel: Int) -> Range<Int> {
            bins.count <= pixelRows ? (pixel < bins.count ? pixel..<(pixel + 1) : 0..<0)
                : (pixel * bins.count / pixelRows)..<((pixel + 1) * bins.count / pixelRows)
        }
        func shade(_ pixel: Int, _ bucket: Range<Int>) -> Color? {
            let range = binRange(pixel)
            guard !range.isEmpty else { return nil }
            var strongest: UInt8 = 0
            for record in bucket { for index in range { strongest = max(strongest, histograms[record].bins[bins[index]]) } }
            return Color(Colormap.inferno.color(at: Float(strongest) / 255))
        }
        for row in 0..<map.height {
            for (column, bucket) in columns.enumerated() {
                let top = shade(2 * row, bucket), bottom = shade(2 * row + 1, bucket)
                guard top != nil || bottom != nil else { continue }
                grid.set(Cell("▀", style: Style(foreground: top, background: bottom)), x: map.x + column, y: map.y + row)
            }
        }
        grid.writeLine(edgeText(bins.first!, upper: true), in: Rect(x: labels.x, y: labels.y, width: labelWidth, height: 1), style: theme.dimText)
        let lastRow = min(map.height, (bins.count + 1) / 2) - 1
        if lastRow > 0 {
            grid.writeLine(bins.last == 0 ? "0" : edgeText(bins.last!, upper: false),
                           in: Rect(x: labels.x, y: labels.y + lastRow, width: labelWidth, height: 1), style: theme.dimText)
        }
    }

    /// A bin edge as a short number: the top bin's upper edge or the bottom bin's lower edge.
    static func edgeText(_ bin: Int, upper: Bool) -> String {
        let edge = HealthHistogram.lowerEdge(of: upper ? bin + 1 : bin)
        return String(format: "%.0e", edge).replacingOccurrences(of: "e-0", with: "e-").replacingOccurrences(of: "e+0", with: "e")
    }

    private static func drawCurve(
        _ health: HealthHistory, layer: Int, metric: HealthMetric, into grid: inout CellGrid, in rect: Rect, theme: Theme
    ) {
        guard rect.width >= 12, rect.height >= 3 else { return }
        let points = health.series(metric, layer: layer).filter { $0.value.isFinite && (!metric.isLogarithmic || $0.value > 0) }
            .map { ChartPoint(x: Double($0.step), y: Double($0.value)) }
        var series = [ChartSeries(label: health.layers[layer], color: Color(hex: 0x5FAFFF), points: points)]
        if metric == .updateRatio, let first = points.first, let last = points.last {
            series.append(ChartSeries(label: "1e-3", color: Color(grey: 110), points: [
                ChartPoint(x: first.x, y: 1e-3), ChartPoint(x: last.x, y: 1e-3),
            ]))
        }
        BrailleChart(
            series: series, title: metricName(metric), logScale: metric.isLogarithmic, xAxisName: "step",
            yRange: metric == .deadShare ? 0...1 : nil, showLegend: false, theme: theme
        ).draw(into: &grid, in: rect)
    }
}
