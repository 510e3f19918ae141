import ArgumentParser
import ConvKit
import ConvPresent
import ConvScopeUI
import Foundation

/// `convscope watch DIR`: the app over a run directory that another process writes (docs/pytorch.md).
struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Follow a run another process trains (a run directory), in the app or once for scripts.",
        discussion: """
            DIR is a run directory (docs/run-directory.md) written by `convscope train --run-dir DIR` or by a PyTorch \
            script through python/convscope_torch (python/examples/train.py, also under torchrun). The app's curves \
            follow DIR/metrics.jsonl as it grows and every view works on the newest complete checkpoint; the header says \
            WATCHING and that checkpoint's step. Every checkpoint shown, and the run's earlier ones (or the weight history \
            beside the newest), become times of the time scrubber ([ ] \\ t), within --snapshot-budget. Pause, step, \
            learning rate and save are unavailable: another process trains the run. Files that are truncated or not \
            ConvScope's are skipped with a status-line message. \
            With --once nothing opens: the latest metrics are printed and the newest checkpoint is evaluated on the \
            test set. The images come from the data set the run names (SYNTHETIC or CIFAR-10), or from --data.
            """)

    @Argument(help: "The run directory.")
    var directory: String

    @Flag(name: .long, help: "Print the latest metrics, evaluate the newest checkpoint, and exit (no terminal needed).")
    var once = false

    @Flag(name: .long, help: "With --once: print JSON.")
    var json = false

    @OptionGroup var data: DataOptions
    @OptionGroup var snapshots: SnapshotBudgetOption

    @Option(name: .long, help: "Seconds between looks at the directory (0.05 to 60).")
    var interval = RunWatcher.defaultPollInterval

    @Option(name: .customLong("export-dir"), help: "Folder for exported PNGs (e and E) and compressed models (w); default the current folder.")
    var exportDir = "."

    func validate() throws {
        guard interval >= 0.05 && interval <= 60 else {
            throw ValidationError("--interval must be between 0.05 and 60 seconds, not \(interval)")
        }
        if json && !once { throw ValidationError("--json goes with --once (the app has no JSON output)") }
    }

    func run() throws {
        if !once {
            guard isatty(STDOUT_FILENO) != 0, isatty(STDIN_FILENO) != 0 else {
                printError("convscope: watch needs a terminal; use `convscope watch DIR --once` in scripts")
                throw ExitCode(1)
            }
        }
        var reader = try RunDirectory(path: directory)
        var issues = reader.poll().issues
        try requireRun(reader, issues: issues)
        let spec: String
        if let named = RunWatcher.spec(of: reader) {
            spec = named
        } else if once {
            throw RuntimeError("'\(directory)' holds no run yet: no \(RunLayout.manifestFile) with a model and no checkpoint")
        } else {
            printError("convscope: waiting for a run in '\(directory)' (its \(RunLayout.manifestFile) or a checkpoint); Ctrl-C stops")
            spec = try waitForModel(&reader, issues: &issues)
        }
        let network: Network
        do {
            let plan = try ModelPlan(spec: try ModelSpec(spec))
            // Sized before it is built: run.json can name a model larger than this machine runs.
            try MemoryEstimate(plan: plan).require(.inference(batch: 1), source: directory)
            network = Network(plan: plan)
        } catch let error as MemoryLimitError {
            throw error
        } catch {
            throw RuntimeError("'\(directory)' names a model that does not build here: \(error)")
        }
        let dataset = try loadDataset(for: reader, classes: network.classCount)
        if once {
            // Nothing scrubs: no times are kept.
            try report(RunWatcher(directory: reader, issues: issues, dataset: dataset, network: network, snapshotBudget: 0, startPolling: false))
            return
        }
        let watcher = RunWatcher(
            directory: reader, issues: issues, dataset: dataset, network: network, pollInterval: interval,
            snapshotBudget: snapshots.budgetBytes ?? SnapshotCadence.defaultBudget)
        let app = try TerminalApp(
            options: AppOptions(checkpointPath: "/dev/null", startPaused: true, exportDirectory: exportDir))
        if case let .interrupted(signal, _) = app.run(.watching(watcher, dataset: dataset)) {
            printError("convscope: stopped by signal \(signal)")
            throw ExitCode(128 + signal)
        }
    }

    /// Polls the directory until it names its model, refusing it as soon as it turns out not to be a run.
    private func waitForModel(_ reader: inout RunDirectory, issues: inout [RunDirectoryIssue]) throws -> String {
        while true {
            Thread.sleep(forTimeInterval: interval)
            issues += reader.poll().issues
            try requireRun(reader, issues: issues)
            if let spec = RunWatcher.spec(of: reader) { return spec }
        }
    }

    /// Refuses a directory that is not a run directory: a `run.json` that is not ours, or a folder with
    /// files but neither `run.json` nor `checkpoints/`. An empty folder is a run about to start.
    private func requireRun(_ reader: RunDirectory, issues: [RunDirectoryIssue]) throws {
        if reader.manifest == nil, let problem = issues.first(where: { $0.file == RunLayout.manifestFile }) {
            throw RuntimeError("'\(directory)' is not a ConvScope run directory: \(RunDirectoryIssueText.line(problem))")
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let own: Set<String> = [RunLayout.manifestFile, RunLayout.metricsFile, RunLayout.checkpointsFolder]
        if reader.manifest == nil, !names.contains(where: own.contains), names.contains(where: { !$0.hasPrefix(".") }) {
            throw RuntimeError(
                "'\(directory)' is not a run directory: it has no \(RunLayout.manifestFile), \(RunLayout.metricsFile) or \(RunLayout.checkpointsFolder)/ (see docs/run-directory.md)")
        }
    }

    /// The images to show: --data, else the data set the run names (its checkpoint's, else run.json's).
    private func loadDataset(for reader: RunDirectory, classes: Int) throws -> Dataset {
        let recorded = reader.latestCheckpoint?.metadata[RunCheckpoint.datasetKey] ?? reader.manifest?.dataset
        let dataset: Dataset
        if data.data == nil, recorded == DataSource.synthetic(seed: 0).displayName {
            // The writers draw the synthetic set from seed 0 (python/convscope_torch, `--data synthetic`).
            dataset = try Dataset.load(.synthetic(seed: 0), trainLimit: 2_048)
        } else {
            dataset = try Dataset.load(DataLocator().locate(explicit: data.data), trainLimit: 2_048)
        }
        if let recorded, recorded != dataset.displayName {
            printError("warning: the run trains on \(recorded) but its images are shown from \(dataset.displayName)")
        }
        guard dataset.classCount == classes else {
            throw RuntimeError("the run's model has \(classes) classes but \(dataset.displayName) has \(dataset.classCount): pass --data")
        }
        return dataset
    }

    /// `--once`: one poll, the newest checkpoint loaded and evaluated, printed.
    private func report(_ watcher: RunWatcher) throws {
        watcher.pollNow()
        watcher.waitForEvaluation()
        let snapshot = watcher.snapshot
        watcher.stop()
        let problems = watcher.latestProblems.map(RunWatchProblemText.line)
        let watch = snapshot.watch ?? WatchStatus(directory: directory)
        let steps = snapshot.history.steps, epochs = snapshot.history.epochs
        let evaluation = snapshot.lastEvaluation
        if json {
            var object: [String: Any] = [
                "directory": directory, "model": snapshot.modelSpec, "dataset": snapshot.datasetName,
                "train_lines": steps.count, "eval_lines": epochs.count, "step": snapshot.globalStep,
                "checkpoints": watch.checkpointCount, "skipped": problems,
            ]
            if let writer = watch.writer { object["writer"] = writer }
            if let last = steps.last {
                object["latest_train"] = [
                    "step": last.step, "loss": MetricsRecord.value(last.loss), "accuracy": MetricsRecord.value(last.accuracy),
                    "lr": MetricsRecord.value(last.learningRate),
                ]
            }
            if let last = epochs.last {
                object["latest_eval"] = [
                    "epoch": last.epoch, "test_loss": MetricsRecord.value(last.testLoss), "test_accuracy": MetricsRecord.value(last.testAccuracy),
                    "loss": MetricsRecord.value(last.trainLoss), "accuracy": MetricsRecord.value(last.trainAccuracy),
                ]
            }
            if let name = watch.checkpointName, let step = watch.checkpointStep {
                var checkpoint: [String: Any] = ["name": name, "step": step, "epoch": watch.checkpointEpoch ?? 0]
                if let evaluation {
                    checkpoint["accuracy"] = MetricsRecord.value(evaluation.accuracy)
                    checkpoint["loss"] = MetricsRecord.value(evaluation.loss)
                    checkpoint["images"] = evaluation.confusion.reduce(0) { $0 + $1.reduce(0, +) }
                }
                object["checkpoint"] = checkpoint
            }
            try printJSON(object)
        } else {
            for problem in problems { printError("warning: skipped \(problem)") }
            let tag = snapshot.isSynthetic ? " [SYNTHETIC]" : ""
            print("run \(directory): \(watch.writer ?? "unknown writer"), model \(snapshot.modelSpec), \(snapshot.datasetName)\(tag)")
            if let last = steps.last {
                print(
                    String(
                        format: "metrics: %d train and %d eval lines; step %d: loss %.4f  accuracy %.2f%%  lr %.4g", steps.count,
                        epochs.count, last.step, last.loss, last.accuracy * 100, last.learningRate))
            } else {
                print("metrics: none yet")
            }
            if let last = epochs.last {
                print(String(format: "epoch %d: test loss %.4f  test accuracy %.2f%%", last.epoch, last.testLoss, last.testAccuracy * 100))
            }
            if let name = watch.checkpointName, let step = watch.checkpointStep {
                let result =
                    evaluation.map {
                        String(
                            format: "test accuracy %.2f%%  loss %.4f  on %d %@ images", $0.accuracy * 100, $0.loss,
                            $0.confusion.reduce(0) { $0 + $1.reduce(0, +) }, snapshot.datasetName)
                    } ?? "not evaluated"
                print("checkpoint \(RunLayout.checkpointsFolder)/\(name) (step \(step)): \(result)")
            } else {
                print("checkpoint: none that loads (\(watch.checkpointCount) found)")
            }
        }
    }
}
