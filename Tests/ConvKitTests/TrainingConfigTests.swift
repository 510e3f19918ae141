import Foundation
import XCTest

@testable import ConvKit

/// The training config as data: every recipe survives a checkpoint's JSON unchanged, a text of another
/// version or with a number its field cannot hold is refused, `validate()` names the setting at fault,
/// and checkpoints written before the config became `Codable` (version 1) still load and resume.
final class TrainingConfigTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/config-v1")

    /// Every recipe, and a standard run with every section changed, reads back equal.
    func testEveryRecipeReadsBackEqual() throws {
        var custom = Recipe.standard.configuration(model: "tiny", epochs: 3, batchSize: 32, learningRate: 0.05, seed: .max, optimizer: .adamw)
        custom.trainLimit = 500
        custom.schedule.learningRate = .step(epochs: 2, gamma: 0.5)
        custom.augmentation = .strong
        custom.initialization.initializer = .normal(std: 0.05)
        custom.loss.labelSmoothing = 0.05
        for config in Recipe.allCases.map({ $0.configuration(seed: 7) }) + [custom] {
            try config.validate()
            let text = try config.jsonText()
            XCTAssertEqual(try TrainingConfig(jsonText: text), config, text)
            XCTAssertTrue(text.contains(#""version":2"#), text)
        }
        // Floats read back exactly: the shortest text of a Float is that Float again.
        var random = RandomSource(seed: 5, stream: 0)
        for _ in 0..<2000 {
            var config = TrainingConfig()
            config.learningRate = Float(bitPattern: UInt32(truncatingIfNeeded: random.next()) & 0x3FFF_FFFF | 0x0080_0000)
            XCTAssertEqual(try TrainingConfig(jsonText: config.jsonText()).learningRate.bitPattern, config.learningRate.bitPattern)
        }
    }

    /// A version-2 text whose numbers its fields cannot hold, of another version, or that `validate()`
    /// refuses, does not read (and says why), rather than train on a default or on infinity.
    func testUnreadableTextsAreRefused() throws {
        let good = try TrainingConfig.airbench(model: "tiny").jsonText()
        func with(_ path: [String], _ value: String) throws -> String {
            func replace(_ object: Any, _ path: ArraySlice<String>) -> Any {
                guard var dictionary = object as? [String: Any], let key = path.first else { return object }
                dictionary[key] =
                    path.count == 1
                    ? try! JSONSerialization.jsonObject(with: Data(value.utf8), options: .fragmentsAllowed)
                    : replace(dictionary[key] as Any, path.dropFirst())
                return dictionary
            }
            let object = replace(try JSONSerialization.jsonObject(with: Data(good.utf8)), path[...])
            return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }
        for (path, value) in [
            (["version"], "3"), (["version"], "1"), (["epochs"], "1e300"), (["epochs"], "0"), (["epochs"], "2.5"), (["batch_size"], "0"),
            (["seed"], "-1"), (["seed"], "0.5"), (["train_limit"], "0"), (["augmentation", "crop_padding"], "1000000000"),
            (["schedule", "whitening_bias_epochs"], "-3"), (["optimizer", "learning_rate"], "1e39"), (["optimizer", "learning_rate"], "0"),
            (["optimizer", "update", "momentum"], "-1e300"), (["loss", "label_smoothing"], "null"), (["loss", "label_smoothing"], "1"),
            (["optimizer", "update", "weight_decay"], #""0.1""#), (["optimizer", "update", "kind"], #""lion""#),
            (["schedule", "learning_rate"], #""step:5:nan""#), (["initialization", "initializer"], #""normal(-1)""#),
            (["speed_run"], "null"), (["speed_run", "batch_norm_momentum"], "0"),
        ] {
            let text = try with(path, value)
            XCTAssertThrowsError(try TrainingConfig(jsonText: text), "\(path): \(value)")
            XCTAssertNil(RunCheckpoint.config(in: [RunCheckpoint.configKey: text], model: "tiny"), "\(path): \(value)")
        }
        XCTAssertThrowsError(try TrainingConfig(jsonText: try with(["version"], "3"))) { error in
            XCTAssertEqual("\(error)", "training config is format version 3, where this ConvScope reads 2")
        }
        XCTAssertEqual(try TrainingConfig(jsonText: try with(["seed"], "18446744073709551615")).seed, .max)
    }

    func testValidateNamesTheSettingAtFault() {
        func refusal(_ change: (inout TrainingConfig) -> Void) -> TrainingConfigError? {
            var config = TrainingConfig(model: "tiny")
            change(&config)
            do {
                try config.validate()
                return nil
            } catch {
                return error
            }
        }
        XCTAssertNil(refusal { _ in })
        XCTAssertEqual(refusal { $0.epochs = 0 }, TrainingConfigError(setting: .epochs, problem: "must be at least 1, not 0"))
        XCTAssertEqual(refusal { $0.batchSize = -2 }?.setting, .batchSize)
        XCTAssertEqual(refusal { $0.learningRate = .nan }?.setting, .learningRate)
        XCTAssertEqual(refusal { $0.loss.labelSmoothing = 1 }?.setting, .labelSmoothing)
        XCTAssertEqual(refusal { $0.augmentation.rotation = true; $0.augmentation.maxRotationDegrees = 200 }?.setting, .rotation)
        XCTAssertEqual(refusal { $0.augmentation.colorJitter = true; $0.augmentation.brightness = -0.1 }?.setting, .colorJitter)
        XCTAssertEqual(refusal { $0.trainLimit = 0 }?.setting, .trainLimit)
        XCTAssertEqual(refusal { $0.optimizer.groups.classifierRateScale = 0 }?.setting, .parameterGroups)
        let model = refusal { $0.model = "conv8,fc10,conv8" }
        XCTAssertEqual(model?.setting, .model)
        XCTAssertTrue(model?.problem.contains("conv8") ?? false, "\(String(describing: model))")
        // A fresh run validates its config first: the app and the command line get the same refusal.
        XCTAssertThrowsError(try Trainer(config: TrainingConfig(model: "tiny", epochs: 0), dataset: SyntheticDataset.generate(seed: 1, trainCount: 8, testCount: 8))) {
            XCTAssertEqual(($0 as? TrainingConfigError)?.setting, .epochs)
        }
    }

    // MARK: - Version-1 checkpoints

    /// The committed checkpoints, written by `convscope` before the config became `Codable` (commit
    /// c198ec7, when today's `--recipe airbench` was called `fast`), each one epoch of a run on the
    /// synthetic shapes:
    ///
    ///     convscope train --data synthetic --recipe fast --model conv8,bn,relu,maxpool,gap,fc10 --epochs 1 --batch 32 --train-limit 64 --seed 11
    ///     convscope train --data synthetic --recipe quick (the same model, epochs, batch and limit) --seed 13
    ///     convscope train --data synthetic (the same) --seed 11 --optimizer adamw --schedule cosine --rotate 10 --color-jitter 0.2 --initializer normal:0.05
    static let model = "conv8,bn,relu,maxpool,gap,fc10"

    /// `TrainingConfig(model: "tiny")` as version 1 wrote it.
    static let version1Tiny = #"{"batch":128,"color_jitter":0,"crop":true,"crop_padding":4,"epochs":15,"flip":true,"label_smoothing":0.10000000149011612,"lookahead":false,"lr":0.10000000149011612,"model":"tiny","momentum":0.8999999761581421,"nesterov":true,"optimizer":"sgd","rotation":0,"schedule":"onecycle:0.15","seed":0,"test_time_augmentation":"none","weight_decay":0.0005000000237487257,"whitening":false}"#

    static var version1Configs: [(file: String, config: TrainingConfig)] {
        var fast = TrainingConfig.airbench(model: model, epochs: 1, batchSize: 32, seed: 11)
        fast.trainLimit = 64
        var quick = TrainingConfig.quick(model: model, epochs: 1, batchSize: 32, seed: 13)
        quick.trainLimit = 64
        var standard = Recipe.standard.configuration(model: model, epochs: 1, batchSize: 32, seed: 11, optimizer: .adamw)
        standard.trainLimit = 64
        standard.schedule.learningRate = .cosine
        standard.augmentation = Augmentation(
            crop: true, horizontalFlip: true, rotation: true, maxRotationDegrees: 10, colorJitter: true, brightness: 0.2, contrast: 0.2,
            saturation: 0.2)
        standard.initialization.initializer = .normal(std: 0.05)
        return [("fast-v1", fast), ("quick-v1", quick), ("standard-v1", standard)]
    }

    func testVersion1CheckpointsLoadWithTheirWholeConfig() throws {
        for (file, expected) in Self.version1Configs {
            let loaded = try RunCheckpoint.load(Self.fixtures.appendingPathComponent(file + ".safetensors").path)
            XCTAssertNil(JSONValue.foundationObject(parsing: loaded.metadata[RunCheckpoint.configKey] ?? "").flatMap { ($0 as? [String: Any])?["version"] }, "a version-1 text")
            XCTAssertEqual(try loaded.config(), expected, file)
            XCTAssertEqual(loaded.epoch, 1)
            XCTAssertEqual(loaded.history.epochs.count, 1)
        }
    }

    /// Each version-1 run resumes: its optimiser (and look-ahead) state comes back as saved, it trains
    /// its second epoch, and the checkpoint it then writes is version 2 and reads back the same config.
    func testVersion1CheckpointsResume() throws {
        let dataset = SyntheticDataset.generate(seed: 0, trainCount: 64, testCount: 200)
        for (file, expected) in Self.version1Configs {
            let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("convscope-v1-\(file)-\(getpid()).safetensors")
            defer { try? FileManager.default.removeItem(atPath: path) }
            try FileManager.default.copyItem(atPath: Self.fixtures.appendingPathComponent(file + ".safetensors").path, toPath: path)
            let saved = try SafeTensors(contentsOf: path)
            let trainer = try RunCheckpoint.resume(path, dataset: dataset, epochs: 2)
            var longer = expected
            longer.epochs = 2
            XCTAssertEqual(trainer.config, longer, file)
            XCTAssertEqual(trainer.completedEpochs, 1)
            XCTAssertEqual(trainer.globalStep, 2, "the optimiser's step count came back")
            for state in trainer.resumableState {
                guard case let .float(buffer, layout) = state.content else { continue }
                let entry = try XCTUnwrap(saved[state.name], "\(file): \(state.name) was saved")
                XCTAssertEqual(layout.toTorch(UnsafeBufferPointer(buffer.prefix(layout.count))), entry.floats, "\(file): \(state.name)")
            }
            if expected.optimizer.lookahead {
                XCTAssertTrue(trainer.resumableState.contains { $0.name.hasPrefix("optimizer.lookahead.") }, file)
            }
            while !trainer.isFinished { trainer.step() }
            XCTAssertEqual(trainer.history.epochs.map(\.epoch), [1, 2], file)
            XCTAssertTrue(trainer.history.epochs.allSatisfy { $0.trainLoss.isFinite && $0.testLoss.isFinite }, file)
            try RunCheckpoint.save(trainer, to: path)
            let again = try RunCheckpoint.load(path)
            XCTAssertEqual(try TrainingConfig(jsonText: try XCTUnwrap(again.metadata[RunCheckpoint.configKey])), longer, file)
        }
    }
}
