import ConvKit
import Foundation
import TestSupport
import XCTest

/// `--precision` as a user meets it: refused in one line where the machine cannot run bf16, and a bf16 run
/// and benchmark where it can (or with the emulation chosen explicitly).
final class PrecisionCommandTests: XCTestCase {
    /// The environment that runs bf16 here: the instructions when the CPU has them, else the emulation.
    private var bf16Environment: [String: String] {
        KernelPath.cpuHasBF16 && KernelPath.active == .avx512 ? [:] : [Precision.emulationVariable: "emulate"]
    }

    func testBF16IsRefusedInOneLineOffTheAVX512Path() throws {
        for command in [["train", "--data", "synthetic", "--model", "tiny", "--epochs", "1"], ["bench", "--model", "tiny"]] {
            let run = try Convscope.run(command + ["--precision", "bf16"], environment: ["CONVSCOPE_KERNELS": "avx2"])
            XCTAssertEqual(run.status, 1, "\(command[0]): \(run.stderr)")
            XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, "one line: \(run.stderr)")
            XCTAssertTrue(run.stderr.contains("--precision bf16") && run.stderr.contains("avx512"), run.stderr)
        }
        let unknown = try Convscope.run(["train", "--precision", "fp16", "--data", "synthetic"])
        XCTAssertEqual(unknown.status, 2, unknown.stderr)
        XCTAssertTrue(unknown.stderr.contains("fp16"), unknown.stderr)
    }

    func testBF16TrainsAndBenchmarks() throws {
        try TemporaryFolder.with("precision") { folder in
            let checkpoint = folder.path("bf16.safetensors")
            let train = try Convscope.run(
                [
                    "train", "--data", "synthetic", "--model", "tiny", "--epochs", "1", "--batch", "64", "--train-limit", "640",
                    "--precision", "bf16", "--checkpoint", checkpoint,
                ], environment: bf16Environment)
            XCTAssertEqual(train.status, 0, train.stderr)
            XCTAssertTrue(train.stderr.contains("bf16 products"), "the run's header says so: \(train.stderr.prefix(400))")
            // The engine line says how the products run here, so an emulated run is never taken for the instructions.
            let products = bf16Environment.isEmpty ? "products bf16\n" : "products bf16 (emulated)\n"
            XCTAssertTrue(train.stderr.contains(products), "the engine line names '\(products)': \(train.stderr.prefix(600))")
            // The checkpoint keeps the precision, so --resume continues in bf16.
            let metadata = try SafeTensors(contentsOf: checkpoint).metadata
            XCTAssertTrue(metadata.values.contains { $0.contains("\"precision\":\"bf16\"") }, "\(metadata.keys)")

            let bench = try Convscope.run(
                ["bench", "--model", "tiny", "--iterations", "2", "--json", "--precision", "bf16"], environment: bf16Environment)
            XCTAssertEqual(bench.status, 0, bench.stderr)
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(bench.stdout.utf8)) as? [String: Any])
            XCTAssertEqual(object["precision"] as? String, "bf16")
            XCTAssertGreaterThan(object["train_images_per_s"] as? Double ?? 0, 0)
        }
    }
}
