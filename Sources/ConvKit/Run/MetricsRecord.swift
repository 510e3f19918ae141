/// One line of a run directory's `metrics.jsonl`: a JSON object describing the run at an optimiser step.
///
/// Two kinds matter to readers: `train` (progress: the loss and accuracy of the steps since the previous
/// train line, the learning rate, images/s) and `eval` (after an epoch: the test set's loss and accuracy,
/// with the epoch's mean training loss and accuracy). Other kinds are read and kept aside, so newer writers
/// can add them. Every key but `step` is optional; keys not listed here are allowed and their numeric
/// values kept in `extras`.
///
/// | key | meaning |
/// | --- | --- |
/// | `kind` | `train` (the default when absent), `eval`, or another word |
/// | `step` | optimiser steps taken so far (an integer, at least 0) |
/// | `epoch` | train: the epoch in progress, from 1; eval: the epoch just finished |
/// | `loss`, `accuracy` | training loss and accuracy (a fraction) |
/// | `lr` | learning rate |
/// | `images_per_s` | training speed |
/// | `test_loss`, `test_accuracy` | the test set's (eval lines) |
/// | `time` | seconds since the run started |
/// | `epoch_seconds` | seconds the epoch's training took (eval lines) |
///
/// JSON has no NaN or infinity: a non-finite number is written `null` and read back as NaN (an absent key
/// is nil).
public struct MetricsRecord: Sendable, Equatable {
    public enum Kind: Sendable, Equatable, CustomStringConvertible {
        case train, eval
        case other(String)

        init(_ text: String) {
            switch text {
            case "train": self = .train
            case "eval": self = .eval
            default: self = .other(text)
            }
        }

        public var description: String {
            switch self {
            case .train: return "train"
            case .eval: return "eval"
            case .other(let text): return text
            }
        }
    }

    public var kind: Kind
    public var step: Int
    public var epoch: Int?
    public var loss: Double?
    public var accuracy: Double?
    public var learningRate: Double?
    public var imagesPerSecond: Double?
    public var testLoss: Double?
    public var testAccuracy: Double?
    public var time: Double?
    public var epochSeconds: Double?
    /// Numeric values of keys this type does not name (`null` read as NaN); other values are dropped.
    public var extras: [String: Double]

    public init(
        kind: Kind, step: Int, epoch: Int? = nil, loss: Double? = nil, accuracy: Double? = nil, learningRate: Double? = nil,
        imagesPerSecond: Double? = nil, testLoss: Double? = nil, testAccuracy: Double? = nil, time: Double? = nil,
        epochSeconds: Double? = nil, extras: [String: Double] = [:]
    ) {
        self.kind = kind
        self.step = step
        self.epoch = epoch
        self.loss = loss
        self.accuracy = accuracy
        self.learningRate = learningRate
        self.imagesPerSecond = imagesPerSecond
        self.testLoss = testLoss
        self.testAccuracy = testAccuracy
        self.time = time
        self.epochSeconds = epochSeconds
        self.extras = extras
    }

    /// The named numeric keys, in the order lines are written.
    private var numbers: [(key: String, value: Double?)] {
        [
            ("loss", loss), ("accuracy", accuracy), ("lr", learningRate), ("images_per_s", imagesPerSecond),
            ("test_loss", testLoss), ("test_accuracy", testAccuracy), ("epoch_seconds", epochSeconds), ("time", time),
        ]
    }

    private static let namedKeys: Set<String> = [
        "kind", "step", "epoch", "loss", "accuracy", "lr", "images_per_s", "test_loss", "test_accuracy", "epoch_seconds", "time",
    ]

    /// The record as one JSON line (without the newline): known keys first, then extras sorted by name;
    /// non-finite numbers as `null`.
    public var jsonLine: String {
        var members = ["\"kind\":" + JSONValue.quote(kind.description), "\"step\":\(step)"]
        if let epoch { members.append("\"epoch\":\(epoch)") }
        for (key, value) in numbers {
            if let value { members.append(JSONValue.quote(key) + ":" + MetricsRecord.number(value)) }
        }
        for key in extras.keys.sorted() where !MetricsRecord.namedKeys.contains(key) {
            members.append(JSONValue.quote(key) + ":" + MetricsRecord.number(extras[key]!))
        }
        return "{" + members.joined(separator: ",") + "}"
    }

    /// A JSON number, or `null` for NaN and infinities. Whole values print without a fraction.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// A value measured in `Float`, kept at the precision it has (0.1, not 0.10000000149011612).
    public static func value(_ measured: Float) -> Double {
        measured.isFinite ? Double("\(measured)") ?? Double(measured) : Double(measured)
    }

    /// Reads one line: a JSON object with an integer `step`; a known key with a value of the wrong type
    /// refuses the line. Throws a reason in words.
    public init(jsonLine bytes: UnsafeBufferPointer<UInt8>) throws(MetricsRecordError) {
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes)
        } catch {
            throw MetricsRecordError(reason: "not JSON (\(error.message) at byte \(error.offset))")
        }
        guard case .object(let members) = json else {
            throw MetricsRecordError(reason: "\(json.kindName), not a JSON object")
        }
        var values: [String: JSONValue] = [:]
        for (key, value) in members { values[key] = value }

        func number(_ key: String) throws(MetricsRecordError) -> Double? {
            switch values[key] {
            case nil: return nil
            case .null?: return .nan
            case .number(let text)?: return Double(text) ?? .nan
            case let other?: throw MetricsRecordError(reason: "'\(key)' is \(other.kindName), expected a number or null")
            }
        }
        func integer(_ key: String) throws(MetricsRecordError) -> Int? {
            guard let value = try number(key) else { return nil }
            guard let whole = Int(exactly: value), whole >= 0 else {
                throw MetricsRecordError(reason: "'\(key)' is \(value), expected a whole number of at least 0")
            }
            return whole
        }

        switch values["kind"] {
        case nil: kind = .train
        case .string(let text)?: kind = Kind(text)
        case let other?: throw MetricsRecordError(reason: "'kind' is \(other.kindName), expected a string")
        }
        guard let step = try integer("step") else { throw MetricsRecordError(reason: "no 'step'") }
        self.step = step
        epoch = try integer("epoch")
        loss = try number("loss")
        accuracy = try number("accuracy")
        learningRate = try number("lr")
        imagesPerSecond = try number("images_per_s")
        testLoss = try number("test_loss")
        testAccuracy = try number("test_accuracy")
        time = try number("time")
        epochSeconds = try number("epoch_seconds")
        extras = [:]
        for (key, value) in values where !MetricsRecord.namedKeys.contains(key) {
            switch value {
            case .number(let text): extras[key] = Double(text) ?? .nan
            case .null: extras[key] = .nan
            default: break
            }
        }
    }

    /// Reads one line of text (see `init(jsonLine:)` for bytes).
    public init(jsonLine text: String) throws(MetricsRecordError) {
        var text = text
        let result: Result<MetricsRecord, MetricsRecordError> = text.withUTF8 { bytes in
            do throws(MetricsRecordError) { return .success(try MetricsRecord(jsonLine: bytes)) } catch { return .failure(error) }
        }
        self = try result.get()
    }
}

/// Why a metrics line was not read.
public struct MetricsRecordError: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}
