#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file could not be read or written: names the file, what was being done and the system's reason.
///
/// `description` is one line, for example
/// `cannot write 'runs/model.safetensors': cannot create a temporary file in 'runs': No such file or directory`.
public struct FileError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file the operation was about.
    public let path: String
    /// What was being done: `read` or `write`.
    public let action: String
    /// Why it failed, usually the text of `errno`.
    public let reason: String

    public init(path: String, action: String, reason: String) {
        self.path = path
        self.action = action
        self.reason = reason
    }

    public var description: String { "cannot \(action) \(quotedPath(path)): \(reason)" }

    /// The text of the current `errno` (call it right after the failing system call).
    public static func errnoText(_ code: Int32 = errno) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }
}

/// `'path'`, with control characters escaped so that a message stays on one line.
public func quotedPath(_ path: String) -> String { "'" + oneLine(path) + "'" }

/// `text` with newlines, tabs and other control characters written as escapes.
public func oneLine(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return text }
    var result = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\n": result += "\\n"
        case "\r": result += "\\r"
        case "\t": result += "\\t"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F:
            result += "\\u{" + String(scalar.value, radix: 16) + "}"
        default: result.unicodeScalars.append(scalar)
        }
    }
    return result
}
