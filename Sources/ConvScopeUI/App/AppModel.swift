import ConvKit
import ConvPresent
import ConvRender

/// A line for the status bar: what the last action did, or why it failed.
public struct StatusMessage: Sendable, Equatable {
    public var text: String
    public var isError: Bool

    public init(_ text: String, isError: Bool = false) {
        self.text = text
        self.isError = isError
    }
}

/// The quit dialog's progress.
public enum QuitPrompt: Sendable, Equatable {
    /// "unsaved training: save first? (y)es / (n)o / (c)ancel" is on screen.
    case asking
    /// The user said yes: waiting for a session event newer than `afterSerial` (the save's).
    case saving(afterSerial: Int)
}

/// Everything the UI shows besides the engine's values, and how keys change it: a pure state
/// machine. `handle(_:layout:)` maps a key to a new state plus `AppEffect`s; `observe(_:)` takes in
/// each new `TrainingSnapshot`. Neither touches the terminal or the engine, so both are unit-tested.
public struct AppModel: Sendable {
    /// The network's layers (block insides included), as the layer list shows them.
    public let layers: [ModelSummary.Row]
    public let classNames: [String]
    /// The test set's labels (for the misclassified-image jump).
    public let testLabels: [UInt8]

    public var selectedTab: Panel = .curves
    public var layerSelection: ListSelection
    /// The test image being explained.
    public var imageIndex = 0
    /// The class to explain; nil explains the predicted class.
    public var classIndex: Int?
    public var method: ActivationMapMethod = .gradCAM
    /// The methods the explanation board shows (M cycles the groups).
    public var explainGroup: ExplainGroup = .gradientCAM
    /// The group's method the sanity curve follows (`m` in the explain view).
    public var explainMethodIndex = 0
    /// How the sanity curve randomises the layers (`R` in the explain view switches).
    public var sanityMode: SanityCheck.Mode = .cascading
    public var scaleScope: ColorScaleScope = .map
    /// What the features view shows (`o`): the feature maps, or the inputs synthesised for each channel.
    public var featurePage: FeaturePage = .maps
    public var logScale = false
    /// What the health view's heat strips show (`h`) and which distribution it draws (`H`).
    public var healthMetric: HealthMetric = .gradientNorm
    public var healthQuantity: HealthQuantity = .gradients
    /// Health alarms raised so far that the status line has announced.
    public var healthAlarmsSeen: Int?
    public var showsHelp = false
    /// The learning-rate range test's overlay, while open, with the test's latest state.
    public var learningRateSearch: LearningRateSearch.State?
    public var showsLearningRateSearch = false
    public var quitPrompt: QuitPrompt?
    /// The A/B view, when the app compares two checkpoints (`--compare`).
    public var compare: CompareView?
    public var status: StatusMessage?
    /// The time scrubber: the snapshot the views show and the one marked for diff mode.
    public var time = TimeScrubber()

    /// Facts from the latest snapshot that keys depend on.
    public var runState: TrainingSnapshot.State = .paused
    /// The schedule's peak rate and the factor the user applied to it (to apply a suggested rate).
    public var scheduledPeak: Float = 0
    public var learningRateScale: Float = 1
    public var unsavedSteps = 0
    public var eventSerial = 0
    /// The latest test-set evaluation (the session's, or one the app ran for an opened checkpoint).
    public var evaluation: Evaluation?

    private var random: RandomSource

    public init(layers: [ModelSummary.Row], classNames: [String], testLabels: [UInt8], seed: UInt64 = 0) {
        self.layers = layers
        self.classNames = classNames
        self.testLabels = testLabels
        layerSelection = ListSelection(itemCount: layers.count)
        random = RandomSource(seed: seed, stream: 0x7E57)
    }

    /// The layer the views follow.
    public var selectedLayer: ModelSummary.Row { layers[layerSelection.selectedIndex] }

    /// What the insight worker should compute for the current selection.
    public var insightRequest: InsightRequest {
        InsightRequest(imageIndex: imageIndex, layer: selectedLayer.name, classIndex: classIndex, method: method)
    }

    /// What the explanation worker should compute for the current selection.
    public var explanationRequest: ExplanationRequest {
        var request = ExplanationRequest(imageIndex: imageIndex, layer: selectedLayer.name, classIndex: classIndex, methods: explainGroup.methods)
        request.time = time.cursor
        return request
    }

    /// Diff mode: the explanation board's request at the marked time, for `classIndex`, the class the board of the
    /// time shown explains (with no class chosen, the two times may predict different ones: a change between maps
    /// of two classes would say nothing). Nil without a mark.
    public func markedExplanationRequest(classIndex: Int) -> ExplanationRequest? { atMark(explanationRequest, classIndex: classIndex) }

    /// What the visualisation worker should compute for the current selection: the selected layer's
    /// channels, up to 64 (`visualizationOptions`).
    public var visualizationRequest: VisualizationRequest {
        VisualizationRequest(layer: selectedLayer.name, options: AppModel.visualizationOptions, limit: 64)
    }

    /// The app's ascent: the engine's defaults with fewer steps, so that a grid fills in while you watch
    /// (docs/interpretation.md gives the times; the CLI's `--steps` goes further).
    public static let visualizationOptions = FeatureVisualizationOptions(steps: 128, batchLimit: 16)

    /// The explain view's method for the sanity curve.
    public var explainMethod: ExplanationMethod {
        let methods = explainGroup.methods
        return methods[min(max(explainMethodIndex, 0), methods.count - 1)]
    }

    /// What the sanity worker should compute for the current selection: the randomisation test
    /// (`sanityMode`) of the explain view's method.
    public var sanityRequest: SanityRequest {
        var request = SanityRequest(imageIndex: imageIndex, layer: selectedLayer.name, classIndex: classIndex, method: explainMethod, mode: sanityMode)
        request.time = time.cursor
        return request
    }

    /// Diff mode: the sanity curve's request at the marked time, for `classIndex`, the class the board of the time
    /// shown explains (as `markedExplanationRequest`). Nil without a mark.
    public func markedSanityRequest(classIndex: Int) -> SanityRequest? { atMark(sanityRequest, classIndex: classIndex) }

    /// `request` at the marked time, explaining `classIndex`; nil without a mark.
    private func atMark<Request: MarkableRequest>(_ request: Request, classIndex: Int) -> Request? {
        guard let mark = time.mark else { return nil }
        var request = request
        request.classIndex = classIndex
        request.time = mark
        return request
    }

    /// The test evaluation of the time shown: the latest one when live, else the snapshot's (stored at an
    /// epoch's end, or run by the app for an early step; nil until that has finished).
    public var shownEvaluation: Evaluation? {
        guard let shown = time.shown else { return evaluation }
        return time.evaluation(of: shown)
    }

    /// The evaluation of the marked time, in diff mode.
    public var markedEvaluation: Evaluation? { time.marked.flatMap(time.evaluation(of:)) }

    /// Takes in a new snapshot: the run state, a new session event for the status line, the
    /// latest evaluation. Returns `.quit` once a save requested by the quit dialog has landed.
    public mutating func observe(_ snapshot: TrainingSnapshot) -> [AppEffect] {
        runState = snapshot.state
        (scheduledPeak, learningRateScale) = (snapshot.config.learningRate, snapshot.learningRateScale)
        unsavedSteps = snapshot.unsavedSteps
        // A watched run's evaluation belongs to the checkpoint shown: none while a newer one is evaluated.
        if snapshot.state == .watching {
            evaluation = snapshot.lastEvaluation
        } else if let latest = snapshot.lastEvaluation {
            evaluation = latest
        }
        // The step of the live weights: a watched run's checkpoint shown, which its metrics run ahead of.
        time.observe(snapshot.weightHistory, liveStep: snapshot.weightsVersion)
        time.watching = snapshot.state == .watching
        announceHealthAlarms(snapshot.health)
        guard snapshot.eventSerial > eventSerial else { return [] }
        eventSerial = snapshot.eventSerial
        if let event = snapshot.event {
            status = StatusMessage(SessionEventText.statusLine(event), isError: SessionEventText.isError(event))
        }
        if case .saving = quitPrompt {
            if snapshot.unsavedSteps == 0 { return [.quit] }
            quitPrompt = nil
        }
        return []
    }

    /// Applies a key; `layout` decides what tab comes next.
    public mutating func handle(_ key: Key, layout: ScreenLayout) -> [AppEffect] {
        if key == .interrupt { return [.quit] }
        if let prompt = quitPrompt { return answerQuitPrompt(prompt, key: key) }
        if showsLearningRateSearch { return answerLearningRateSearch(key, layout: layout) }
        if showsHelp {
            showsHelp = false
            if key == .character("?") || key == .escape { return [] }
        }
        if let effects = answerCompareView(key) { return effects }
        if runState == .watching, let refused = AppModel.watchingRefusal(key) {
            status = StatusMessage(refused)
            return []
        }
        switch key {
        case .character("q"):
            // While training runs, steps may land after the last snapshot: ask then too.
            guard unsavedSteps > 0 || runState == .running || runState == .stepping else { return [.quit] }
            quitPrompt = .asking
        case .character("?"): showsHelp = true
        case .character(" "):
            if runState == .finished { status = StatusMessage("training has finished; keep exploring (q quits)") }
            return runState == .finished ? [] : [.togglePause]
        case .character("n"):
            switch runState {
            case .running: status = StatusMessage("n takes a step while paused: press space first")
            case .finished: status = StatusMessage("training has finished: there is no next step")
            case .paused, .stepping, .diverged: return [.step]
            case .watching: break  // refused above
            }
        case .character("+"), .character("="): return [.scaleLearningRate(1.25)]
        case .character("-"), .character("_"): return [.scaleLearningRate(0.8)]
        case .tab: selectedTab = layout.tab(after: layout.shownTab(for: selectedTab) ?? selectedTab)
        case .backTab: selectedTab = layout.tab(after: layout.shownTab(for: selectedTab) ?? selectedTab, offset: -1)
        case .character(let digit) where Panel.allCases.contains { $0.numberKey == digit }:
            selectedTab = Panel.allCases.first { $0.numberKey == digit }!
        case .left: moveImage(by: -1)
        case .right: moveImage(by: 1)
        case .character("r"): imageIndex = random.below(max(testLabels.count, 1))
        case .character("x"): jumpToMisclassified()
        case .character("c"): classIndex = classIndex.map { $0 + 1 < classNames.count ? $0 + 1 : nil } ?? 0
        case .character("C"): classIndex = nil
        case .character("m") where layout.shows(.explain, selectedTab: selectedTab):
            explainMethodIndex = (explainMethodIndex + 1) % explainGroup.methods.count
        case .character("m"): method = method.next
        case .character("M"):
            guard layout.shows(.explain, selectedTab: selectedTab) else {
                status = StatusMessage("M works in the explain view: press 8 first")
                return []
            }
            explainGroup = explainGroup.next
            explainMethodIndex = 0
        case .character("R"):
            guard layout.shows(.explain, selectedTab: selectedTab) else {
                status = StatusMessage("R works in the explain view: press 8 first")
                return []
            }
            sanityMode = sanityMode.next
        case .character("v"): scaleScope = scaleScope.next
        case .character("l"): logScale.toggle()
        case .character("h"): healthMetric = healthMetric.next
        case .character("H"): healthQuantity = healthQuantity.next
        case .character("e"): return [.export(layout.shows(.explain, selectedTab: selectedTab) ? .explanations : .heatmap)]
        case .character("E"):
            let synthesised = featurePage == .synthesised && layout.shows(.features, selectedTab: selectedTab)
            return [.export(synthesised ? .visualization : .grid)]
        case .character("o"):
            guard layout.shows(.features, selectedTab: selectedTab) else {
                status = StatusMessage("o works in the features view: press 3 first")
                return []
            }
            featurePage = featurePage == .maps ? .synthesised : .maps
        case .character(let key) where AppModel.compressionKeys.contains(key):
            guard layout.shows(.compression, selectedTab: selectedTab) else {
                status = StatusMessage("\(key) works in the compression view: press 6 first")
                return []
            }
            return [AppModel.compressionMethods[key].map(AppEffect.compress) ?? .writeCompressed]
        case .character("D"):
            guard compare != nil else {
                status = StatusMessage("D shows the A/B view of two checkpoints: start with --checkpoint A --compare B")
                return []
            }
            compare?.isShown = true
        case .character("L"):
            showsLearningRateSearch = true
            learningRateSearch = nil
            return [.findLearningRate]
        case .character("["): status = time.back()
        case .character("]"): status = time.forward()
        case .character("\\"): status = time.live()
        case .character("t"): status = time.toggleMark()
        case .character("s"): return [.save]
        case .character("\u{0C}"): return [.repaint]
        default: layerSelection.handle(key)
        }
        return []
    }

    /// Why a training key does nothing while watching a run that another process trains, or nil for
    /// the other keys.
    static func watchingRefusal(_ key: Key) -> String? {
        let what: String
        switch key {
        case .character(" "): what = "pause"
        case .character("n"): what = "step"
        case .character("+"), .character("="), .character("-"), .character("_"): what = "learning rate"
        case .character("s"): what = "save"
        case .character("L"): what = "the learning-rate range test"
        default: return nil
        }
        return "\(what) is unavailable while watching: another process trains this run"
    }

    /// The compression view's keys: p, P and i measure a compressed copy, w writes the newest.
    public static let compressionMethods: [Character: CompressionMethod] = [
        "p": .magnitudePruning(amount: 0.3), "P": .filterPruning(fraction: 0.25), "i": .int8(calibrationImages: 256),
    ]
    static let compressionKeys: Set<Character> = Set(compressionMethods.keys).union(["w"])

    /// Keys while the learning-rate overlay is open: `a` applies the suggestion as the schedule's peak,
    /// Esc or `L` closes it (cancelling a test in progress).
    private mutating func answerLearningRateSearch(_ key: Key, layout: ScreenLayout) -> [AppEffect] {
        switch key {
        case .character("a"):
            guard let suggested = learningRateSearch?.result?.suggestedRate else {
                status = StatusMessage(learningRateSearch?.isRunning == false ? "no suggestion to apply" : "the test is still running")
                return []
            }
            showsLearningRateSearch = false
            let peak = scheduledPeak * learningRateScale
            status = StatusMessage("learning rate peak set to \(HealthText.number(suggested)) (the range test's suggestion)")
            return peak > 0 ? [.scaleLearningRate(suggested / peak)] : []
        case .escape, .character("L"):
            showsLearningRateSearch = false
            return learningRateSearch?.isRunning == false ? [] : [.cancelLearningRateSearch]
        default:
            // Like the help overlay, any other key closes the range test (cancelling it) and then does its own job,
            // so the app never swallows keys behind a panel.
            showsLearningRateSearch = false
            let cancel: [AppEffect] = learningRateSearch?.isRunning == false ? [] : [.cancelLearningRateSearch]
            return cancel + handle(key, layout: layout)
        }
    }

    private mutating func answerQuitPrompt(_ prompt: QuitPrompt, key: Key) -> [AppEffect] {
        guard prompt == .asking else { return [] }
        switch key {
        case .character("y"), .character("Y"):
            quitPrompt = .saving(afterSerial: eventSerial)
            return [.saveAndQuit]
        case .character("n"), .character("N"): return [.quit]
        case .character("c"), .character("C"), .escape, .character("q"): quitPrompt = nil
        default: break
        }
        return []
    }

    /// Puts a newly raised health alarm on the status line (alarms in a checkpoint's history, seen at the
    /// first snapshot, are in the header and the health view, not announced as news). A divergence's own
    /// alarm is left to the divergence's message.
    private mutating func announceHealthAlarms(_ health: HealthHistory) {
        defer { healthAlarmsSeen = health.alarmsRaised }
        guard let seen = healthAlarmsSeen, health.alarmsRaised > seen, let newest = health.alarmLog.last else { return }
        if case .nonFinite = newest.kind, newest.layer == nil || runState == .diverged { return }
        let more = health.alarmsRaised - seen > 1 ? " (+\(health.alarmsRaised - seen - 1) more, 7 shows them)" : " (7: health view)"
        status = StatusMessage("health alarm: " + HealthText.line(newest) + more, isError: true)
    }

    private mutating func moveImage(by offset: Int) {
        let count = max(testLabels.count, 1)
        imageIndex = ((imageIndex + offset) % count + count) % count
    }

    private mutating func jumpToMisclassified() {
        guard let evaluation = shownEvaluation else {
            status = StatusMessage(
                time.isLive ? "misclassified images are known after the first epoch's test evaluation"
                    : "misclassified images at this time are known once its evaluation (5 confusion) has finished")
            return
        }
        let wrong = evaluation.misclassified(labels: testLabels)
        guard let next = wrong.first(where: { $0 > imageIndex }) ?? wrong.first else {
            status = StatusMessage("no misclassified test images")
            return
        }
        imageIndex = next
        status = StatusMessage("misclassified image \(next) (\(wrong.count) in the test set)")
    }
}

/// The features view's two pages.
public enum FeaturePage: Sendable, Equatable {
    /// The selected layer's feature maps and filters for the selected test image.
    case maps
    /// For each channel of the selected layer, the input synthesised to maximise it.
    case synthesised
}

extension CaseIterable where Self: Equatable, AllCases.Index == Int {
    /// The next case, wrapping around after the last.
    var next: Self {
        let all = Self.allCases
        return all[(all.firstIndex(of: self)! + 1) % all.count]
    }
}
