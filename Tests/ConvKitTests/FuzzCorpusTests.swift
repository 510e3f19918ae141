import Foundation
import TestSupport
import XCTest
@testable import ConvKit

/// The fuzz harnesses' seed corpora (`Fuzz/corpus/<harness>`): generated here from the real writers, and
/// checked to still be inputs the parsers accept, so that seeds follow the formats as they change.
///
/// `CONVSCOPE_WRITE_FUZZ_SEEDS=1 swift test -c release --filter FuzzCorpusTests` rewrites the generated
/// seeds (`seed-*`); files named `regress-*` are inputs the fuzzers once broke the parsers with, each
/// with a unit test of its own, and are left alone. PNG seeds (from `Fuzz/png_seeds.py`) are ConvRender's `PNGLimitTests`.
final class FuzzCorpusTests: XCTestCase {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/corpus").path

    /// The model the safetensors harness loads files into (`SafeTensorsHarness.smallSpec`).
    static let smallSpec = "conv4,bn,relu,gap,fc10"

    static func seeds() throws -> [String: [String: [UInt8]]] {
        let network = try Network(spec: ModelSpec(smallSpec), seed: 1)
        var config = TrainingConfig(model: smallSpec)
        config.epochs = 3
        let fast = TrainingConfig.airbench(model: nil, epochs: nil, batchSize: nil, learningRate: nil, seed: 18_446_744_073_709_551_615)
        let epochs: [TrainingHistory.Epoch] = (1...2).map { (e: Int) -> TrainingHistory.Epoch in
            let scale = Float(e)
            return TrainingHistory.Epoch(
                epoch: e, trainLoss: 2.1 / scale, trainAccuracy: 0.25 * scale, testLoss: 1.9 / scale, testAccuracy: 0.3 * scale,
                learningRate: 0.05, seconds: 12.5, elapsedSeconds: 12.5 * Double(e), imagesPerSecond: 4000)
        }
        let configText = try config.jsonText(), fastText = try fast.jsonText()
        let metricsText = RunCheckpoint.json(epochs.map { $0.jsonObject })
        let classesText = RunCheckpoint.json(Dataset.classNames)
        let progressText = RunCheckpoint.json(["step": 7, "loss_sum": 14.5, "correct": 300, "seen": 896, "seconds": 1.25])
        let metadata = [
            RunCheckpoint.epochKey: "2", RunCheckpoint.stepKey: "782", RunCheckpoint.datasetKey: "CIFAR-10",
            RunCheckpoint.classesKey: classesText, RunCheckpoint.configKey: configText, RunCheckpoint.metricsKey: metricsText,
            RunCheckpoint.progressKey: progressText,
        ]
        let checkpoint = RunCheckpoint.safeTensors(network: network, metadata: metadata)
        let mixed = SafeTensors(
            tensors: [
                .init(name: "f", shape: [2, 2], floats: [1, -0.5, .infinity, 0]), .init(name: "i64", shape: [], int64s: [-3]),
                .init(name: "i32", shape: [3], int32s: [1, 2, 3]), .init(name: "i8", shape: [2], int8s: [-128, 127]),
                .init(name: "u8", shape: [1, 0], uint8s: []),
            ],
            metadata: ["note": "é\u{0}\"\\"])
        func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
        var records: [UInt8] = []
        for label in [UInt8(3), 9] { records.append(label); records += (0..<ImageSet.bytesPerImage).map { UInt8(truncatingIfNeeded: $0 * 7 + Int(label)) } }
        let header = checkpoint.data().dropFirst(8).prefix { $0 != 0 }

        return [
            "safetensors": [
                "seed-checkpoint": [UInt8](checkpoint.data()), "seed-dtypes": [UInt8](mixed.data()),
                "seed-empty": [UInt8](SafeTensors().data()),
            ],
            "metadata": [
                "seed-config": bytes(configText), "seed-config-fast": bytes(fastText),
                "seed-config-v1": bytes(TrainingConfigTests.version1Tiny), "seed-progress": bytes(progressText),
                "seed-classes": bytes(classesText), "seed-epoch": bytes("12"), "seed-spec": bytes(smallSpec),
            ],
            "metrics": [
                "seed-metrics": bytes(metricsText),
                "seed-jsonl": bytes(epochs.map { RunCheckpoint.json($0.jsonObject) }.joined(separator: "\n") + "\n"),
            ],
            "spec": Dictionary(uniqueKeysWithValues: ModelSpec.presets.map { ("seed-\($0.name)", bytes($0.spec)) }
                + [("seed-every-token", bytes("conv8k5s2p1,bn,leakyrelu0.2,elu0.5,selu,swish,gelu,sigmoid,tanh,maxpool3s1,avgpool,dropout2d0.1,res8s2m4,flatten,dropout,fc10"))]),
            "cifar10": ["seed-two-records": records],
            "json": [
                "seed-header": Array(header),
                "seed-values": bytes(#"{"a":[1,-2.5e-3,0,true,false,null,"\u00e9\ud83d\ude00\n"],"b":{}}"#),
            ],
        ]
    }

    func testSeedCorporaAreAcceptedByTheirParsers() throws {
        let seeds = try Self.seeds()
        if ProcessInfo.processInfo.environment["CONVSCOPE_WRITE_FUZZ_SEEDS"] == "1" {
            for (harness, files) in seeds {
                let directory = Self.corpus + "/" + harness
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                for (name, bytes) in files { try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + name)) }
            }
        }
        func committed(_ harness: String) throws -> [(String, [UInt8])] {
            let directory = Self.corpus + "/" + harness
            let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("seed-") }.sorted()
            XCTAssertFalse(names.isEmpty, "no seeds in \(directory)")
            return try names.map { ($0, try FileBytes.read(directory + "/" + $0)) }
        }
        for harness in seeds.keys {
            XCTAssertEqual(
                Set(try committed(harness).map(\.0)), Set(seeds[harness]!.keys),
                "\(harness): the committed seeds differ from the generated ones; rerun with CONVSCOPE_WRITE_FUZZ_SEEDS=1")
        }

        for (name, bytes) in try committed("safetensors") { XCTAssertNoThrow(try SafeTensors(bytes: bytes), name) }
        let file = try SafeTensors(bytes: try FileBytes.read(Self.corpus + "/safetensors/seed-checkpoint"))
        XCTAssertEqual(try RunCheckpoint.load(file, path: "seed").network.spec.text, Self.smallSpec)
        for (name, bytes) in try committed("spec") { XCTAssertNoThrow(try Network(String(decoding: bytes, as: UTF8.self)), name) }
        for (name, bytes) in try committed("json") {
            XCTAssertNoThrow(try bytes.withUnsafeBufferPointer { (b) throws(JSONError) in try JSONValue.parse(b) }, name)
        }
        let metadata = Dictionary(uniqueKeysWithValues: try committed("metadata").map { ($0.0, String(decoding: $0.1, as: UTF8.self)) })
        XCTAssertNotNil(RunCheckpoint.config(in: [RunCheckpoint.configKey: metadata["seed-config"]!], model: Self.smallSpec))
        XCTAssertNotNil(RunCheckpoint.config(in: [RunCheckpoint.configKey: metadata["seed-config-fast"]!], model: "airbench"))
        XCTAssertNotNil(RunCheckpoint.config(in: [RunCheckpoint.configKey: metadata["seed-config-v1"]!], model: "tiny"))
        XCTAssertNotNil(RunCheckpoint.epochProgress(in: [RunCheckpoint.progressKey: metadata["seed-progress"]!], stepsPerEpoch: 391))
        XCTAssertNotNil(RunCheckpoint.classNames(in: [RunCheckpoint.classesKey: metadata["seed-classes"]!], count: 10))
        let metrics = try committed("metrics").first { $0.0 == "seed-metrics" }!.1
        XCTAssertEqual(RunCheckpoint.history(in: [RunCheckpoint.metricsKey: String(decoding: metrics, as: UTF8.self)]).epochs.count, 2)

        let directory = try makeTemporaryDirectory(self)
        for (name, bytes) in try committed("cifar10") {
            try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + name))
            XCTAssertEqual(try CIFAR10Loader.loadFile(directory + "/" + name).count, bytes.count / CIFAR10Loader.recordSize)
        }
    }
}
