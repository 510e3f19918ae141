import ArgumentParser
import ConvKit
import ConvPresent
import ConvScopeUI
import Foundation

/// `convscope [tui]`: the terminal app. Trains at once and shows it live; with an existing
/// `--checkpoint` opens that run paused for exploring.
struct TUICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tui",
        abstract: "Watch a network learn in the terminal (the default command).",
        discussion: """
            Starts training at once with the options of `convscope train` and shows the curves, the layers, feature \
            maps, filters, Grad-CAM and the confusion matrix live; ? lists the keys. With --checkpoint FILE that \
            exists, the run saved there opens paused for exploring (space resumes its training); otherwise FILE is \
            where s saves. When the planned epochs end the app stays open. Without CIFAR-10 on disk (and no --data), \
            the first screen offers to download it or to use the synthetic set.
            """)

    @OptionGroup var data: DataOptions
    @OptionGroup var training: TrainingOptions
    @OptionGroup var snapshots: SnapshotOptions

    @Option(name: .long, help: "A run to open paused (when the file exists) and where s saves; default <model>.safetensors.")
    var checkpoint: String?

    @Option(name: .long, help: "A second checkpoint to compare the opened --checkpoint with (the A/B view, D).")
    var compare: String?

    @Option(name: .customLong("export-dir"), help: "Folder for exported PNGs (e and E) and compressed models (w); default the current folder.")
    var exportDir = "."

    func run() throws {
        guard isatty(STDOUT_FILENO) != 0, isatty(STDIN_FILENO) != 0 else {
            printError("convscope: the TUI needs a terminal; use `convscope train` for headless runs")
            throw ExitCode(1)
        }
        let checkpointPath = checkpoint ?? defaultCheckpointName(training.modelName)
        let resume = checkpoint != nil && FileManager.default.fileExists(atPath: checkpointPath)
        if compare != nil && !resume {
            throw ValidationError("--compare B needs --checkpoint A, an existing checkpoint to compare it with")
        }
        // B is read (and refused in one line when it cannot be compared) before the terminal is taken over.
        let compared = try compare.map { path in (name: path, model: try Classifier.load(path).classifier) }
        let makeTrainer = { (dataset: Dataset) throws -> Trainer in
            let trainer = resume
                ? try RunCheckpoint.resume(checkpointPath, dataset: dataset, epochs: training.epochs)
                : try Trainer(config: training.config, dataset: dataset)
            snapshots.apply(to: trainer)
            try requireMemory(trainer)
            return trainer
        }
        let start: AppStart
        do {
            let trainer = try makeTrainer(try data.load(trainLimit: training.trainLimit))
            if let compared {
                do {
                    _ = try CheckpointComparison.compareWeights(.float(trainer.network), compared.model)
                } catch let error as CheckpointComparisonError {
                    throw RuntimeError("\(checkpointPath) (A) and \(compared.name) (B): \(error)")
                }
            }
            start = .ready(trainer)
        } catch DataError.notFound(let tried) where data.data == nil && compare == nil {
            let locator = DataLocator()
            start = .setup(
                SetupModel(placesTried: tried, downloadDirectory: locator.cacheDirectory),
                downloader: DatasetDownloader(cacheDirectory: locator.cacheDirectory), syntheticSeed: training.seed,
                makeTrainer: makeTrainer)
        }
        let app = try TerminalApp(options: AppOptions(checkpointPath: checkpointPath, startPaused: resume, exportDirectory: exportDir))
        switch app.run(start, compared: compared) {
        case .quit(let unsaved):
            if unsaved > 0 { printError("convscope: quit with \(unsavedStepsText(unsaved))") }
        case let .interrupted(signal, unsaved):
            printError("convscope: stopped by signal \(signal)" + (unsaved > 0 ? "; \(unsavedStepsText(unsaved)) lost" : ""))
            throw ExitCode(128 + signal)
        }
    }
}
