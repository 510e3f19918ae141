/// The safetensors header and data: `SafeTensors(bytes:)`, then what ConvScope does with a file that
/// reads: load it into a small model (`StateDict.load`), build the model its metadata names when that
/// model is small (`RunCheckpoint.load`, `QuantizedNetwork.load`).
///
/// Contract: a value or a `SafeTensorsError` / `CheckpointError` / `RunCheckpointError`; a file that
/// reads writes back to bytes that read as the same tensors and metadata.
enum SafeTensorsHarness {
    static let harness = FuzzHarness(name: "safetensors", summary: "safetensors header and data, checkpoint loading", run: run)

    /// A small fixed model that files are loaded into (its state names are the seeds' tensors).
    nonisolated(unsafe) static let model = try! Network(spec: ModelSpec(smallSpec))
    static let smallSpec = "conv4,bn,relu,gap,fc10"

    static func isExpected(_ error: any Error) -> Bool {
        error is SafeTensorsError || error is CheckpointError || error is RunCheckpointError || error is ModelSpecError
    }

    static func run(_ input: [UInt8]) {
        guard let file = fuzzExpect("SafeTensors(bytes:)", isExpected, { try SafeTensors(bytes: input, source: "fuzz") }) else {
            return
        }
        for entry in file.tensors {
            fuzzCheck(entry.bytes.count == entry.elementCount * entry.dtype.size, "entry '\(entry.name)' byte count")
        }
        // Round trip: what we write reads back as the same tensors (in layout order) and metadata.
        let again = fuzzExpect("SafeTensors(data:) of our own bytes", { _ in false }) { try SafeTensors(data: file.data()) }!
        fuzzCheck(again.metadata == file.metadata, "metadata changed in a round trip")
        let before = Dictionary(file.tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        fuzzCheck(again.tensors.count == file.tensors.count, "tensor count changed in a round trip")
        for entry in again.tensors { fuzzCheck(before[entry.name] == entry, "tensor '\(entry.name)' changed in a round trip") }

        fuzzExpect("StateDict.load", isExpected) { try StateDict.load(file, into: model.stateTensors, source: "fuzz") }
        // Models named by the metadata are built only when small: a big one is the memory estimate's to refuse.
        if let spec = file.metadata[RunCheckpoint.specKey], isSmall(spec) {
            fuzzExpect("RunCheckpoint.load", isExpected) { try RunCheckpoint.load(file, path: "fuzz") }
            fuzzExpect("QuantizedNetwork.load", isExpected) { try QuantizedNetwork.load(file, path: "fuzz") }
        }
    }

    /// At most 8 layers, 16 channels and 5-pixel windows: a model of a few thousand parameters.
    static func isSmall(_ text: String) -> Bool {
        guard let spec = try? ModelSpec(text), spec.tokens.count <= 8 else { return false }
        return spec.tokens.allSatisfy { token in
            switch token.operation {
            case let .conv(c, k, s, p): return c <= 16 && k <= 5 && s <= 5 && p <= 5
            case let .maxPool(k, s), let .avgPool(k, s): return k <= 5 && s <= 5
            case let .fc(n): return n <= 16
            case let .residual(c, s, m): return c <= 16 && s <= 5 && m <= 16
            default: return true
            }
        }
    }
}
