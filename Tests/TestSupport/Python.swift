import Foundation
import Synchronization

/// The one place the tests find a Python: `CONVSCOPE_PYTHON`, then the PyTorch reference's venv
/// `~/torchref/bin/python` (see /work/shared/bench/README.md), then `python3` on the `PATH`; the first that
/// imports every module asked for. Answers are remembered per module set (starting torch takes seconds).
public enum PythonFinder {
    private static let found = Mutex<[String: String?]>([:])

    /// A Python that imports all of `modules`, or nil.
    public static func python(importing modules: [String]) -> String? {
        let key = modules.joined(separator: ",")
        if let known = found.withLock({ $0[key] }) { return known }
        let probe = modules.map { "import \($0)" }.joined(separator: "; ")
        let python = candidates().first { candidate in
            (try? TestProcess.run(candidate, ["-c", probe]))?.status == 0
        }
        found.withLock { $0[key] = .some(python) }
        return python
    }

    /// A Python with torch, safetensors and numpy: what every comparison with PyTorch needs.
    public static func torch() -> String? {
        python(importing: ["torch", "safetensors", "numpy"])
    }

    /// The interpreters to try, in order, that exist and are executable.
    public static func candidates() -> [String] {
        let environment = ProcessInfo.processInfo.environment
        var paths: [String] = []
        if let custom = environment["CONVSCOPE_PYTHON"], !custom.isEmpty { paths.append(custom) }
        paths.append(NSHomeDirectory() + "/torchref/bin/python")
        for folder in (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            paths.append(String(folder) + "/python3")
        }
        var seen = Set<String>()
        return paths.filter { FileManager.default.isExecutableFile(atPath: $0) && seen.insert($0).inserted }
    }

    /// Runs `script` (Python source) with `python`, passing `arguments` to it as `sys.argv[1:]`.
    public static func run(
        _ python: String, script: String, arguments: [String] = []
    ) throws -> (status: Int32, output: String, errors: String) {
        try TestProcess.run(python, ["-c", script] + arguments)
    }
}
