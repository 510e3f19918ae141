import ArgumentParser
import ConvKit
import ConvPresent
import ConvScopeUI
import Foundation

/// `convscope lr-find`: Smith's learning-rate range test on a fresh model (or a checkpoint's copy).
struct LRFindCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lr-find",
        abstract: "Find a learning rate: train a few hundred steps with the rate growing geometrically, print loss against rate.",
        discussion: """
            Smith's range test, as fastai runs it: the rate grows from --start to --end over --steps steps (constant \
            between steps, the run's optimiser, batch and augmentation), the loss is smoothed, and the test stops once \
            the smoothed loss passes 4x its best. The suggested rate is a tenth of the rate at the lowest smoothed loss: \
            use it as --lr (the peak of the one-cycle schedule). Nothing is saved. See docs/timeline.md.
            """)

    @OptionGroup var data: DataOptions
    @OptionGroup var training: TrainingOptions

    @Option(name: .long, help: "A checkpoint whose weights to start from (a copy; the file is not changed).")
    var checkpoint: String?

    @Option(name: .long, help: "The first rate.")
    var start: Float = 1e-6

    @Option(name: .long, help: "The last rate.")
    var end: Float = 10

    @Option(name: .long, help: "Steps of the test.")
    var steps = 100

    @Flag(name: .long, help: "Print JSON: the curve (rate, loss, smoothed loss) and the suggested rate.")
    var json = false

    func validate() throws {
        guard start > 0, start.isFinite else { throw ValidationError("--start \(start): expected a rate above 0") }
        guard end > start, end.isFinite else { throw ValidationError("--end \(end): expected a rate above --start \(start)") }
        guard (3...100_000).contains(steps) else { throw ValidationError("--steps \(steps): expected 3 to 100000 steps") }
    }

    func run() throws {
        let dataset = try data.load(trainLimit: training.trainLimit, quiet: json)
        let config = training.config
        let network: Network
        if let checkpoint {
            network = try RunCheckpoint.load(checkpoint).network
        } else {
            network = try Trainer(config: config, dataset: dataset).network
        }
        try requireMemory(network.spec.text, for: .training(batch: config.batchSize, optimizer: config.optimizer.update.kind))
        let finder = LearningRateFinder(start: start, end: end, steps: steps)
        let bar = ProgressBar()
        var done = 0
        let result = finder.run(config: config, dataset: dataset, network: network) { point in
            done += 1
            if !json {
                bar.update(prefix: "lr-find", done: done, total: steps, suffix: String(format: "rate %.3g  loss %.4f", point.rate, point.loss))
            }
            return true
        }
        bar.finish()
        if json {
            return try printJSON([
                "model": network.spec.text, "start": Double(start), "end": Double(end), "steps": steps,
                "points": result.points.map { ["lr": Double($0.rate), "loss": Double($0.loss), "smoothed_loss": Double($0.smoothedLoss)] },
                "suggested_lr": result.suggestedRate.map { Double($0) } ?? NSNull(),
                "steepest_lr": result.steepestRate.map { Double($0) } ?? NSNull(), "stopped_early": result.stoppedEarly,
            ])
        }
        print(LearningRateChart.text(result, width: 72, height: 14))
        print(LearningRateText.summary(result))
    }
}
