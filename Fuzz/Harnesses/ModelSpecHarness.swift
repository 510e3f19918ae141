/// The spec language (`--model`, and the `spec` of every checkpoint): `ModelSpec(_:)`, then for small
/// specs the shape checks of `Network(spec:)`.
///
/// Contract: a spec or a `ModelSpecError`; a spec's text parses to the same layers, and so does the
/// canonical text `Token(operation:)` writes (what pruning stores).
enum ModelSpecHarness {
    static let harness = FuzzHarness(name: "spec", summary: "model spec strings", run: run)

    static func run(_ input: [UInt8]) {
        let text = String(decoding: input, as: UTF8.self)
        guard let spec = fuzzExpect("ModelSpec", { $0 is ModelSpecError }, { try ModelSpec(text) }) else { return }
        let operations = spec.tokens.map(\.operation)
        let again = fuzzExpect("ModelSpec of its own text", { _ in false }) { try ModelSpec(spec.text) }!
        fuzzCheck(again.tokens.map(\.operation) == operations, "'\(spec.text)' reads back differently")
        let canonical = ModelSpec(tokens: operations.map { ModelSpec.Token(operation: $0) }).text
        let reread = fuzzExpect("ModelSpec of the canonical text", { _ in false }) { try ModelSpec(canonical) }!
        fuzzCheck(reread.tokens.map(\.operation) == operations, "canonical '\(canonical)' reads back differently")
        if SafeTensorsHarness.isSmall(spec.text) {
            fuzzExpect("Network(spec:)", { $0 is ModelSpecError }) { try Network(spec: spec) }
        }
    }
}
