import Foundation

/// `run.json`: what a run directory holds, written once (atomically) when the run starts.
///
/// Only `format` (`convscope-run`) and `version` are required; the rest describe the run for readers
/// that show it before the first checkpoint exists. Keys not named here are allowed and ignored.
public struct RunManifest: Codable, Sendable, Equatable {
    public var format: String
    public var version: Int
    /// The program that writes the run, as `convscope` or `convscope_torch 0.1.0`.
    public var writer: String?
    /// The model spec (as checkpoints store it).
    public var spec: String?
    /// `CIFAR-10`, `SYNTHETIC`, or another data set's name.
    public var dataset: String?
    /// Class names in label order.
    public var classes: [String]?
    /// Epochs planned, optimiser steps per epoch, images per step.
    public var epochs: Int?
    public var stepsPerEpoch: Int?
    public var batch: Int?
    /// When the run started (ISO 8601, UTC).
    public var created: String?

    enum CodingKeys: String, CodingKey {
        case format, version, writer, spec, dataset, classes, epochs, batch, created
        case stepsPerEpoch = "steps_per_epoch"
    }

    public init(
        writer: String? = nil, spec: String? = nil, dataset: String? = nil, classes: [String]? = nil, epochs: Int? = nil,
        stepsPerEpoch: Int? = nil, batch: Int? = nil, created: String? = nil
    ) {
        format = RunLayout.formatName
        version = RunLayout.version
        self.writer = writer
        self.spec = spec
        self.dataset = dataset
        self.classes = classes
        self.epochs = epochs
        self.stepsPerEpoch = stepsPerEpoch
        self.batch = batch
        self.created = created
    }

    /// The manifest of a ConvScope training run.
    public init(trainer: Trainer, created: Date = Date()) {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        self.init(
            writer: "convscope", spec: trainer.network.spec.text, dataset: trainer.dataset.displayName,
            classes: trainer.dataset.classNames, epochs: trainer.config.epochs, stepsPerEpoch: trainer.stepsPerEpoch,
            batch: trainer.config.batchSize, created: formatter.string(from: created))
    }

    /// The file's bytes: indented JSON with sorted keys and a final newline.
    public func data() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self) + Data("\n".utf8)
    }

    /// Reads `run.json`'s bytes; `source` names the file in errors, which say what is wrong in one line.
    public init(data: Data, source: String) throws(RunManifestError) {
        let manifest: RunManifest
        do {
            manifest = try JSONDecoder().decode(RunManifest.self, from: data)
        } catch DecodingError.keyNotFound(let key, _) {
            throw RunManifestError(source: source, problem: "has no '\(key.stringValue)'; is it a ConvScope run directory's \(RunLayout.manifestFile)?")
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw RunManifestError(source: source, problem: "has a '\(key)' of the wrong type")
        } catch {
            throw RunManifestError(source: source, problem: "is not a JSON object")
        }
        guard manifest.format == RunLayout.formatName else {
            throw RunManifestError(source: source, problem: "has format '\(oneLine(manifest.format))', not '\(RunLayout.formatName)'")
        }
        guard manifest.version >= 1 else {
            throw RunManifestError(source: source, problem: "has version \(manifest.version); versions start at 1")
        }
        self = manifest
    }

    /// True when the writer used a newer version of the layout than this reader knows (it reads on, and
    /// may miss what is new).
    public var isNewerThanReader: Bool { version > RunLayout.version }
}

/// `run.json` cannot be read as a run manifest.
public struct RunManifestError: Error, Sendable, Equatable, CustomStringConvertible {
    public let source: String
    public let problem: String
    public var description: String { "\(quotedPath(source)) \(problem)" }
}
