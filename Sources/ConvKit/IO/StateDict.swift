/// Saves and restores a model's state (`[StateTensor]`) as safetensors, with PyTorch's tensor names,
/// shapes and element order (PyTorch's `state_dict`), so `load_state_dict` in PyTorch accepts the file and
/// we accept PyTorch's. A training run's checkpoint (`RunCheckpoint`) is one of these plus the run's
/// config, history and optimiser state.
///
/// Float tensors go through `TensorLayout.toTorch` / `fromTorch` (convolution weights become OIHW)
/// and round-trip bit-exactly; counters are 0-dimensional I64 tensors, like
/// `num_batches_tracked`. Tensors named `optimizer.*` are extra state a trainer may add to the same
/// file; loading the model ignores them.
public enum StateDict {
    /// Names with this prefix are not part of the model and are ignored by `load`.
    public static let optimizerPrefix = "optimizer."
    /// Pruning masks (`mask.<parameter>`, U8, 1 keeps) also ride along outside the model's state.
    public static let maskPrefix = "mask."

    /// The state as safetensors entries in PyTorch order, one per state tensor, in the same order.
    public static func entries(from state: [StateTensor]) -> [SafeTensors.Entry] {
        state.map(entry)
    }

    /// One state tensor as a safetensors entry in PyTorch order.
    public static func entry(_ tensor: StateTensor) -> SafeTensors.Entry {
        switch tensor.content {
        case let .float(buffer, layout):
            precondition(buffer.capacity >= layout.count, "'\(tensor.name)': buffer smaller than its layout")
            let values = layout.toTorch(UnsafeBufferPointer(buffer.prefix(layout.count)))
            return SafeTensors.Entry(name: tensor.name, shape: layout.torchShape, floats: values)
        case let .int64(counter):
            return SafeTensors.Entry(name: tensor.name, shape: [], int64s: [counter.value])
        }
    }

    /// What `entry` gives for `tensor`, without its bytes: the name, element type and PyTorch shape.
    public static func descriptor(_ tensor: StateTensor) -> SafeTensors.Descriptor {
        switch tensor.content {
        case let .float(_, layout): SafeTensors.Descriptor(name: tensor.name, dtype: .f32, shape: layout.torchShape)
        case .int64: SafeTensors.Descriptor(name: tensor.name, dtype: .i64, shape: [])
        }
    }

    /// The state and `metadata` as a safetensors file image.
    public static func safeTensors(from state: [StateTensor], metadata: [String: String] = [:]) -> SafeTensors {
        SafeTensors(tensors: entries(from: state), metadata: metadata)
    }

    /// Writes the state to `path` atomically.
    public static func save(_ state: [StateTensor], metadata: [String: String] = [:], to path: String) throws {
        try safeTensors(from: state, metadata: metadata).write(to: path)
    }

    /// Reads `path` and loads it into `state`; returns the whole file (metadata, optimizer tensors).
    @discardableResult
    public static func load(from path: String, into state: [StateTensor]) throws -> SafeTensors {
        let file = try SafeTensors(contentsOf: path)
        try load(file, into: state, source: path)
        return file
    }

    /// Copies `file`'s tensors into `state`, all or nothing.
    ///
    /// Every tensor of `state` must be present with the same PyTorch shape and the matching dtype
    /// (F32 for floats, I64 for counters), and the file may hold no other tensors except `optimizer.*`
    /// and `mask.*`. Values are copied bit for bit, NaN payloads included: refusing a model whose weights
    /// are not finite is the model checkpoint's job (`RunCheckpoint.load`, `requireFinite`).
    /// Nothing is changed unless all checks pass; the error describes the first problem in model order
    /// and counts the others. `source` names the file in errors.
    public static func load(_ file: SafeTensors, into state: [StateTensor], source: String = "checkpoint") throws {
        var byName: [String: SafeTensors.Entry] = [:]
        for entry in file.tensors { byName[entry.name] = entry }
        var problems: [CheckpointError] = []
        func problem(_ tensor: String, _ kind: CheckpointError.Kind, _ text: String) {
            problems.append(CheckpointError(source: source, tensor: tensor, kind: kind, problem: text))
        }

        let expectedNames = Set(state.map(\.name))
        for tensor in state {
            let expectedShape = tensor.torchShape
            let expectedType: SafeTensors.DType
            if case .int64 = tensor.content { expectedType = .i64 } else { expectedType = .f32 }
            guard let entry = byName[tensor.name] else {
                problem(tensor.name, .missing, "is missing (expected \(expectedType.rawValue) of shape \(expectedShape))")
                continue
            }
            if entry.shape != expectedShape {
                problem(tensor.name, .shapeMismatch, "has shape \(entry.shape), expected \(expectedShape)")
            } else if entry.dtype != expectedType {
                problem(tensor.name, .dtypeMismatch, "has dtype \(entry.dtype.rawValue), expected \(expectedType.rawValue)")
            }
        }
        for entry in file.tensors where !expectedNames.contains(entry.name) && !entry.name.hasPrefix(optimizerPrefix)
            && !entry.name.hasPrefix(maskPrefix)
        {
            problem(entry.name, .unexpected, "is not part of this model (shape \(entry.shape), dtype \(entry.dtype.rawValue))")
        }
        if var first = problems.first {
            first.othersCount = problems.count - 1
            throw first
        }

        for tensor in state {
            let entry = byName[tensor.name]!
            switch tensor.content {
            case let .float(buffer, layout):
                layout.fromTorch(entry.floats!, into: buffer.prefix(layout.count))
            case let .int64(counter):
                counter.value = entry.int64s![0]
            }
        }
    }
}

extension StateDict {
    /// Throws when the F32 `entry` holds a NaN or an infinity (a diverged run's weights): such a model
    /// cannot compute anything, and every view and number drawn from it would be NaN.
    public static func requireFinite(_ entry: SafeTensors.Entry, source: String) throws(CheckpointError) {
        if let problem = nonFiniteProblem(entry, source: source) { throw problem }
    }

    /// `requireFinite` for every tensor of `file` that `state` names, in the file's order.
    public static func requireFinite(_ file: SafeTensors, for state: [StateTensor], source: String) throws(CheckpointError) {
        let names = Set(state.map(\.name))
        for entry in file.tensors where names.contains(entry.name) { try requireFinite(entry, source: source) }
    }

    static func nonFiniteProblem(_ entry: SafeTensors.Entry, source: String) -> CheckpointError? {
        guard entry.dtype == .f32, let index = entry.bytes.withUnsafeBytes({ FiniteCheck.firstNonFiniteFloat32($0) }) else { return nil }
        let value = entry.bytes.withUnsafeBytes { Float(bitPattern: UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self))) }
        let text = value.isNaN ? "NaN" : (value > 0 ? "inf" : "-inf")
        return CheckpointError(
            source: source, tensor: entry.name, kind: .nonFinite,
            problem: "holds \(text) (element \(index) of \(entry.shape)): the run that wrote it diverged; use an earlier checkpoint")
    }
}

/// A checkpoint does not fit the model (a tensor missing, unexpected, or of the wrong shape or dtype), or
/// holds a NaN or an infinity.
///
/// `description` is one line, for example
/// `checkpoint 'run1/model.safetensors': tensor 'fc.weight' has shape [10, 512], expected [10, 256] (and 2 more problems)`.
public struct CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What is wrong with the tensor.
    public enum Kind: Sendable, Equatable {
        case missing, unexpected, shapeMismatch, dtypeMismatch
        /// A weight or statistic is NaN or infinite.
        case nonFinite
    }

    /// The checkpoint file (or other source).
    public let source: String
    /// The first offending tensor.
    public let tensor: String
    public let kind: Kind
    /// The problem, phrased to follow the tensor's name.
    public let problem: String
    /// How many further problems the checkpoint has.
    public var othersCount = 0

    public var description: String {
        let more = othersCount == 0 ? "" : " (and \(othersCount) more problem\(othersCount == 1 ? "" : "s"))"
        return "checkpoint \(quotedPath(source)): tensor '\(oneLine(tensor))' \(problem)\(more)"
    }
}
