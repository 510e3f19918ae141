import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fresh temporary directory, removed when the test ends.
public func makeTemporaryDirectory(_ test: XCTestCase, file: StaticString = #filePath, line: UInt = #line) throws -> String {
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
public func directoryListing(_ directory: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
}

/// Asserts that `body` throws an error of type `E` and returns it.
@discardableResult
public func assertThrows<E: Error, T>(
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

/// Runs `body` with writes limited to `bytes` per file (`RLIMIT_FSIZE`), so that a large write fails
/// with `EFBIG` the way it would on a full disk, even as root.
public func withFileSizeLimit<T>(_ bytes: Int, _ body: () throws -> T) rethrows -> T {
    var old = rlimit()
    getrlimit(Int32(RLIMIT_FSIZE.rawValue), &old)
    let oldHandler = signal(SIGXFSZ, SIG_IGN)
    var limited = old
    limited.rlim_cur = rlim_t(bytes)
    setrlimit(Int32(RLIMIT_FSIZE.rawValue), &limited)
    defer {
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &old)
        signal(SIGXFSZ, oldHandler)
    }
    return try body()
}
