import ArgumentParser
import ConvKit
import Foundation

/// `convscope quantize`: post-training int8 quantisation with calibrated activation scales.
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Quantise a trained model to int8 (per-channel weights, calibrated activations) and compare it.",
        discussion: """
            Batch norm is folded into the convolution before it; weights become int8 per output channel, and each \
            conv/fc input is scaled by the largest magnitude it reaches on --calibration training images. The int8 \
            path multiplies in integers (AVX2 when the CPU has it). `convscope eval --checkpoint OUT` evaluates the \
            result.
            """)

    @Option(name: .long, help: "The trained .safetensors checkpoint.")
    var checkpoint: String

    @Option(name: .long, help: "Where to write the int8 checkpoint.")
    var out: String

    @Option(name: .long, help: "Training images used to calibrate activation scales.")
    var calibration = 512

    @OptionGroup var data: DataOptions

    func validate() throws {
        guard calibration >= 1 else { throw ValidationError("--calibration must be at least 1") }
    }

    func run() throws {
        let loaded = try RunCheckpoint.load(checkpoint)
        try requireMemory(loaded.network, for: .inference(batch: Benchmark().inferBatch), checkpoint: checkpoint)
        let dataset = try data.load()
        let batches = QuantizedNetwork.calibrationBatches(dataset.train, count: calibration)
        let quantized = QuantizedNetwork.quantize(loaded.network, calibration: batches)
        var metadata = loaded.metadata
        metadata["calibration_images"] = String(batches.map(\.batch).reduce(0, +))
        try quantized.save(to: out, metadata: metadata)
        let before = ModelReport.measure("float32", .float(loaded.network), file: checkpoint, testSet: dataset.test)
        let after = ModelReport.measure("int8", .int8(quantized), file: out, testSet: dataset.test)
        printReport([before, after], dataset: dataset)
        print(String(format: "accuracy change %+.2f points; int8 kernel: %@", (after.accuracy - before.accuracy) * 100,
                     QuantizedNetwork.kernelDescription))
        print("wrote \(out)")
    }
}
