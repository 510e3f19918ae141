import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fresh temporary directory, removed when the test ends.
func makeTemporaryDirectory(_ test: XCTestCase, file: StaticString = #filePath, line: UInt = #line) throws -> String {
    var template = Array((NSTemporaryDirectory() + "/convkit-io-XXXXXX").utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    guard made != nil else {
        XCTFail("mkdtemp failed", file: file, line: line)
        throw CocoaError(.fileWriteUnknown)
    }
    let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    test.addTeardownBlock {
        _ = chmod(path, 0o755)
        try? FileManager.default.removeItem(atPath: path)
    }
    return path
}

/// The names in `directory`, sorted.
func directoryListing(_ directory: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
}

/// A Python interpreter that can `import` all of `modules`, or nil: `CONVSCOPE_PYTHON`, then
/// `python3`, then the reference venv `~/torchref/bin/python`.
func pythonWith(_ modules: [String]) -> String? {
    var candidates: [String] = []
    if let custom = ProcessInfo.processInfo.environment["CONVSCOPE_PYTHON"] { candidates.append(custom) }
    candidates.append("/usr/bin/env python3")
    candidates.append(NSHomeDirectory() + "/torchref/bin/python")
    let probe = modules.map { "import \($0)" }.joined(separator: "; ")
    for candidate in candidates {
        if let result = try? runPython(candidate, script: probe), result.status == 0 { return candidate }
    }
    return nil
}

/// Runs `script` with `python` (a path, or `/usr/bin/env python3`) and returns its exit status and output.
func runPython(_ python: String, script: String, arguments: [String] = []) throws -> (status: Int32, output: String, errors: String) {
    let process = Process()
    let parts = python.split(separator: " ").map(String.init)
    process.executableURL = URL(fileURLWithPath: parts[0])
    process.arguments = Array(parts.dropFirst()) + ["-c", script] + arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

/// Asserts that `body` throws an error of type `E` and returns it.
@discardableResult
func assertThrows<E: Error, T>(
    _ errorType: E.Type, _ message: String = "", file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> T
) -> E? {
    do {
        _ = try body()
        XCTFail("expected \(E.self) but nothing was thrown. \(message)", file: file, line: line)
    } catch let error as E {
        let text = String(describing: error)
        XCTAssertFalse(text.contains("\n"), "error message must be one line: \(text)", file: file, line: line)
        return error
    } catch {
        XCTFail("expected \(E.self), got \(type(of: error)): \(error). \(message)", file: file, line: line)
    }
    return nil
}
