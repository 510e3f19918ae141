import Dispatch
import Foundation

/// A way to compress a copy of the trained model.
public enum CompressionMethod: Sendable, Hashable {
    /// Zero the `amount` smallest weights of each conv and fc weight tensor (`MagnitudePruning`).
    case magnitudePruning(amount: Float)
    /// Remove `fraction` of the filters of each convolution that can lose some (`FilterPruning`).
    case filterPruning(fraction: Float)
    /// int8 weights and activations, calibrated on `calibrationImages` training images (`QuantizedNetwork`).
    case int8(calibrationImages: Int)

    /// The row's name in the before/after table: `pruned 30%`, `filters -25%`, `int8`.
    public var label: String {
        switch self {
        case .magnitudePruning(let amount): return "pruned \(Int((amount * 100).rounded()))%"
        case .filterPruning(let fraction): return "filters -\(Int((fraction * 100).rounded()))%"
        case .int8: return "int8"
        }
    }

    /// The label as a file-name part: `pruned30`, `filters25`, `int8`.
    public var fileTag: String {
        switch self {
        case .magnitudePruning(let amount): return "pruned\(Int((amount * 100).rounded()))"
        case .filterPruning(let fraction): return "filters\(Int((fraction * 100).rounded()))"
        case .int8: return "int8"
        }
    }
}

/// One row of the lab's before/after table: the float model as trained (`method` nil) or a
/// compressed copy, waiting, being measured, measured, or failed.
public struct CompressionRow: Sendable, Equatable, Identifiable {
    /// Where the row's measurement stands.
    public enum Status: Sendable, Equatable {
        case queued
        case measuring
        case measured(ModelReport)
        case failed(String)
    }

    /// Unique within the table.
    public let id: Int
    /// nil for the float32 model as trained.
    public var method: CompressionMethod?
    /// The weights version (global step) of the copy, once taken.
    public var weightsVersion: Int?
    public var status: Status
    /// The zero share of each conv and fc weight tensor of the measured model (empty before).
    public var sparsity: [WeightSparsity]

    public init(id: Int, method: CompressionMethod?, weightsVersion: Int?, status: Status, sparsity: [WeightSparsity] = []) {
        self.id = id
        self.method = method
        self.weightsVersion = weightsVersion
        self.status = status
        self.sparsity = sparsity
    }

    /// The label of the float model as trained.
    public static let floatLabel = "float32"

    /// `float32` or the method's label.
    public var label: String { method?.label ?? CompressionRow.floatLabel }

    /// Queued or being measured.
    public var isPending: Bool { status == .queued || status == .measuring }
}

/// Everything the lab has to show: an immutable value the UI renders.
public struct CompressionResults: Sendable, Equatable {
    /// The table, oldest first.
    public var rows: [CompressionRow]
    /// The zero share of each conv and fc weight tensor of the current weights, read at `currentVersion`.
    public var currentSparsity: [WeightSparsity]
    public var currentVersion: Int?
    /// Grows with every change, so a reader can tell new results from ones it has shown.
    public var serial: Int

    public init(rows: [CompressionRow] = [], currentSparsity: [WeightSparsity] = [], currentVersion: Int? = nil, serial: Int = 0) {
        self.rows = rows
        self.currentSparsity = currentSparsity
        self.currentVersion = currentVersion
        self.serial = serial
    }

    /// The newest measured compressed model, if any.
    public var newestCompressed: CompressionRow? {
        rows.last { row in
            guard row.method != nil, case .measured = row.status else { return false }
            return true
        }
    }
}

/// Compresses copies of a training session's model on request and measures them the way
/// `convscope prune` and `quantize` do (`ModelReport.measure`: parameters, non-zero parameters,
/// stored bytes, test accuracy, inference images/s), one request at a time on its own queue.
///
/// Every request works on a copy taken with `WeightsSource.copyNetwork()` (between training steps, or
/// of the checkpoint a watched run shows); the float32 row of that weights version is measured first unless the table has it already. Nothing
/// pauses the training: the measurement shares the cores with it. The UI reads `results`.
public final class CompressionLab: Sendable {
    /// Seconds between readings of the current weights' sparsity while they change.
    public static let surveyInterval: Double = 2
    private let queue = DispatchQueue(label: "convscope.compression", qos: .utility)
    private let session: any WeightsSource
    private let trainImages: ImageSet
    private let testImages: ImageSet
    private let state = Locked(State())
    /// Raised by `finish()`: no new work starts and a measurement in progress stops early.
    private let cancellation = StopSignal()

    private struct State {
        var results = CompressionResults()
        /// The checkpoint of `results.newestCompressed`, kept for `newestCheckpoint()`.
        var newestCheckpoint: SafeTensors?
        var nextRowID = 0
        var surveying = false
        var lastSurvey = -Double.infinity

        mutating func change(_ body: (inout CompressionResults) -> Void) {
            body(&results)
            results.serial += 1
        }

        /// Appends a row (or inserts it before row `before`); returns its id.
        mutating func addRow(_ method: CompressionMethod?, weightsVersion: Int?, status: CompressionRow.Status, before: Int? = nil) -> Int {
            let row = CompressionRow(id: nextRowID, method: method, weightsVersion: weightsVersion, status: status)
            nextRowID += 1
            change { results in
                let index = before.flatMap { id in results.rows.firstIndex { $0.id == id } } ?? results.rows.endIndex
                results.rows.insert(row, at: index)
            }
            return row.id
        }

        /// Changes row `id`.
        mutating func updateRow(_ id: Int, _ body: (inout CompressionRow) -> Void) {
            change { results in
                if let index = results.rows.firstIndex(where: { $0.id == id }) { body(&results.rows[index]) }
            }
        }
    }

    /// A lab over `session`'s model: int8 calibrates on `trainImages`, accuracy is measured on `testImages`.
    public init(session: any WeightsSource, trainImages: ImageSet, testImages: ImageSet) {
        self.session = session
        self.trainImages = trainImages
        self.testImages = testImages
    }

    /// The latest results.
    public var results: CompressionResults { state.withLock { $0.results } }

    /// Queues `method` on a copy of the weights as they are when its turn comes. Returns false (and
    /// queues nothing) when the same method is already waiting, or measured at `weightsVersion`.
    public func request(_ method: CompressionMethod, weightsVersion: Int) -> Bool {
        let id: Int? = state.withLock { state in
            let duplicate = state.results.rows.contains { $0.method == method && ($0.isPending || $0.weightsVersion == weightsVersion) }
            guard !duplicate, !cancellation.isRaised else { return nil }
            return state.addRow(method, weightsVersion: nil, status: .queued)
        }
        guard let id else { return false }
        queue.async { self.run(method, row: id) }
        return true
    }

    /// Reads the sparsity of the current weights when they changed since the last reading and
    /// `surveyInterval` has passed (on the lab's queue). Cheap to call every frame.
    public func survey(weightsVersion: Int) {
        let now = Stopwatch.now
        let start: Bool = state.withLock { state in
            guard !state.surveying, !cancellation.isRaised, state.results.currentVersion != weightsVersion else { return false }
            guard state.results.currentVersion == nil || now - state.lastSurvey >= CompressionLab.surveyInterval else { return false }
            state.surveying = true
            state.lastSurvey = now
            return true
        }
        guard start else { return }
        queue.async {
            let (network, version) = self.session.copyNetwork()
            let sparsity = WeightSparsity.of(network)
            self.state.withLock { state in
                state.surveying = false
                state.change {
                    $0.currentSparsity = sparsity
                    $0.currentVersion = version
                }
            }
        }
    }

    /// The newest measured compressed model's checkpoint (metadata included), its method and weights version.
    public func newestCheckpoint() -> (method: CompressionMethod, weightsVersion: Int, checkpoint: SafeTensors)? {
        state.withLock { state in
            guard let row = state.results.newestCompressed, let method = row.method, let version = row.weightsVersion,
                let checkpoint = state.newestCheckpoint
            else { return nil }
            return (method, version, checkpoint)
        }
    }

    /// Drops the waiting requests and returns once the step in progress (a copy, a compression, or a
    /// measurement, which stops after its current batch) has finished, so no thread is left inside a
    /// BLAS call at exit.
    public func finish() {
        cancellation.raise()
        queue.sync {}
    }

    /// Runs on `queue`: copies the weights, measures the float32 row of that version when the table
    /// lacks it, then compresses the copy and measures the result. Stops between steps once cancelled.
    private func run(_ method: CompressionMethod, row id: Int) {
        guard !cancellation.isRaised else { return }
        let (network, version) = session.copyNetwork()
        let baseline: Int? = state.withLock { state in
            state.updateRow(id) {
                $0.status = .measuring
                $0.weightsVersion = version
            }
            let measured = state.results.rows.contains { $0.method == nil && $0.weightsVersion == version }
            return measured ? nil : state.addRow(nil, weightsVersion: version, status: .measuring, before: id)
        }
        if let baseline {
            guard let (report, sparsity, _) = measure(.float(network), method: nil, version: version) else { return }
            state.withLock { state in
                state.updateRow(baseline) {
                    $0.status = .measured(report)
                    $0.sparsity = sparsity
                }
            }
        }
        guard !cancellation.isRaised else { return }
        let classifier: Classifier
        switch method {
        case .magnitudePruning(let amount):
            MagnitudePruning.prune(network, amount: amount)
            classifier = .float(network)
        case .filterPruning(let fraction):
            do {
                classifier = .float(try FilterPruning.prune(network, fraction: fraction).network)
            } catch {
                state.withLock { $0.updateRow(id) { $0.status = .failed("\(error)") } }
                return
            }
        case .int8(let images):
            classifier = .int8(QuantizedNetwork.quantize(network, calibration: QuantizedNetwork.calibrationBatches(trainImages, count: images)))
        }
        guard !cancellation.isRaised else { return }
        guard let (report, sparsity, checkpoint) = measure(classifier, method: method, version: version) else { return }
        state.withLock { state in
            state.updateRow(id) {
                $0.status = .measured(report)
                $0.sparsity = sparsity
            }
            state.newestCheckpoint = checkpoint
        }
    }

    /// The report, sparsity and in-memory checkpoint (with the session's dataset, classes and config
    /// in its metadata) of `classifier`; nil when the lab was told to finish meanwhile.
    private func measure(
        _ classifier: Classifier, method: CompressionMethod?, version: Int
    ) -> (ModelReport, [WeightSparsity], SafeTensors)? {
        let snapshot = session.snapshot
        var metadata = [
            RunCheckpoint.stepKey: String(version), RunCheckpoint.datasetKey: snapshot.datasetName,
            RunCheckpoint.classesKey: RunCheckpoint.json(snapshot.classNames),
            RunCheckpoint.configKey: (try? snapshot.config.jsonText()) ?? "null",
        ]
        if let method { metadata["compression"] = method.label }
        let checkpoint = classifier.checkpoint(metadata: metadata)
        guard
            let report = ModelReport.measure(
                method?.label ?? CompressionRow.floatLabel, classifier, checkpoint: checkpoint, testSet: testImages,
                stoppingWhen: cancellation)
        else { return nil }
        return (report, classifier.weightSparsity, checkpoint)
    }
}
