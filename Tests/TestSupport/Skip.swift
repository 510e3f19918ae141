import XCTest

/// Why a test could not run. Every skip in the suite goes through `skip(_:_:)`, which prints its reason
/// as a tag (`SKIPPED LOUDLY [no-cifar10]: ...`), so that CI's strict mode (`tools/strict-skips`, used by
/// `.ci/run` when the data and the PyTorch reference are present) can fail every skip whose reason is not
/// on its short allow-list: the cases below marked *allowed*. A skip for any other reason means the machine
/// lacks something `make deps` should have installed, or a test that cannot run where CI runs.
public enum SkipReason: String, CaseIterable, Sendable {
    /// No CIFAR-10 at `CONVSCOPE_DATA` (allowed).
    case noCIFAR10 = "no-cifar10"
    /// No Python with torch (and safetensors, numpy), or no PyTorch reference scripts (allowed).
    case noTorch = "no-torch"
    /// The process's rights are not what the test needs (allowed): running as root, which no permission
    /// denies, or not as root, which cannot mount a file system.
    case privileges = "privileges"
    /// The CPU cannot run a kernel path (allowed).
    case cpuLacksKernelPath = "cpu-path"
    /// tmux is not installed.
    case noTmux = "no-tmux"
    /// No python3, or one without a package other than torch (safetensors, numpy).
    case noPython = "no-python"
    /// A system tool is missing (md5sum).
    case noTool = "no-tool"
    /// The file system cannot give the test what it needs (a sparse file).
    case environment = "environment"

    /// Whether strict mode lets this reason pass (the allow-list; `tools/strict-skips` holds the same tags,
    /// which a test checks).
    public var isAllowedInStrictMode: Bool {
        switch self {
        case .noCIFAR10, .noTorch, .privileges, .cpuLacksKernelPath: true
        case .noTmux, .noPython, .noTool, .environment: false
        }
    }
}

/// A skip to throw: `throw skip(.noCIFAR10, "CONVSCOPE_DATA is not set, so ... did not run")`.
public func skip(_ reason: SkipReason, _ detail: String, file: StaticString = #file, line: UInt = #line) -> XCTSkip {
    XCTSkip("SKIPPED LOUDLY [\(reason.rawValue)]: \(detail)", file: file, line: line)
}

/// Throws `skip(reason, detail)` unless `condition` holds.
public func skipUnless(
    _ condition: Bool, _ reason: SkipReason, _ detail: @autoclosure () -> String, file: StaticString = #file, line: UInt = #line
) throws {
    if !condition { throw skip(reason, detail(), file: file, line: line) }
}
