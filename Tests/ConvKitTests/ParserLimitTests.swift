import Foundation
import TestSupport
import XCTest
@testable import ConvKit

/// Input sized or numbered by a file or a string is refused before anything is allocated for it, with a
/// one-line error; and the inputs the fuzzers once broke the parsers with (`Fuzz/corpus/*/regress-*`)
/// stay handled.
final class ParserLimitTests: XCTestCase {
    static let corpus = FuzzCorpusTests.corpus

    // MARK: - safetensors

    /// A safetensors image with `header` as its JSON header and `data` after it.
    func safetensors(header: String, data: [UInt8] = []) -> [UInt8] {
        let json = Array(header.utf8)
        return withUnsafeBytes(of: UInt64(json.count).littleEndian, Array.init) + json + data
    }

    func testSafeTensorsRefusesOverlongMetadataValues() throws {
        let long = String(repeating: "x", count: SafeTensors.maximumMetadataValueLength + 1)
        let error = assertThrows(SafeTensorsError.self) {
            try SafeTensors(bytes: safetensors(header: #"{"__metadata__":{"metrics":"\#(long)"}}"#), source: "big.safetensors")
        }
        XCTAssertEqual(error?.kind, .invalidValue)
        XCTAssertEqual(
            error?.description,
            "'big.safetensors' has invalid __metadata__: the value of 'metrics' is 1048577 bytes long, more than the limit of 1048576")
        // At the limit it reads.
        let fits = String(repeating: "x", count: SafeTensors.maximumMetadataValueLength)
        XCTAssertEqual(try SafeTensors(bytes: safetensors(header: #"{"__metadata__":{"m":"\#(fits)"}}"#)).metadata["m"]?.count, fits.count)
    }

    func testSafeTensorsRefusesAbsurdShapes() {
        let rank = Array(repeating: "1", count: 65).joined(separator: ",")
        let deep = assertThrows(SafeTensorsError.self) {
            try SafeTensors(bytes: safetensors(header: #"{"t":{"dtype":"U8","shape":[\#(rank)],"data_offsets":[0,1]}}"#, data: [0]))
        }
        XCTAssertTrue(deep?.description.contains("65 dimensions, more than the limit of 64") ?? false, String(describing: deep))
        // Element counts that overflow, and ones that fit in an Int but not in the file.
        let overflow = assertThrows(SafeTensorsError.self) {
            try SafeTensors(bytes: safetensors(header: #"{"t":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#))
        }
        XCTAssertTrue(overflow?.description.contains("impossibly large shape") ?? false, String(describing: overflow))
        let huge = assertThrows(SafeTensorsError.self) {
            try SafeTensors(bytes: safetensors(header: #"{"t":{"dtype":"F32","shape":[1000000,1000000],"data_offsets":[0,4000000000000]}}"#))
        }
        XCTAssertEqual(huge?.kind, .truncated)
        XCTAssertTrue(huge?.description.contains("need 4000000000000 bytes of data but only 0 follow") ?? false, String(describing: huge))
        // Offsets past Int.max are not integers we accept.
        let offsets = assertThrows(SafeTensorsError.self) {
            try SafeTensors(bytes: safetensors(header: #"{"t":{"dtype":"U8","shape":[1],"data_offsets":[0,99999999999999999999]}}"#))
        }
        XCTAssertEqual(offsets?.kind, .badOffsets)
    }

    /// A file far longer than its header describes is refused from its size, without reading it: here a
    /// sparse 64 GB file, which reading would need 64 GB of memory for.
    func testSafeTensorsRefusesAFileLongerThanItsHeaderBeforeReadingIt() throws {
        let directory = try makeTemporaryDirectory(self)
        let path = directory + "/sparse.safetensors"
        let bytes = safetensors(header: #"{"t":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}}"#, data: Array(repeating: 7, count: 8))
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        guard truncate(path, 64 << 30) == 0 else { throw skip(.environment, "this file system cannot hold a sparse 64 GB file") }
        let error = assertThrows(SafeTensorsError.self) { try SafeTensors(contentsOf: path) }
        XCTAssertEqual(error?.kind, .badOffsets)
        XCTAssertEqual(error?.description, "'\(path)' has \((64 << 30) - bytes.count) unexpected bytes after the last tensor's data")

        // And one shorter than its header describes.
        try Data(bytes.dropLast(3)).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(assertThrows(SafeTensorsError.self) { try SafeTensors(contentsOf: path) }?.kind, .truncated)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try SafeTensors(contentsOf: path)["t"]?.uint8s, Array(repeating: 7, count: 8))
    }

    func testQuantizedCheckpointWithWrongScaleCountIsRefused() throws {
        let spec = "conv2,relu,gap,fc10"
        let network = try Network(spec)
        let quantized = QuantizedNetwork.quantize(network, calibration: [Tensor(zeros: 1, .cifarImage)])
        var file = quantized.safeTensors(metadata: [:])
        XCTAssertNoThrow(try QuantizedNetwork.load(file, path: "q.safetensors"))
        let index = file.tensors.firstIndex { $0.name.hasSuffix(".weight_scale") }!
        file.tensors[index] = SafeTensors.Entry(name: file.tensors[index].name, shape: [1], floats: [1])
        let error = assertThrows(RunCheckpointError.self) { try QuantizedNetwork.load(file, path: "q.safetensors") }
        XCTAssertTrue(error?.description.contains("has 1 weight scales and 2 biases for conv1, expected 2 of each") ?? false, String(describing: error))
    }

    // MARK: - Model specs

    func testModelSpecRefusesAbsurdNumbersWithoutTrapping() {
        func message(_ spec: String) -> String {
            do {
                _ = try ModelSpec(spec)
                return "accepted"
            } catch {
                return error.description
            }
        }
        XCTAssertEqual(
            message("conv99999999999999999999,gap,fc10"),
            "bad model spec at token 1 'conv99999999999999999999': the channel count must be at most 65536")
        XCTAssertEqual(message("conv65537,gap,fc10"), "bad model spec at token 1 'conv65537': the channel count must be at most 65536, not 65537")
        XCTAssertEqual(message("conv65536,gap,fc10"), "accepted")
        XCTAssertTrue(message("conv8k9223372036854775807,gap,fc10").hasSuffix("the kernel size must be at most 1024"))
        XCTAssertTrue(message("conv8k3p99999,gap,fc10").hasSuffix("the padding must be at most 1024, not 99999"))
        XCTAssertTrue(message("conv8s2000,gap,fc10").hasSuffix("the stride must be at most 1024, not 2000"))
        XCTAssertTrue(message("conv8,maxpool5000,gap,fc10").hasSuffix("the pool size must be at most 1024, not 5000"))
        XCTAssertTrue(message("res8m70000,gap,fc10").hasSuffix("the middle width must be at most 65536, not 70000"))
        XCTAssertTrue(message("conv8,gap,fc100000000000000000000000").hasSuffix("the output size must be at most 65536"))
        XCTAssertTrue(message("conv8,leakyrelu1e39,gap,fc10").hasSuffix("the slope must be a finite number"))
        XCTAssertTrue(message("conv8,elu-1e39,gap,fc10").hasSuffix("alpha must be a finite number"))
        let long = Array(repeating: "relu", count: 2001).joined(separator: ",")
        XCTAssertEqual(message(long), "bad model spec: the model spec is 10004 bytes long, more than the limit of 10000")
    }

    /// Found by the spec harness: writing the token of an ELU whose alpha is a whole number too large for
    /// `Int` (what filter pruning does with every token) trapped, and `1e+30` did not read back.
    func testTokensWithLargeWholeNumbersWriteAndReadBack() throws {
        for text in ["elu1e30", "leakyrelu1e30", "elu-3e38", "elu4096"] {
            let spec = try ModelSpec(text)
            let written = ModelSpec.Token(operation: spec.tokens[0].operation).text
            XCTAssertEqual(try ModelSpec(written).tokens[0].operation, spec.tokens[0].operation, "\(text) -> \(written)")
        }
        XCTAssertEqual(ModelSpec.Token(operation: .activation(.elu(alpha: 4096))).text, "elu4096")
    }

    // MARK: - Checkpoint metadata

    func config(_ json: String) -> TrainingConfig? {
        RunCheckpoint.config(in: [RunCheckpoint.configKey: json], model: "tiny")
    }

    /// Version-1 configs (checkpoints written before the config became `Codable`; `TrainingConfigTests`
    /// has the version-2 cases).
    func testConfigWithNumbersNoIntegerHoldsIsUnreadableNotATrap() throws {
        let good = TrainingConfigTests.version1Tiny
        XCTAssertEqual(config(good), TrainingConfig(model: "tiny"))
        func with(_ key: String, _ value: String) -> String {
            var object = try! JSONSerialization.jsonObject(with: Data(good.utf8)) as! [String: Any]
            object[key] = try! JSONSerialization.jsonObject(with: Data(value.utf8), options: .fragmentsAllowed)
            return RunCheckpoint.json(object)
        }
        for (key, value) in [
            ("epochs", "1e300"), ("epochs", "-1"), ("epochs", "2.5"), ("batch", "0"), ("batch", "1e19"), ("seed", "-1"), ("seed", "1e300"),
            ("seed", "0.5"), ("crop_padding", "1000000000"), ("train_limit", "0"), ("train_limit", "1e300"), ("whitening_bias_epochs", "-3"),
        ] {
            XCTAssertNil(config(with(key, value)), "\(key): \(value)")
        }
        // The largest seed reads back exactly (a Double would round it past UInt64.max).
        XCTAssertEqual(config(with("seed", "18446744073709551615"))?.seed, UInt64.max)
        XCTAssertEqual(config(with("train_limit", "5000"))?.trainLimit, 5000)
    }

    func testMetricsAndProgressWithNumbersNoIntegerHoldsAreSkipped() {
        let row = #"{"epoch":1,"train_loss":1,"train_acc":0.5,"test_loss":1,"test_acc":0.5}"#
        let huge = #"{"epoch":1e300,"train_loss":1,"train_acc":0.5,"test_loss":1,"test_acc":0.5}"#
        let history = RunCheckpoint.history(in: [RunCheckpoint.metricsKey: "[\(row),\(huge)]"])
        XCTAssertEqual(history.epochs.map(\.epoch), [1])

        func progress(_ json: String) -> Trainer.EpochProgress? {
            RunCheckpoint.epochProgress(in: [RunCheckpoint.progressKey: json], stepsPerEpoch: 100)
        }
        XCTAssertEqual(progress(#"{"step":5,"loss_sum":2,"correct":3,"seen":4,"seconds":1}"#)?.correct, 3)
        XCTAssertNil(progress(#"{"step":5,"loss_sum":2,"correct":1e300,"seen":4,"seconds":1}"#))
        XCTAssertNil(progress(#"{"step":5,"loss_sum":2,"correct":3,"seen":-4,"seconds":1}"#))
        XCTAssertNil(progress(#"{"step":1e300,"loss_sum":2,"correct":3,"seen":4,"seconds":1}"#))
        XCTAssertNil(progress(#"{"step":100,"loss_sum":2,"correct":3,"seen":4,"seconds":1}"#))
    }

    func testClassNamesMustBeShortPrintableLines() {
        func names(_ list: [String]) -> [String]? {
            RunCheckpoint.classNames(in: [RunCheckpoint.classesKey: RunCheckpoint.json(list)], count: list.count)
        }
        XCTAssertEqual(names(["cat", "dog"]), ["cat", "dog"])
        XCTAssertEqual(names(["chat noir", "chien 🐕"]), ["chat noir", "chien 🐕"])
        XCTAssertNil(names(["cat", "\u{1B}[2Jdog"]), "an escape sequence would reach the terminal")
        XCTAssertNil(names(["cat", ""]))
        XCTAssertNil(names(["cat", String(repeating: "d", count: 65)]))
        XCTAssertNil(RunCheckpoint.classNames(in: [RunCheckpoint.classesKey: #"["a","b"]"#], count: 3))
    }
}

extension ParserLimitTests {
    /// Found by the metrics harness: Foundation's JSON reader on Linux reads `0.05000000074505806` (how
    /// a learning rate of 0.05 is written) as 0.05000000074505808, so metrics did not read back as written.
    func testMetricsReadBackExactlyAsWritten() throws {
        let epoch = TrainingHistory.Epoch(
            epoch: 3, trainLoss: 1.05, trainAccuracy: 0.5, testLoss: 0.95, testAccuracy: 0.6, learningRate: 0.05, seconds: 12.5,
            elapsedSeconds: 400042.05000000075, imagesPerSecond: 0.1 + 0.2)
        let text = RunCheckpoint.json([epoch.jsonObject])
        XCTAssertEqual(RunCheckpoint.history(in: [RunCheckpoint.metricsKey: text]).epochs, [epoch], text)

        let found = try String(decoding: FileBytes.read(Self.corpus + "/metrics/regress-number-rounding"), as: UTF8.self)
        let history = RunCheckpoint.history(in: [RunCheckpoint.metricsKey: found])
        XCTAssertEqual(history.epochs.count, 4)
        XCTAssertEqual(RunCheckpoint.history(in: [RunCheckpoint.metricsKey: RunCheckpoint.json(history.epochs.map(\.jsonObject))]), history)
        // Integers past Int.max and duplicate keys read as JSONSerialization reads them.
        let object = RunCheckpoint.parse(#"{"seed":18446744073709551615,"a":1,"a":2.5,"n":null,"t":true}"#) as? [String: Any]
        XCTAssertEqual((object?["seed"] as? NSNumber)?.uint64Value, UInt64.max)
        XCTAssertEqual((object?["a"] as? NSNumber)?.doubleValue, 2.5)
        XCTAssertTrue(object?["n"] is NSNull)
        XCTAssertEqual(object?["t"] as? Bool, true)
        XCTAssertNil(RunCheckpoint.parse("[1,"))
        XCTAssertNil(RunCheckpoint.parse(String(repeating: "[", count: 100) + String(repeating: "]", count: 100)), "nesting is bounded")
    }
}

extension ParserLimitTests {
    /// A schedule read from `--schedule` or a checkpoint's config cannot make the learning rate NaN.
    func testStepScheduleRefusesANonFiniteOrNegativeFactor() {
        XCTAssertEqual(LearningRateSchedule("step:5:0.5"), .step(epochs: 5, gamma: 0.5))
        for text in ["step:5:nan", "step:5:inf", "step:5:-0.5", "step:99999999999999999999:0.5"] {
            XCTAssertNil(LearningRateSchedule(text), text)
        }
    }
}

extension ParserLimitTests {
    /// Found by the metadata harness: a config whose label smoothing read as infinity (`0.21e30000...`)
    /// was accepted, and could not even be written back.
    func testConfigWithNumbersNoFloatHoldsIsUnreadable() throws {
        let found = try String(decoding: FileBytes.read(Self.corpus + "/metadata/regress-infinite-label-smoothing"), as: UTF8.self)
        XCTAssertNil(config(found))
        let good = TrainingConfigTests.version1Tiny
        for (key, value) in [("lr", "1e39"), ("momentum", "-1e300"), ("label_smoothing", "null"), ("weight_decay", "\"0.1\""), ("rotation", "1e400")] {
            var object = try XCTUnwrap(RunCheckpoint.parse(good) as? [String: Any])
            object[key] = RunCheckpoint.parse(value)
            XCTAssertNil(config(RunCheckpoint.json(object)), "\(key): \(value)")
        }
    }
}

extension ParserLimitTests {
    /// The initializer a config names reads back from what `description` writes, and is finite.
    func testNormalInitializerReadsBackAndIsFinite() {
        for std: Float in [0.05, 1e-5, 1e30] {
            let written = Initializer.normal(std: std).description
            XCTAssertEqual(Initializer(parsing: written), .normal(std: std), written)
        }
        XCTAssertNil(Initializer(parsing: "normal(1e39)"))
        XCTAssertNil(Initializer(parsing: "normal(-1)"))
    }
}
