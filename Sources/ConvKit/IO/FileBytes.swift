#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads whole files into memory with errors that name the file and the system's reason.
public enum FileBytes {
    /// The contents of the regular file at `path`.
    ///
    /// Throws `FileError` when the file is missing, unreadable, a directory, or larger than `limit` bytes.
    public static func read(_ path: String, limit: Int = Int.max) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(path: path, action: "read", reason: FileError.errnoText()) }
        defer { close(fd) }

        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileError(path: path, action: "read", reason: FileError.errnoText()) }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            throw FileError(path: path, action: "read", reason: "it is a directory, not a file")
        }
        let size = Int(info.st_size)
        guard size <= limit else {
            throw FileError(path: path, action: "read", reason: "the file has \(size) bytes, more than the limit of \(limit)")
        }

        // Read until end of file: the size is only a hint (some files report 0 or grow meanwhile).
        var bytes = [UInt8](repeating: 0, count: size + 1)
        var filled = 0
        while true {
            if filled == bytes.count {
                guard filled <= limit else {
                    throw FileError(path: path, action: "read", reason: "the file has more than the limit of \(limit) bytes")
                }
                bytes.append(contentsOf: repeatElement(0, count: max(bytes.count, 4096)))
            }
            let got = bytes.withUnsafeMutableBytes { raw in
                systemRead(fd, raw.baseAddress! + filled, raw.count - filled)
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw FileError(path: path, action: "read", reason: FileError.errnoText())
            }
            if got == 0 { break }
            filled += got
        }
        guard filled <= limit else {
            throw FileError(path: path, action: "read", reason: "the file has more than the limit of \(limit) bytes")
        }
        bytes.removeSubrange(filled...)
        return bytes
    }
}

extension FileBytes {
    /// Up to the first `count` bytes of the file at `path` (fewer when the file is shorter).
    public static func readPrefix(_ path: String, count: Int) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(path: path, action: "read", reason: FileError.errnoText()) }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = bytes.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress! + filled, count - filled) }
            if got < 0 {
                if errno == EINTR { continue }
                let reason = errno == EISDIR ? "it is a directory, not a file" : FileError.errnoText()
                throw FileError(path: path, action: "read", reason: reason)
            }
            if got == 0 { break }
            filled += got
        }
        return Array(bytes[0..<filled])
    }
}

extension FileBytes {
    /// The size in bytes of the file at `path`, as `stat(2)` reports it.
    public static func size(_ path: String) throws -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else { throw FileError(path: path, action: "read", reason: FileError.errnoText()) }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            throw FileError(path: path, action: "read", reason: "it is a directory, not a file")
        }
        return Int(info.st_size)
    }
}

/// `read(2)`, under a name that `FileBytes.read` does not shadow.
@inline(__always)
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}
