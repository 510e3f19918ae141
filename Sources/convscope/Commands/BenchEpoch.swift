import ArgumentParser
import ConvKit
import Foundation

/// `convscope bench --epoch [--compare]`: whole training epochs, as the user sees them.
extension BenchCommand {
    /// For each model: the steps alone on random data (`Benchmark`), then one epoch of the default recipe
    /// on CIFAR-10 (`EpochBenchmark`), and with `--compare` one epoch of PyTorch's `train_reference.py`.
    func measureEpochs(_ benchmark: Benchmark) throws {
        let dataset = try data.load(trainLimit: trainLimit)
        if compare, case .synthetic = dataset.source {
            throw ValidationError("--epoch --compare needs CIFAR-10 (the PyTorch script reads its files), not the synthetic set")
        }
        print("threads \(Parallel.workerCount), kernels \(KernelPath.active), OpenBLAS kernel \(BLAS.coreDescription), training batch \(batch), products \(benchmark.arithmetic)")
        print("one epoch of the default recipe on \(dataset.displayName): \(dataset.train.count / batch) steps of \(batch) images, then the \(dataset.test.count)-image test evaluation")
        print(
            "model       bench img/s  epoch img/s  of bench  epoch s  test s   CPU%"
                + (compare ? "  torch epoch s  ratio" : ""))
        for name in models {
            let steps = try benchmark.run(model: name)
            var config = TrainingConfig(model: name, epochs: 1, batchSize: batch)
            config.precision = precision
            let ours = try EpochBenchmark().run(config: config, dataset: dataset)
            var line =
                name.padding(toLength: 10, withPad: " ", startingAt: 0)
                + String(
                    format: "  %11.1f  %11.1f  %7.1f%%  %7.1f  %6.1f  %5.0f%%", steps.trainImagesPerSecond,
                    ours.stepImagesPerSecond, 100 * ours.stepImagesPerSecond / steps.trainImagesPerSecond, ours.wallSeconds,
                    ours.evaluationSeconds, ours.cpuPercent)
            if compare, case .cifar10(let directory) = dataset.source {
                let torchSeconds = try runTrainReference(name, data: directory)
                line += String(format: "  %13.1f  %4.2fx", torchSeconds, torchSeconds / ours.wallSeconds)
            }
            print(line)
        }
    }

    /// Runs one epoch of ../shared/bench/train_reference.py (training and test evaluation) and returns its seconds.
    private func runTrainReference(_ name: String, data directory: String) throws -> Double {
        let run = try runPython([trainReference, directory, name, "1", "0.1", String(batch)])
        if let seconds = run.objects.first(where: { ($0["epoch"] as? Int) == 1 })?["elapsed_s"] as? Double { return seconds }
        throw RuntimeError(
            "the PyTorch training reference \(trainReference) printed no epoch (exit \(run.status)); is torch installed for \(python)?")
    }
}
