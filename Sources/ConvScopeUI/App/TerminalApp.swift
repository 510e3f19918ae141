import ConvKit
import ConvPresent
import ConvRender
import Dispatch
import Foundation

/// How the app begins: with a run ready to go, or on the setup screen because CIFAR-10 is missing.
public enum AppStart {
    /// Train (or explore) with this trainer at once.
    case ready(Trainer)
    /// Offer download / synthetic / quit first; `makeTrainer` builds the run for the chosen data
    /// (on the UI thread).
    case setup(SetupModel, downloader: DatasetDownloader, syntheticSeed: UInt64, makeTrainer: (Dataset) throws -> Trainer)
    /// Follow a run another process trains (`convscope watch`): the watcher's checkpoints, with images
    /// of `dataset` (its test set, and training images for int8 calibration).
    case watching(RunWatcher, dataset: Dataset)
}

/// Where the app's files go and how the run opens.
public struct AppOptions: Sendable {
    /// Where `s` saves (and the quit dialog's "yes").
    public var checkpointPath: String
    /// Open paused (a checkpoint to explore); space starts training.
    public var startPaused: Bool
    /// Where `e` and `E` write their PNGs, and `w` the compressed model.
    public var exportDirectory: String

    public init(checkpointPath: String, startPaused: Bool, exportDirectory: String) {
        self.checkpointPath = checkpointPath
        self.startPaused = startPaused
        self.exportDirectory = exportDirectory
    }
}

/// How the app ended.
public enum AppOutcome: Sendable, Equatable {
    /// The user quit; `unsavedSteps` were left unsaved (0 after a save).
    case quit(unsavedSteps: Int)
    /// SIGINT, SIGTERM or SIGHUP: the app shut down cleanly.
    case interrupted(signal: Int32, unsavedSteps: Int)
}

/// The terminal app: owns the curses screen on the calling (UI) thread and runs the event loop.
///
/// Each turn of the loop waits up to `keyTimeout` for a key, lets `AppModel` turn it into effects,
/// reads the session's latest `TrainingSnapshot`, asks the `InsightWorker` for the current view
/// (computed on its own queue, on a copy of the weights) and, while the compression view shows, the
/// `CompressionLab` for the current sparsity (it measures compressed copies on request, on its own
/// queue, too), and redraws when something changed:
/// at least every `frameInterval` while training runs, otherwise when a key, snapshot or insight
/// changed, and once a second. `CursesScreen` writes only the cells that differ from the last
/// frame. The training runs on the session's queue; this thread only reads values and sends commands.
public final class TerminalApp {
    /// Longest wait for a key: bounds the reaction time to snapshots and keys.
    public static let keyTimeout = 40
    /// Seconds between frames while training runs (10 per second).
    public static let frameInterval = 0.1

    private let screen: CursesScreen
    private let options: AppOptions

    /// Takes over the terminal (throws `TerminalError` when there is none).
    public init(options: AppOptions) throws {
        self.options = options
        screen = try CursesScreen()
        LargeBlocks.returnToTheSystemWhenFreed()
    }

    /// Runs until the user quits or a signal arrives, then gives the terminal back. With `compared` (a second
    /// checkpoint and the name to show for it) the A/B view opens over the run, comparing its weights with it.
    public func run(_ start: AppStart, compared: (name: String, model: Classifier)? = nil) -> AppOutcome {
        defer { screen.stop() }
        switch start {
        case .ready(let trainer):
            return runSession(trainer, compared: compared)
        case let .watching(watcher, dataset):
            return runWatch(watcher, dataset: dataset)
        case let .setup(model, downloader, seed, makeTrainer):
            switch runSetup(model, downloader: downloader, syntheticSeed: seed, makeTrainer: makeTrainer) {
            case .success(let trainer): return runSession(trainer)
            case .failure(let exit): return exit.outcome
            }
        }
    }

    // MARK: - Training and exploring

    private func runSession(_ trainer: Trainer, compared: (name: String, model: Classifier)? = nil) -> AppOutcome {
        // Everything read from the trainer is read before the session takes it over.
        let (train, test) = (trainer.dataset.train, trainer.dataset.test)
        let layers = ModelSummary(trainer.network).rows, classNames = trainer.dataset.classNames
        let resumed = trainer.globalStep > 0
        let session = TrainingSession(trainer: trainer, paused: options.startPaused, checkpointPath: options.checkpointPath)
        return runLoop(
            RunView(source: session, controls: session, layers: layers, classNames: classNames, train: train, test: test,
                    dataset: trainer.dataset, evaluateAtStart: resumed, stop: { session.stop() }),
            compared: compared)
    }

    /// `convscope watch`: the same views over a run directory another process writes. The training
    /// keys are refused by `AppModel` (the state is `.watching`), so there are no controls.
    private func runWatch(_ watcher: RunWatcher, dataset: Dataset) -> AppOutcome {
        let layers = ModelSummary(watcher.copyNetwork().network).rows
        return runLoop(
            RunView(source: watcher, controls: nil, layers: layers, classNames: dataset.classNames, train: dataset.train,
                    test: dataset.test, dataset: nil, evaluateAtStart: false, stop: { watcher.stop() }))
    }

    /// What the event loop shows and steers.
    private struct RunView {
        /// Snapshots and weight copies for the views.
        let source: any WeightsSource
        /// Where pause, step, learning rate and save go; nil when nothing here trains.
        let controls: TrainingSession?
        let layers: [ModelSummary.Row]
        let classNames: [String]
        let train: ImageSet, test: ImageSet
        /// The training run's data (the learning-rate range test trains on it); nil when nothing here trains.
        let dataset: Dataset?
        /// Evaluate the opening weights off the UI thread (a run opened from a checkpoint).
        let evaluateAtStart: Bool
        /// Stops the source for good (the app is quitting).
        let stop: () -> Void
    }

    private func runLoop(_ run: RunView, compared: (name: String, model: Classifier)? = nil) -> AppOutcome {
        let (session, train, test) = (run.source, run.train, run.test)
        var model = AppModel(layers: run.layers, classNames: run.classNames, testLabels: test.labels)
        // A is the weights the app opened with, copied once; B the other checkpoint. Both go to the worker's queue.
        let comparer = compared.map { ComparisonWorker(a: session.copyNetwork().network, b: $0.model, images: test) }
        if let compared {
            model.compare = CompareView(nameA: (options.checkpointPath as NSString).lastPathComponent, nameB: (compared.name as NSString).lastPathComponent)
        }
        // `shown`'s workers read the weights of the time the cursor shows (live until [ moves it), `marked`'s those
        // of the time marked for diff mode.
        let shown = TimeWorkers(live: session, train: train, test: test), marked = TimeWorkers(live: session, train: train, test: test)
        let synthesiser = VisualizationWorker(session: shown.source)
        let background = DispatchGroup(), quitting = StopSignal()
        let checkpointEvaluation = run.evaluateAtStart ? evaluateInBackground(session, on: test, group: background, stoppingWhen: quitting) : nil
        let exporter = Exporter(directory: options.exportDirectory)
        let exports = BackgroundJobs(label: "convscope.export")
        let rateSearch = LearningRateSearch()
        let timeEvaluations = SnapshotEvaluations(source: shown.source, images: test)
        if screen.truecolorUnavailable {
            model.status = StatusMessage("COLORTERM asks for 24-bit colour but terminfo has no direct-colour entry (ncurses-term has them)")
        }

        var lastDrawn = -Double.infinity
        var lastFrame: FrameToken?
        var lastTime: (cursor: Int?, mark: Int?) = (nil, nil)
        while true {
            let key = screen.readKey(timeoutMilliseconds: TerminalApp.keyTimeout)
            // The size after the key: a resize is drawn at its new size in this turn, not a second later.
            let size = screen.size
            let layout = ScreenLayout(width: size.width, height: size.height)
            let snapshot = session.snapshot
            var effects = model.observe(snapshot)
            if key != .none && key != .resize { effects += model.handle(key, layout: layout) }
            if model.evaluation == nil, let evaluation = checkpointEvaluation?.withLock({ $0 }) {
                model.evaluation = evaluation
            }
            if let exported = exports.takeMessage() { model.status = exported }
            if model.showsLearningRateSearch { model.learningRateSearch = rateSearch.current }
            // The time shown and the time marked, for every worker's next copy of the weights.
            shown.source.show(model.time.shown)
            marked.source.show(model.time.marked)
            // A move of the cursor or the mark is a jump the user asked for: the insight workers start on it at once
            // rather than after their refresh interval (which spaces out recomputations that follow training).
            if lastTime.cursor != model.time.cursor { shown.insight.kick() }
            if lastTime.mark != model.time.mark { marked.insight.kick() }
            lastTime = (model.time.cursor, model.time.mark)
            let shownVersion = model.time.cursor ?? snapshot.weightsVersion
            // A snapshot kept without an evaluation (an early step) is evaluated while its matrix is on screen.
            if let past = model.time.shown, model.time.evaluation(of: past) == nil, layout.shows(.confusion, selectedTab: model.selectedTab) {
                timeEvaluations.evaluate(past, group: background, stoppingWhen: quitting)
            }
            if timeEvaluations.count != model.time.evaluations.count { model.time.evaluations = timeEvaluations.finished }
            let comparison = comparer?.progress
            if case .done(let result)? = comparison { model.observeComparison(flips: result.flips.map(\.index)) }
            // A watched run has no weights to show until its first checkpoint has loaded.
            let hasWeights = snapshot.watch.map { $0.checkpointStep != nil } ?? true
            if hasWeights { shown.insight.update(model.insightRequest, weightsVersion: shownVersion) }
            // Diff mode: the same view at the marked time; the panels draw the change between the two.
            if hasWeights, let mark = model.time.mark { marked.insight.update(model.insightRequest, weightsVersion: mark) }
            let insight = model.time.mark == nil ? shown.insight.latest : shown.insight.latest.flatMap { now in
                marked.insight.latest.flatMap { then in then.weightsVersion == model.time.mark && then.request == now.request ? now.change(since: then) : nil }
            }
            // The board is computed only while it is on screen: leaving the view cancels it.
            let showsBoard = hasWeights && layout.shows(.explain, selectedTab: model.selectedTab)
            shown.explainer.update(showsBoard ? model.explanationRequest : nil)
            // Diff mode: the same board at the marked time, explaining the class the board shown explains, and the
            // change between the two (map by map as both land).
            let shownBoard = shown.explainer.latest.flatMap { $0.request == model.explanationRequest ? $0 : nil }
            let markRequest = shownBoard.flatMap { model.markedExplanationRequest(classIndex: $0.classIndex) }
            marked.explainer.update(showsBoard ? markRequest : nil)
            let board = model.time.mark == nil ? shown.explainer.latest : shownBoard.flatMap { now in
                marked.explainer.latest.flatMap { then in then.request == markRequest ? now.change(since: then) : nil }
            }
            // The sanity curve waits for the board (both share the cores left over from training) and
            // stops when it leaves the screen or the selection changes. In diff mode the same curve at the marked
            // time, for the class the board shown explains, and the change between the two.
            let markSanityRequest = shownBoard.flatMap { model.markedSanityRequest(classIndex: $0.classIndex) }
            if !showsBoard {
                shown.sanity.update(nil)
                marked.sanity.update(nil)
            } else if board?.request == model.explanationRequest && board?.isComplete == true {
                shown.sanity.update(model.sanityRequest)
                marked.sanity.update(markSanityRequest)
            } else {
                if shown.sanity.request != model.sanityRequest { shown.sanity.update(nil) }
                if marked.sanity.request != markSanityRequest { marked.sanity.update(nil) }
            }
            let curve = model.time.mark == nil ? shown.sanity.latest : shown.sanity.latest.flatMap { now in
                marked.sanity.latest.flatMap { then in then.request == markSanityRequest ? now.change(since: then) : nil }
            }
            // Like the board, the grid of synthesised inputs is computed only while it is on screen.
            let showsSynthesised = hasWeights && model.featurePage == .synthesised && layout.shows(.features, selectedTab: model.selectedTab)
            synthesiser.update(showsSynthesised ? model.visualizationRequest : nil)
            let visualization = synthesiser.latest
            if let view = model.compare, view.isShown, view.page == .flips, let image = view.flipImage {
                comparer?.explain(ComparisonWorker.Request(imageIndex: image, layer: model.selectedLayer.name))
            }
            let comparedExplanation = comparer?.explanation
            let showsLab = hasWeights && layout.shows(.compression, selectedTab: model.selectedTab)
            if showsLab { shown.lab.survey(weightsVersion: shownVersion) }
            // Diff mode: every model of the table measured at the marked time too, on the lab pinned there, and the
            // sparsity of the weights there.
            if showsLab, let mark = model.time.mark {
                marked.lab.survey(weightsVersion: mark)
                for method in shown.lab.results.change(since: marked.lab.results, markedStep: mark).missing { _ = marked.lab.request(method, weightsVersion: mark) }
            }
            for effect in effects {
                switch effect {
                case .togglePause: run.controls?.togglePause()
                case .step: run.controls?.step()
                case .scaleLearningRate(let factor): run.controls?.scaleLearningRate(by: factor)
                case .save:
                    run.controls?.save()
                    model.status = StatusMessage("saving \(options.checkpointPath)…")
                case .saveAndQuit:
                    run.controls?.pause()
                    run.controls?.save()
                case .quit:
                    quitting.raise()
                    run.stop()
                    // Background work on copies of the weights must finish before the process
                    // exits: OpenBLAS's exit-time cleanup crashes a thread still inside a BLAS call.
                    shown.finish()
                    marked.finish()
                    synthesiser.finish()
                    comparer?.finish()
                    rateSearch.finish()
                    exports.finish()
                    background.wait()
                    let unsaved = session.snapshot.unsavedSteps
                    if key == .interrupt, let signal = screen.lastInterruptSignal {
                        return .interrupted(signal: signal, unsavedSteps: unsaved)
                    }
                    return .quit(unsavedSteps: unsaved)
                case .export where !hasWeights:
                    model.status = StatusMessage("nothing to export yet: waiting for the run's first checkpoint")
                case .export(.explanations):
                    guard let board, board.request == model.explanationRequest, board.entries.contains(where: { $0.hasMap }) else {
                        model.status = StatusMessage("nothing to export yet: the explanation board is still computing its first map")
                        break
                    }
                    // The sanity curve as shown: complete, partial (the PNG says so) or not started.
                    let (group, classNames, request) = (model.explainGroup.rawValue, model.classNames, model.sanityRequest)
                    exports.run {
                        do {
                            let path = try exporter.exportBoard(board, sanity: request, curve: curve, group: group, classNames: classNames)
                            return StatusMessage("exported \(path)")
                        } catch {
                            return StatusMessage("export failed: \(error)", isError: true)
                        }
                    }
                    let complete = board.isComplete && curve?.request == request && curve?.isComplete == true
                    model.status = StatusMessage(complete ? "exporting the explanation board and its sanity curve…" : "exporting what is computed so far…")
                case .export(.visualization):
                    guard let visualization, visualization.request == model.visualizationRequest, visualization.finished > 0 else {
                        model.status = StatusMessage("nothing to export yet: no channel is synthesised yet")
                        break
                    }
                    exports.run {
                        do {
                            return StatusMessage("exported \(try exporter.exportVisualization(visualization))")
                        } catch {
                            return StatusMessage("export failed: \(error)", isError: true)
                        }
                    }
                    model.status = StatusMessage(visualization.isComplete ? "exporting the synthesised inputs…" : "exporting the channels done so far…")
                case .export(let kind):
                    // The insight on screen when it is for the current selection, else one computed on the export queue.
                    let (request, classNames, scope) = (model.insightRequest, model.classNames, model.scaleScope)
                    let onScreen = insight.flatMap { $0.request == request ? $0 : nil }
                    exports.run {
                        TerminalApp.export(kind, of: onScreen ?? shown.insight.computeNow(request), exporter: exporter, classNames: classNames, scope: scope)
                    }
                    model.status = StatusMessage(kind == .heatmap ? "exporting the heatmap…" : "exporting the feature maps…")
                case .compress(let method) where !hasWeights:
                    model.status = StatusMessage("\(method.label) needs weights: waiting for the run's first checkpoint")
                case .compress(let method):
                    let queued = shown.lab.request(method, weightsVersion: shownVersion)
                    let queuedAtMark = model.time.mark.map { marked.lab.request(method, weightsVersion: $0) } ?? false
                    let copies = queuedAtMark ? "copies of the weights shown and of the marked time's" : "a copy of the weights"
                    model.status = queued || queuedAtMark
                        ? StatusMessage("measuring \(method.label) on \(copies); training goes on")
                        : StatusMessage("\(method.label) is already in the table for these weights, or on its way")
                case .writeCompressed:
                    model.status = writeCompressed(shown.lab, exporter: exporter)
                case .repaint: screen.invalidate()
                case .findLearningRate:
                    guard let controls = run.controls, let dataset = run.dataset else { break }
                    rateSearch.start(session: controls, dataset: dataset)
                    model.status = StatusMessage("learning-rate range test on a copy of the weights; training goes on")
                case .cancelLearningRateSearch: rateSearch.cancel()
                }
            }

            let now = Stopwatch.now
            let compression = shown.lab.results, markedCompression = marked.lab.results
            let compressionChange = model.time.mark.map { compression.change(since: markedCompression, markedStep: $0) }
            let frame = FrameToken(
                snapshot, insight, compressionSerial: compression.serial + markedCompression.serial, exportsFinished: exports.finishedCount,
                searchSerial: model.learningRateSearch?.serial ?? -1, board: board, sanity: curve,
                time: "\(model.time.cursor ?? -1) \(model.time.mark ?? -1) \(model.time.history.count) \(model.time.evaluations.count) \(marked.insight.latest?.weightsVersion ?? -1)",
                comparison: "\(model.compare?.isFinished ?? false) \(comparedExplanation?.imageIndex ?? -1) \(comparedExplanation?.layer ?? "")",
                visualization: visualization.map { "\($0.request.layer) \($0.finished) \(Int(($0.progress ?? 2) * 100)) \($0.error ?? "")" } ?? "")
            let interval = snapshot.state == .running || snapshot.state == .stepping ? TerminalApp.frameInterval : 1
            guard key != .none || frame != lastFrame || now - lastDrawn >= interval else { continue }
            let grid = AppScreen.render(
                model: &model, snapshot: snapshot, insight: insight, compression: compression, compressionChange: compressionChange,
                explanations: board, sanity: curve,
                comparison: comparison, comparedExplanation: comparedExplanation, visualization: visualization, width: size.width,
                height: size.height)
            screen.draw(grid)
            (lastDrawn, lastFrame) = (now, frame)
        }
    }

    /// Carries out `e` or `E` on `insight` (off the UI thread) and says what happened.
    private static func export(
        _ kind: ExportKind, of insight: Insight, exporter: Exporter, classNames: [String], scope: ColorScaleScope
    ) -> StatusMessage {
        do {
            switch kind {
            case .explanations:
                throw ExportError.nothingToExport("the explanation board is exported from its own view")
            case .visualization:
                throw ExportError.nothingToExport("the synthesised inputs are exported from their own page")
            case .heatmap:
                let path = try exporter.exportHeatmap(insight, classNames: classNames, step: insight.weightsVersion)
                return StatusMessage("exported \(path)")
            case .grid:
                let paths = try exporter.exportGrid(insight, scope: scope, step: insight.weightsVersion)
                return StatusMessage("exported " + paths.joined(separator: ", "))
            }
        } catch {
            return StatusMessage("export failed: \(error)", isError: true)
        }
    }

    /// Carries out `w`: writes the newest compressed model's checkpoint and says where.
    private func writeCompressed(_ lab: CompressionLab, exporter: Exporter) -> StatusMessage {
        guard let newest = lab.newestCheckpoint() else {
            return StatusMessage("nothing to write yet: p, P or i measures a compressed copy first")
        }
        do {
            let path = try exporter.exportCheckpoint(newest.checkpoint, method: newest.method, step: newest.weightsVersion)
            return StatusMessage("wrote \(path) (convscope eval --checkpoint reads it)")
        } catch {
            return StatusMessage("writing the compressed model failed: \(error)", isError: true)
        }
    }

    /// Evaluates a copy of the session's network on the test set off the UI thread (a run opened
    /// from a checkpoint has no evaluation of its own until it finishes another epoch); it gives up
    /// after the current batch when `stop` is raised, so quitting does not wait for the whole test set.
    private func evaluateInBackground(
        _ session: any WeightsSource, on test: ImageSet, group: DispatchGroup, stoppingWhen stop: StopSignal
    ) -> Locked<Evaluation?> {
        let result = Locked<Evaluation?>(nil)
        DispatchQueue.global(qos: .utility).async(group: group) {
            let network = session.copyNetwork().network
            let evaluation = Evaluator(classes: network.classCount).evaluate(test, stoppingWhen: stop) { network.infer($0) }
            result.withLock { $0 = evaluation }
        }
        return result
    }

    // MARK: - Setup (no data)

    private func runSetup(
        _ initial: SetupModel, downloader: DatasetDownloader, syntheticSeed: UInt64, makeTrainer: (Dataset) throws -> Trainer
    ) -> Result<Trainer, SetupExit> {
        var model = initial
        let progress = Locked<DownloadProgress?>(nil)
        var pending: Locked<Result<Dataset, any Error>?>?
        let stopDownload = StopSignal()
        while true {
            let key = screen.readKey(timeoutMilliseconds: TerminalApp.keyTimeout)
            let size = screen.size
            switch key == .none ? nil : model.handle(key) {
            case .quit?:
                // A download in progress stops and removes what it wrote before the process ends (within
                // a tenth of a second, or once tar has finished unpacking).
                stopDownload.raise()
                while let pending, pending.withLock({ $0 == nil }) { Thread.sleep(forTimeInterval: 0.02) }
                if key == .interrupt, let signal = screen.lastInterruptSignal {
                    return .failure(SetupExit(.interrupted(signal: signal, unsavedSteps: 0)))
                }
                return .failure(SetupExit(.quit(unsavedSteps: 0)))
            case .download?:
                pending = load {
                    _ = try downloader.run(stoppingWhen: stopDownload) { report in progress.withLock { $0 = report } }
                    return try Dataset.load(.cifar10(directory: downloader.datasetDirectory))
                }
            case .synthetic?:
                pending = load { try Dataset.load(.synthetic(seed: syntheticSeed)) }
            case nil: break
            }
            if case .downloading = model.phase { model.phase = .downloading(progress.withLock { $0 }) }
            if let outcome = pending?.withLock({ $0 }) {
                pending = nil
                do {
                    return .success(try makeTrainer(try outcome.get()))
                } catch {
                    model.phase = .failed(ErrorText.describe(error))
                }
            }
            var grid = CellGrid(width: size.width, height: size.height)
            SetupScreen.draw(model, into: &grid, in: grid.bounds)
            screen.draw(grid)
        }
    }

    /// Runs `work` on a background queue; the result appears in the returned box.
    private func load(_ work: @escaping @Sendable () throws -> Dataset) -> Locked<Result<Dataset, any Error>?> {
        let result = Locked<Result<Dataset, any Error>?>(nil)
        DispatchQueue.global(qos: .userInitiated).async {
            let outcome = Result { try work() }
            result.withLock { $0 = outcome }
        }
        return result
    }
}

/// The way out of the setup screen without a run.
private struct SetupExit: Error {
    let outcome: AppOutcome
    init(_ outcome: AppOutcome) { self.outcome = outcome }
}

/// What, besides keys, makes a new frame worth drawing.
private struct FrameToken: Equatable {
    let step: Int
    let state: TrainingSnapshot.State
    let eventSerial: Int
    let learningRateScale: Float
    let insightRequest: InsightRequest?
    let insightVersion: Int?
    let compressionSerial: Int
    let exportsFinished: Int
    let searchSerial: Int
    let watch: WatchStatus?
    let boardRequest: ExplanationRequest?
    let boardMaps: Int
    let boardProgress: ExplanationBoard.Progress?
    let sanityRequest: SanityRequest?
    let sanityPoints: Int
    let sanityProgress: Double?
    /// The A/B view's state: whether its comparison has finished, and which explanation pair it has.
    let comparison: String
    /// The time scrubber's cursor, mark, snapshots kept and evaluations finished.
    let time: String
    /// The synthesised grid's layer, channels done, percent and error.
    let visualization: String

    init(
        _ snapshot: TrainingSnapshot, _ insight: Insight?, compressionSerial: Int, exportsFinished: Int, searchSerial: Int,
        board: ExplanationBoard?, sanity: SanityCurve?, time: String, comparison: String, visualization: String
    ) {
        self.time = time
        self.comparison = comparison
        self.visualization = visualization
        self.searchSerial = searchSerial
        step = snapshot.globalStep
        state = snapshot.state
        eventSerial = snapshot.eventSerial
        learningRateScale = snapshot.learningRateScale
        insightRequest = insight?.request
        insightVersion = insight?.weightsVersion
        self.compressionSerial = compressionSerial
        self.exportsFinished = exportsFinished
        watch = snapshot.watch
        boardRequest = board?.request
        boardMaps = board?.entries.count ?? 0
        boardProgress = board?.progress
        sanityRequest = sanity?.request
        sanityPoints = sanity?.points.count ?? 0
        sanityProgress = sanity?.progress
    }
}
