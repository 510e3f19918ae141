// libFuzzer entry points for ConvScope's parsers. These files are compiled into the `ConvKit` module
// itself (see Fuzz/fuzz.sh), so a harness reaches internal parsers such as `JSONValue` directly.
// One binary holds every harness; it runs the one named by its file name (`fuzz-<harness>`, a symlink)
// or by CONVSCOPE_FUZZ_HARNESS.

#if canImport(Glibc)
import Glibc
#endif

/// A fuzz target: feeds one input to a parser and checks the parser's contract, trapping on a breach.
struct FuzzHarness: Sendable {
    let name: String
    let summary: String
    let run: @Sendable ([UInt8]) -> Void
}

/// Every harness, by name.
let fuzzHarnesses: [FuzzHarness] = [
    SafeTensorsHarness.harness, CheckpointMetadataHarness.harness, MetricsHarness.harness, ModelSpecHarness.harness,
    PNGHarness.harness, CIFAR10Harness.harness, JSONHarness.harness, WeightHistoryHarness.harness,
]

/// The harness this process runs, chosen once in `LLVMFuzzerInitialize` before libFuzzer calls
/// `LLVMFuzzerTestOneInput`; libFuzzer runs inputs on one thread, so this is never raced.
nonisolated(unsafe) private var selected: FuzzHarness?

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    var name = getenv("CONVSCOPE_FUZZ_HARNESS").map { String(cString: $0) } ?? ""
    if name.isEmpty, let program = argv.pointee?.pointee {
        let base = String(cString: program).split(separator: "/").last.map(String.init) ?? ""
        if base.hasPrefix("fuzz-") { name = String(base.dropFirst("fuzz-".count)) }
    }
    guard let harness = fuzzHarnesses.first(where: { $0.name == name }) else {
        let known = fuzzHarnesses.map { "  fuzz-\($0.name): \($0.summary)" }.joined(separator: "\n")
        print("convscope-fuzz: run me as fuzz-<harness> or set CONVSCOPE_FUZZ_HARNESS; the harnesses:\n\(known)")
        exit(2)
    }
    selected = harness
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    selected!.run(input)
    return 0
}

/// Runs `body`, which must either return or throw an error that `expected` accepts; any other error is a
/// breach of the parser's contract (an untyped or foreign error leaking out), reported by trapping.
@discardableResult
func fuzzExpect<T>(_ what: String, _ expected: (any Error) -> Bool, _ body: () throws -> T) -> T? {
    do {
        return try body()
    } catch {
        if expected(error) { return nil }
        fatalError("\(what) threw an unexpected error: \(type(of: error)): \(error)")
    }
}

/// Traps with `message` unless `condition` holds (a contract check that stays on in every build).
func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError(message()) }
}
