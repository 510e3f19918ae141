import ArgumentParser
import ConvKit
import Foundation

/// `convscope bench`: training and inference throughput on random data.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure training (batch 128) and inference (batch 256) images/s on all cores.",
        discussion: """
            Same protocol as ../shared/bench/torch_reference.py: SGD-momentum steps on random CIFAR-shaped data, \
            3 warm-up steps, median of 3 runs of 20 steps. For OpenBLAS's best kernel on this machine, run with \
            OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (`make bench` does).
            """)

    @Option(name: .long, help: "Comma-separated presets or one spec string.")
    var model = "tiny,simple,resnet20,vgg"

    @Option(name: .long, help: "Timed steps per repeat.")
    var iterations = 20

    @Flag(name: .long, help: "Print one JSON object per model.")
    var json = false

    @Flag(name: .long, help: "Show milliseconds per training step spent in each layer's forward and backward pass.")
    var profile = false

    func validate() throws {
        for name in models { try validateModel(name) }
    }

    /// The presets named in `--model`, or the one spec string it holds.
    private var models: [String] {
        let pieces = model.split(separator: ",").map(String.init)
        return pieces.allSatisfy { piece in ModelSpec.presets.contains { $0.name == piece } } ? pieces : [model]
    }

    func run() throws {
        var benchmark = Benchmark()
        benchmark.iterations = iterations
        if !json && !profile {
            print("threads \(Parallel.workerCount), OpenBLAS kernel \(BLAS.coreName)")
            print("model".padding(toLength: 10, withPad: " ", startingAt: 0) + "  train img/s  infer img/s")
        }
        for name in models where profile {
            print("\(name): milliseconds per training step of \(benchmark.trainBatch) images")
            print("layer        forward  backward")
            let rows = try benchmark.profile(model: name)
            for row in rows {
                print(row.layer.padding(toLength: 10, withPad: " ", startingAt: 0) + String(format: "  %8.2f  %8.2f", row.forward, row.backward))
            }
            print(String(format: "total       %8.2f  %8.2f", rows.map(\.forward).reduce(0, +), rows.map(\.backward).reduce(0, +)))
        }
        for name in models where !profile {
            let result = try benchmark.run(model: name)
            if json {
                try printJSON([
                    "model": result.model, "threads": result.threads,
                    "train_images_per_s": (result.trainImagesPerSecond * 10).rounded() / 10,
                    "infer_images_per_s": (result.inferImagesPerSecond * 10).rounded() / 10,
                    "blas_core": result.blasCore,
                ])
            } else {
                let label = name.count > 10 ? String(name.prefix(9)) + "…" : name
                print(
                    label.padding(toLength: 10, withPad: " ", startingAt: 0)
                        + String(format: "  %11.1f  %11.1f", result.trainImagesPerSecond, result.inferImagesPerSecond))
            }
        }
    }
}
