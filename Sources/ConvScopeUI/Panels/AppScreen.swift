import ConvKit
import ConvPresent

/// One frame of the app: the header, the panels that the layout shows at this size (framed, under a
/// tab bar when they do not all fit), the status line and any overlay (help, quit dialog), drawn
/// from the engine's latest values and the UI state into a fresh `CellGrid`.
public enum AppScreen {
    /// The hint the status line shows when there is no message.
    public static let hint = "space pause  n step  j/k layer  ←/→ image  c class  m method  e export  s save"
    /// The hint while the A/B view is open.
    public static let compareHint = "A/B  tab page  ←/→ flip  j/k layer  D or Esc closes  1-7 other views"
    /// The hint while watching a run another process trains (no training keys).
    public static let watchingHint = "WATCHING  j/k layer  ←/→ image  c class  m method  e export  (training keys off)"

    /// Renders a frame. Only the layer list's scroll position is written back into `model` (the list
    /// learns its height when drawn); everything else is read.
    public static func render(
        model: inout AppModel, snapshot: TrainingSnapshot, insight: Insight?, compression: CompressionResults = CompressionResults(),
        compressionChange: CompressionChange? = nil, explanations: ExplanationBoard? = nil, sanity: SanityCurve? = nil,
        comparison: ComparisonWorker.Progress? = nil, comparedExplanation: ExplanationPair? = nil,
        visualization: VisualizationGrid? = nil, width: Int, height: Int, theme: Theme = .standard
    ) -> CellGrid {
        var grid = CellGrid(width: width, height: height)
        let layout = ScreenLayout(width: width, height: height)
        guard layout.mode != .tooSmall else {
            layout.drawTooSmallMessage(into: &grid, theme: theme)
            return grid
        }
        HeaderPanel.draw(snapshot, time: model.time, into: &grid, in: layout.header, theme: theme)
        if let tabBar = layout.tabBar, let shown = layout.shownTab(for: model.selectedTab) {
            Tabs(
                titles: layout.tabPanels.map { "\($0.numberKey) \($0.title)" }, selectedIndex: layout.tabPanels.firstIndex(of: shown) ?? 0,
                theme: theme
            ).draw(into: &grid, in: tabBar)
        }
        for (panel, rect) in layout.visiblePanels(selectedTab: model.selectedTab) {
            let frameTitle = title(of: panel, model: model, insight: insight, watching: snapshot.watch != nil)
            let inside = Frame(title: frameTitle, isFocused: panel == .layers, theme: theme).draw(into: &grid, in: rect)
            let content = Rect(x: inside.x + 1, y: inside.y, width: inside.width - 2, height: inside.height)
            switch panel {
            case .curves:
                CurvesPanel.draw(snapshot, logScale: model.logScale, into: &grid, in: content, theme: theme)
            case .layers:
                LayersPanel.draw(layers: model.layers, selection: &model.layerSelection, into: &grid, in: content, theme: theme)
            case .features where model.featurePage == .synthesised:
                VisualizationPanel.draw(visualization, layer: model.selectedLayer.name, into: &grid, in: content, theme: theme)
            case .features:
                FeaturesPanel.draw(insight, layers: model.layers, scope: model.scaleScope, into: &grid, in: content, theme: theme)
            case .gradCAM:
                GradCAMPanel.draw(insight, model: model, into: &grid, in: content, theme: theme)
            case .confusion:
                // A watched run's matrix is its checkpoint's, evaluated here.
                let watched = snapshot.watch.map { watch in
                    watch.checkpointStep.map { "Evaluating checkpoint step \($0) on the test set…" } ?? "Waiting for the run's first checkpoint."
                }
                // Scrubbed back: the matrix of the time shown (stored with it, or evaluated here); in diff mode the
                // class accuracies are the change since the marked time.
                let past = model.time.shown.map { shown in
                    "Evaluating the weights of \(model.time.place(shown.step)) on the test set, on a copy; training goes on…"
                }
                ConfusionPanel.draw(
                    model.shownEvaluation, classNames: model.classNames,
                    epoch: model.time.shown?.epoch ?? snapshot.watch?.checkpointEpoch ?? snapshot.completedEpochs,
                    baseline: model.markedEvaluation, baselineName: model.time.mark.map { "step \($0)" },
                    into: &grid, in: content, theme: theme,
                    absentText: past ?? watched ?? "The confusion matrix appears after the first epoch's test evaluation.")
            case .compression:
                // In diff mode (a change for the current mark), each model at the marked time, now, and the change.
                let change = compressionChange.flatMap { $0.markedStep == model.time.mark ? $0 : nil }
                CompressionPanel.draw(compression, change: change, testImages: model.testLabels.count, into: &grid, in: content, theme: theme)
            case .health:
                HealthPanel.draw(
                    snapshot.health, selectedLayer: model.selectedLayer.name, layerOrder: model.layers.map(\.name),
                    metric: model.healthMetric, quantity: model.healthQuantity, recordingOff: snapshot.healthRecordingOff, into: &grid,
                    in: content, theme: theme)
            case .explain:
                ExplainPanel.draw(explanations, sanity: sanity, model: model, into: &grid, in: content, theme: theme)
            }
        }
        if let view = model.compare, view.isShown, let comparison {
            // The A/B view covers the tab bar and the panels, between the header and the status line.
            let body = Rect(x: 0, y: layout.header.maxY, width: width, height: layout.status.y - layout.header.maxY)
            ComparePanel.draw(view, progress: comparison, explanation: comparedExplanation, model: model, into: &grid, in: body, theme: theme)
        }
        let message = model.status
        StatusLine(
            left: message?.text ?? (model.compare?.isShown == true ? compareHint : snapshot.state == .watching ? watchingHint : hint),
            right: "? help  q quit",
            style: message?.isError == true ? AppColors.errorBar : theme.statusBar
        ).draw(into: &grid, in: layout.status)

        if model.showsHelp {
            let bindings = snapshot.state == .watching ? AppKeys.watchingBindings : AppKeys.bindings
            HelpOverlay(bindings: bindings, footer: "? or Esc closes this help", theme: theme).draw(into: &grid, in: layout.screen)
        }
        if model.showsLearningRateSearch {
            drawLearningRateSearch(model.learningRateSearch, into: &grid, in: layout.screen, theme: theme)
        }
        if let prompt = model.quitPrompt {
            drawQuitPrompt(prompt, unsavedSteps: model.unsavedSteps, into: &grid, in: layout.screen, theme: theme)
        }
        return grid
    }

    /// A panel's frame title: what it shows and the key that changes it.
    /// While watching a run, the explanation names the checkpoint step its weights come from.
    static func title(of panel: Panel, model: AppModel, insight: Insight?, watching: Bool = false) -> String {
        switch panel {
        case .curves: return "Curves"
        case .layers: return "Layers (j/k)"
        case .features:
            let mark = model.time.mark.map { " · Δ since step \($0)" } ?? ""
            return model.featurePage == .maps ? "Features: \(model.selectedLayer.name)" + mark : "Synthesised inputs: \(model.selectedLayer.name)"
        case .gradCAM:
            let layer = insight?.mapLayer.map { " at \($0)" } ?? ""
            let step = watching ? insight.map { " · step \($0.weightsVersion)" } ?? "" : ""
            return "\(model.method)\(layer)\(step)"
        case .confusion: return "Confusion"
        case .compression: return "Compression (p P i w)"
        case .health: return "Health (h H, j/k layer)"
        case .explain:
            return "Explain at \(model.selectedLayer.name) (c class, M group, e export, R sanity: \(model.sanityMode.rawValue))"
        }
    }

    /// The learning-rate range test over the middle of the screen: the curve so far, then the suggestion.
    static func drawLearningRateSearch(_ state: LearningRateSearch.State?, into grid: inout CellGrid, in rect: Rect, theme: Theme) {
        let box = rect.centered(width: min(rect.width - 2, 76), height: min(rect.height - 2, 20))
        grid.fill(box, with: Cell(" ", style: theme.text))
        let inside = Frame(title: "Learning-rate range test (L)", isFocused: true, theme: theme).draw(into: &grid, in: box)
        let content = Rect(x: inside.x + 1, y: inside.y, width: inside.width - 2, height: inside.height)
        let (chart, footer) = content.splitBottom(2)
        let points = state?.points ?? []
        let result = state?.result ?? LearningRateFinder.Result(points: points, suggestedRate: nil, steepestRate: nil, stoppedEarly: false)
        LearningRateChart.draw(result, into: &grid, in: chart, theme: theme)
        let (first, second) = footer.splitTop(1)
        if let state, !state.isRunning {
            grid.writeLine(LearningRateText.summary(result), in: first, style: theme.warning)
            grid.writeLine("a applies it as the schedule's peak  ·  Esc closes", in: second, style: theme.keyName)
        } else {
            let rate = points.last.map { " (rate \(HealthText.number($0.rate)))" } ?? ""
            grid.writeLine("step \(points.count) of at most \(state?.steps ?? 100)\(rate), on a copy of the weights", in: first, style: theme.text)
            grid.writeLine("Esc cancels", in: second, style: theme.keyName)
        }
    }

    /// The quit dialog: a framed question in the middle of the screen.
    static func drawQuitPrompt(_ prompt: QuitPrompt, unsavedSteps: Int, into grid: inout CellGrid, in rect: Rect, theme: Theme) {
        let lines: [String]
        switch prompt {
        case .asking:
            let what = unsavedSteps > 0 ? unsavedStepsText(unsavedSteps) : "training is running"
            lines = ["\(what): save first?", "(y)es / (n)o / (c)ancel"]
        case .saving:
            lines = ["saving the checkpoint…", ""]
        }
        let box = rect.centered(width: (lines.map(\.count).max() ?? 0) + 6, height: lines.count + 2)
        grid.fill(box, with: Cell(" ", style: theme.text))
        let inside = Frame(title: "Quit", isFocused: true, theme: theme).draw(into: &grid, in: box)
        for (index, line) in lines.enumerated() {
            grid.writeLine(line, in: Rect(x: inside.x, y: inside.y + index, width: inside.width, height: 1), alignment: .center,
                           style: index == 0 ? theme.warning : theme.keyName)
        }
    }
}
