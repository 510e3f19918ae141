import ConvKit
import ConvPresent
import Foundation

/// The two header rows: what is training on what, and how far it has got.
///
/// Row one: app name, the dataset (SYNTHETIC in a loud badge, never passing for CIFAR-10), the model
/// and, on the right, the run state. Row two: epoch, step, learning rate, images/s and ETA, with a
/// progress bar when there is room. Fields that do not fit are left out from the end. A watched run
/// (`convscope watch`) says WATCHING and, on row two, the step of the checkpoint the views show.
public enum HeaderPanel {
    public static func draw(
        _ snapshot: TrainingSnapshot, time: TimeScrubber? = nil, into grid: inout CellGrid, in rect: Rect, theme: Theme = .standard
    ) {
        guard !rect.isEmpty else { return }
        let (first, rest) = rect.splitTop(1)
        grid.fill(first, with: Cell(" ", style: theme.statusBar))

        let badge = " " + stateLabel(snapshot.state) + " "
        var (left, stateArea) = first.splitRight(min(badge.count, first.width))
        grid.writeLine(badge, in: stateArea, style: stateStyle(snapshot.state))
        // The health alarms stand beside the run state, where the eye goes first.
        if let alarm = HealthText.badge(snapshot.health.alarms), alarm.count + 30 <= left.width {
            let split = left.splitRight(alarm.count + 1)
            grid.writeLine(alarm, in: split.right.splitLeft(alarm.count).left, style: AppColors.errorBar)
            left = split.rest
        }
        var x = grid.write(" ConvScope ", x: left.x, y: left.y, style: theme.statusBar.adding(.bold), clip: left)
        let dataset = snapshot.isSynthetic ? " SYNTHETIC DATA (not CIFAR-10) " : " \(snapshot.datasetName) "
        let datasetStyle = snapshot.isSynthetic ? AppColors.syntheticBadge : theme.statusBar.adding(.bold)
        x = grid.write(dataset.count + 12 <= left.width ? dataset : " SYNTHETIC ", x: x + 1, y: left.y, style: datasetStyle, clip: left)
        let model = snapshot.presetName.map { "\($0) = \(snapshot.modelSpec)" } ?? snapshot.modelSpec
        grid.writeLine(" model " + model, in: Rect(x: x, y: left.y, width: left.maxX - x - 1, height: 1), style: theme.statusBar)

        let second = rest.splitTop(1).top
        guard !second.isEmpty else { return }
        var line = second.splitLeft(1).rest
        // Scrubbed back in time: the time shown comes first, loud, then the live run that goes on behind it.
        if let time, !time.isLive {
            let x = grid.write(" " + time.headerText + " ", x: line.x, y: line.y, style: AppColors.scrubbed, clip: line)
            grid.write(" live ▸ ", x: x, y: line.y, style: theme.dimText, clip: line)
            line = Rect(x: min(x + 8, line.maxX), y: line.y, width: max(line.maxX - x - 8, 0), height: 1)
        }
        var progress = progressLine(snapshot, width: line.width - 1)
        if let time, time.isLive, !time.history.isEmpty, progress.count + 5 + time.headerText.count <= line.width - 1 {
            progress += "  │  " + time.headerText
        }
        grid.writeLine(progress, in: line, style: theme.text)
    }

    /// The second row's text, as much as fits in `width`.
    public static func progressLine(_ snapshot: TrainingSnapshot, width: Int) -> String {
        if let watch = snapshot.watch { return watchLine(snapshot, watch, width: width) }
        let epoch = min(snapshot.completedEpochs + 1, snapshot.totalEpochs)
        let step = snapshot.state == .finished ? snapshot.stepsPerEpoch : snapshot.stepInEpoch
        var fields = [
            "epoch \(epoch)/\(snapshot.totalEpochs)",
            "step \(step)/\(snapshot.stepsPerEpoch)",
            String(format: "lr %.4g", snapshot.learningRate) + (snapshot.learningRateScale == 1 ? "" : String(format: " (x%.3g)", snapshot.learningRateScale)),
            snapshot.imagesPerSecond > 0 ? "\(Int(snapshot.imagesPerSecond.rounded()).formatted) img/s" : "-- img/s",
            "ETA " + (snapshot.state == .finished ? "done" : durationText(snapshot.secondsRemaining)),
            "total \(snapshot.globalStep)/\(snapshot.totalSteps)",
        ]
        let separator = "  │  "
        let plain = fields.joined(separator: separator)
        let barWidth = 20
        if plain.count + barWidth + 3 <= width {
            let fraction = snapshot.totalSteps > 0 ? Double(snapshot.globalStep) / Double(snapshot.totalSteps) : 0
            fields[5] = "▕" + BarChart.bar(value: fraction, width: barWidth) + "▏ " + fields[5]
        }
        return fitting(fields, separator: separator, width: width)
    }

    /// A watched run's second row: the checkpoint the views show first, then how far the writer's
    /// metrics have got (which runs ahead of the checkpoints).
    static func watchLine(_ snapshot: TrainingSnapshot, _ watch: WatchStatus, width: Int) -> String {
        let shown =
            watch.checkpointStep.map { "checkpoint step \($0)" + (watch.checkpointEpoch.map { " (epoch \($0))" } ?? "") }
            ?? "no checkpoint yet"
        var fields = [shown]
        if snapshot.history.steps.isEmpty && snapshot.history.epochs.isEmpty {
            fields.append("no metrics yet")
        } else {
            let epoch = min(snapshot.completedEpochs + 1, snapshot.totalEpochs)
            fields.append("run step \(snapshot.globalStep)" + (snapshot.totalSteps > 0 ? "/\(snapshot.totalSteps)" : ""))
            fields.append("epoch \(epoch)/\(snapshot.totalEpochs)")
            if snapshot.learningRate.isFinite { fields.append(String(format: "lr %.4g", snapshot.learningRate)) }
            if snapshot.imagesPerSecond > 0 { fields.append("\(Int(snapshot.imagesPerSecond.rounded()).formatted) img/s") }
        }
        fields.append(watch.directory)
        return fitting(fields, separator: "  │  ", width: width)
    }

    /// The fields, joined, as many as fit in `width` (from the first).
    private static func fitting(_ fields: [String], separator: String, width: Int) -> String {
        var line = ""
        for field in fields {
            let candidate = line.isEmpty ? field : line + separator + field
            if candidate.count > width { break }
            line = candidate
        }
        return line
    }

    static func stateLabel(_ state: TrainingSnapshot.State) -> String {
        switch state {
        case .running: return "RUNNING"
        case .paused: return "PAUSED"
        case .stepping: return "STEPPING"
        case .finished: return "FINISHED"
        case .diverged: return "DIVERGED"
        case .watching: return "WATCHING"
        }
    }

    static func stateStyle(_ state: TrainingSnapshot.State) -> Style {
        let background: Color
        switch state {
        case .running: background = AppColors.good
        case .paused, .stepping: background = AppColors.caution
        case .finished: background = AppColors.accent
        case .diverged: background = AppColors.bad
        case .watching: background = AppColors.accent
        }
        // Reverse video: the colour becomes the badge's background, and stays a block without colours.
        return Style(foreground: background, attributes: [.bold, .reverse])
    }
}

/// Colours the app's panels share beyond the foundation's `Theme`.
public enum AppColors {
    /// Correct predictions, a running session.
    public static let good = Color(hex: 0x5FD75F)
    /// Wrong predictions, errors.
    public static let bad = Color(hex: 0xFF5F5F)
    /// A paused session.
    public static let caution = Color(hex: 0xFFD75F)
    public static let accent = Color(hex: 0x87D7FF)
    /// Neither right nor wrong (the other top-3 classes).
    public static let neutral = Color(grey: 150)
    /// The loud label of the synthetic dataset: visible with and without colour.
    /// (Reverse video: an orange block with dark text, or an inverted block without colours.)
    public static let syntheticBadge = Style(foreground: Color(hex: 0xFF8700), attributes: [.bold, .reverse])
    /// The header's time field while the views show a past snapshot (reverse video: loud without colours too).
    public static let scrubbed = Style(foreground: Color(hex: 0xFFD75F), attributes: [.bold, .reverse])
    /// The status line when it reports an error.
    public static let errorBar = Style(foreground: Color(hex: 0xD70000), attributes: [.bold, .reverse])
}
