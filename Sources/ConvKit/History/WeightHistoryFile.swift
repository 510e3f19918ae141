import Foundation

/// The weight history beside a checkpoint: `<checkpoint>.history.safetensors`, written atomically.
///
/// Each snapshot's tensors are stored under PyTorch's names with the prefix `step_<N>.` (so
/// `safetensors.torch.load_file` and a filter on the prefix give a `state_dict` of that moment), its test
/// predictions as `step_<N>.predictions` (u8); the header metadata holds the format, the model spec, the
/// cadence and, per snapshot, the step, the epoch and the evaluation's loss, accuracy and confusion matrix.
///
/// The file is a view of the run, not the run: one that is missing, damaged or written for another model is
/// reported in one line by the caller and otherwise ignored (`RunCheckpoint.resume`).
public enum WeightHistoryFile {
    public static let formatKey = "format", formatValue = "convscope-history"
    public static let versionKey = "version", version = "1"
    public static let specKey = "spec", cadenceKey = "cadence", snapshotsKey = "snapshots"

    /// What a checkpoint's path is followed by to name its history.
    public static let suffix = ".history.safetensors"

    /// Where the history of the checkpoint at `checkpoint` lives.
    public static func path(besideCheckpoint checkpoint: String) -> String { checkpoint + suffix }

    /// The file image of `history`, whose snapshots are states of `network`'s spec.
    public static func safeTensors(_ history: WeightHistory, network: Network) -> SafeTensors {
        let image = Image(history, network: network)
        let tensors = image.descriptors.indices.map { index in
            let descriptor = image.descriptors[index]
            return SafeTensors.Entry(name: descriptor.name, dtype: descriptor.dtype, shape: descriptor.shape, bytes: image.bytes(index))
        }
        return SafeTensors(tensors: tensors, metadata: image.metadata)
    }

    /// Writes `history` beside the checkpoint at `checkpoint` (atomically); an empty history removes a stale file.
    ///
    /// The file is `safeTensors(history, network:)`'s, written one tensor at a time from the snapshots: at the end
    /// of an `airbench` run the history holds about 80 MB, and building the whole file image first held two more
    /// copies of it at the run's peak of memory (docs/performance.md, "Memory").
    public static func save(_ history: WeightHistory, network: Network, besideCheckpoint checkpoint: String) throws {
        let target = path(besideCheckpoint: checkpoint)
        guard !history.isEmpty else {
            if FileManager.default.fileExists(atPath: target) { try? FileManager.default.removeItem(atPath: target) }
            return
        }
        let image = Image(history, network: network)
        try SafeTensors.write(to: target, descriptors: image.descriptors, metadata: image.metadata, bytes: image.bytes)
    }

    /// The history's file described tensor by tensor, whose bytes it makes on request straight from the
    /// snapshots: a float tensor is its slice of the snapshot's floats put in PyTorch's layout, a counter the
    /// snapshot's own value, so that writing the file copies each snapshot once, into the file.
    private struct Image {
        let descriptors: [SafeTensors.Descriptor]
        let metadata: [String: String]
        private let snapshots: [WeightSnapshot]
        /// Each state tensor's slot in a snapshot, and its layout when it holds floats.
        private let slots: [(slot: WeightSnapshot.Slot, layout: TensorLayout?)]
        /// Where each tensor comes from: its snapshot, and its state tensor (nil: the snapshot's test predictions).
        private let sources: [(snapshot: Int, tensor: Int?)]

        init(_ history: WeightHistory, network: Network) {
            let state = network.stateTensors
            snapshots = history.snapshots.filter { $0.fits(network) }
            slots = zip(state, WeightSnapshot.map(of: state).slots).map { tensor, slot in
                guard case .float(_, let layout) = tensor.content else { return (slot, nil) }
                return (slot, layout)
            }
            let stateDescriptors = state.map(StateDict.descriptor)
            var descriptors: [SafeTensors.Descriptor] = [], sources: [(snapshot: Int, tensor: Int?)] = []
            var records: [[String: Any]] = []
            for (index, snapshot) in snapshots.enumerated() {
                let prefix = "step_\(snapshot.step)."
                for (tensor, var descriptor) in stateDescriptors.enumerated() {
                    descriptor.name = prefix + descriptor.name
                    descriptors.append(descriptor)
                    sources.append((index, tensor))
                }
                var record: [String: Any] = ["step": snapshot.step, "epoch": snapshot.epoch]
                if let evaluation = snapshot.evaluation {
                    record["loss"] = Double(evaluation.loss)
                    record["accuracy"] = Double(evaluation.accuracy)
                    record["confusion"] = evaluation.confusion
                    descriptors.append(SafeTensors.Descriptor(name: prefix + "predictions", dtype: .u8, shape: [evaluation.predictions.count]))
                    sources.append((index, nil))
                }
                records.append(record)
            }
            self.descriptors = descriptors
            self.sources = sources
            // Sorted keys: the same history gives the same bytes in every process.
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let cadence = (try? encoder.encode(history.cadence)).flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
            metadata = [
                formatKey: formatValue, versionKey: version, specKey: network.spec.text, cadenceKey: cadence,
                snapshotsKey: (try? FiniteJSON.string(records)) ?? "[]",
            ]
        }

        /// The bytes of tensor `index` of `descriptors`.
        func bytes(_ index: Int) -> [UInt8] {
            let source = sources[index]
            let snapshot = snapshots[source.snapshot]
            guard let tensor = source.tensor else { return snapshot.evaluation?.predictions ?? [] }
            switch slots[tensor] {
            case let (.floats(offset, count), layout?):
                let values = snapshot.floats.withUnsafeBufferPointer { floats in
                    layout.toTorch(UnsafeBufferPointer(rebasing: floats[offset..<offset + count]))
                }
                return SafeTensors.Entry(name: descriptors[index].name, shape: layout.torchShape, floats: values).bytes
            case let (.counter(counter), _):
                return SafeTensors.Entry(name: descriptors[index].name, shape: [], int64s: [snapshot.counters[counter]]).bytes
            default:
                preconditionFailure("a float slot has its layout")
            }
        }
    }

    /// Reads the history at `path` for a run of `network`'s spec, with `cadence` (the current run's, whose budget
    /// then applies) or, when nil, the file's own. Throws `WeightHistoryFileError` naming the file and the problem.
    public static func load(_ path: String, network: Network, cadence: SnapshotCadence? = nil) throws -> WeightHistory {
        let file: SafeTensors
        do {
            file = try SafeTensors(contentsOf: path)
        } catch {
            throw WeightHistoryFileError(path: path, problem: "does not read: \(error)")
        }
        return try read(file, path: path, network: network, cadence: cadence)
    }

    /// `load` of a file already read.
    public static func read(_ file: SafeTensors, path: String, network: Network, cadence: SnapshotCadence? = nil) throws -> WeightHistory {
        func fail(_ problem: String) -> WeightHistoryFileError { WeightHistoryFileError(path: path, problem: problem) }
        guard file.metadata[formatKey] == formatValue else { throw fail("is not a convscope weight history (no format '\(formatValue)')") }
        guard file.metadata[versionKey] == version else {
            throw fail("has format version \(file.metadata[versionKey] ?? "none"), expected \(version)")
        }
        guard let spec = file.metadata[specKey], spec == network.spec.text else {
            throw fail("is for model '\(file.metadata[specKey] ?? "?")', not this run's '\(network.spec.text)'")
        }
        guard let text = file.metadata[snapshotsKey], let records = RunCheckpoint.parse(text) as? [[String: Any]] else {
            throw fail("has no readable snapshot list")
        }
        let fileCadence = file.metadata[cadenceKey].flatMap { try? JSONDecoder().decode(SnapshotCadence.self, from: Data($0.utf8)) }
        // Loaded unthinned, then held to the cadence's budget.
        var history = WeightHistory(cadence: SnapshotCadence(budgetBytes: .max))
        var byName: [String: SafeTensors.Entry] = [:]
        for entry in file.tensors { byName[entry.name] = entry }
        let scratch = network.copy()
        let names = scratch.stateTensors.map(\.name)
        var snapshots: [WeightSnapshot] = []
        for record in records {
            guard let step = (record["step"] as? NSNumber)?.intValue, step >= 0,
                let epoch = (record["epoch"] as? NSNumber)?.intValue, epoch >= 0
            else { throw fail("has a snapshot without a whole step and epoch") }
            let prefix = "step_\(step)."
            var tensors: [SafeTensors.Entry] = []
            for name in names {
                guard var entry = byName[prefix + name] else { throw fail("lacks tensor '\(prefix + name)'") }
                entry.name = name
                tensors.append(entry)
            }
            let state = SafeTensors(tensors: tensors)
            do {
                try StateDict.load(state, into: scratch.stateTensors, source: path)
                try StateDict.requireFinite(state, for: scratch.stateTensors, source: path)
            } catch {
                throw fail("snapshot at step \(step): \(error)")
            }
            var evaluation: Evaluation?
            if let confusion = record["confusion"] {
                let classes = network.classCount
                let matrix = (confusion as? [Any] ?? []).map { row in (row as? [Any] ?? []).map { ($0 as? NSNumber)?.intValue ?? -1 } }
                guard matrix.count == classes, matrix.allSatisfy({ $0.count == classes && $0.allSatisfy { $0 >= 0 } }),
                    let predictions = byName[prefix + "predictions"]?.uint8s, predictions.allSatisfy({ Int($0) < classes })
                else { throw fail("snapshot at step \(step) has an evaluation that is not \(classes) classes") }
                // A number beyond a Float's range reads as missing, as the writer would write the infinity it became.
                func float(_ value: Any?) -> Float? { FiniteJSON.number(value).map(Float.init).flatMap { $0.isFinite ? $0 : nil } }
                evaluation = Evaluation(
                    loss: float(record["loss"]) ?? .nan, accuracy: float(record["accuracy"]) ?? 0, confusion: matrix,
                    predictions: predictions)
            }
            snapshots.append(WeightSnapshot(capturing: scratch, step: step, epoch: epoch, evaluation: evaluation))
        }
        for snapshot in snapshots { history.add(snapshot) }
        history.cadence = cadence ?? fileCadence ?? SnapshotCadence()
        return history
    }
}

/// A weight history file that cannot serve this run.
public struct WeightHistoryFileError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let problem: String
    public var description: String { "weight history '\(path)' \(problem)" }
}
