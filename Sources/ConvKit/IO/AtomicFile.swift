#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CCleanup
import Foundation

/// Writes files all or nothing: the bytes go to a temporary file in the same directory, which is
/// flushed, synced and then renamed over the target (and the directory synced, so the rename lasts).
///
/// Readers see either the old file or the complete new one, never a partial file. When anything
/// fails (the directory is missing or read-only, the disk is full, the caller's encoder throws) the
/// temporary file is removed, an existing file at the path is left as it was, and a `FileError`
/// naming the path and the reason is thrown (errors thrown by the caller's closure pass through).
///
/// Temporaries are named `.<name>.tmp-<pid>-<n>` and registered with `CCleanup`, whose signal handlers
/// (the command line's, and the app's in `CTerminal`) delete them when SIGINT, SIGTERM, SIGHUP or a crash
/// ends the process mid-write; temporaries of this name left by a process that no longer exists (killed
/// with SIGKILL, or a power cut) are deleted by the next write.
///
/// A new file gets mode `0666` less the process umask; a replaced file keeps its mode. A target that
/// is a device, FIFO or socket is refused rather than replaced.
public enum AtomicFile {
    /// Writes `data` to `path` atomically.
    public static func write(_ data: Data, to path: String) throws {
        try write(to: path) { file in
            try data.withUnsafeBytes { try writeAll($0, to: file, path: path) }
        }
    }

    /// Writes `bytes` to `path` atomically.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try write(to: path) { file in
            try bytes.withUnsafeBytes { try writeAll($0, to: file, path: path) }
        }
    }

    /// Creates a temporary file next to `path`, lets `body` write it through a `FILE*` (for C
    /// encoders such as libpng), then renames it over `path`.
    ///
    /// `body` must not close the stream. If it throws, or flushing, syncing, closing or renaming
    /// fails, the temporary file is removed and the error is thrown.
    public static func write(to path: String, _ body: (UnsafeMutablePointer<FILE>) throws -> Void) throws {
        try replace(path) { file, _ in try body(file) }
    }

    /// Like `write(to:_:)`, for encoders that want a file name: `body` receives the path of an empty
    /// temporary file next to `path` and may overwrite or truncate it (not move or delete it); the
    /// file is then synced and renamed over `path`.
    public static func write(to path: String, usingTemporaryPath body: (String) throws -> Void) throws {
        try replace(path) { _, temporaryPath in try body(temporaryPath) }
    }

    /// The machinery of both `write(to:)` variants: `body` gets the open stream and the temporary path.
    private static func replace(_ path: String, _ body: (UnsafeMutablePointer<FILE>, String) throws -> Void) throws {
        func failure(_ reason: String) -> FileError { FileError(path: path, action: "write", reason: reason) }

        guard !path.isEmpty else { throw failure("the path is empty") }
        guard !path.hasSuffix("/") else { throw failure("the path names a directory, not a file") }
        let directory: String
        if let slash = path.lastIndex(of: "/") {
            directory = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            directory = "."
        }
        let name = path.split(separator: "/").last.map(String.init) ?? path

        var existing = stat()
        if stat(path, &existing) == 0 {
            let kind = existing.st_mode & S_IFMT
            if kind == S_IFCHR || kind == S_IFBLK || kind == S_IFIFO || kind == S_IFSOCK {
                throw failure("it is a device, FIFO or socket, not a regular file; give a file path")
            }
        }

        // The temporary file: hidden, same directory (so the rename stays on one file system).
        let prefix: String = (directory == "/" ? "/" : directory + "/") + temporaryPrefix(for: name)
        removeAbandonedTemporaries(in: directory, name: name)
        var pathBuffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        var slot: Int32 = -1
        let fd = ccleanup_create_temporary(prefix, &pathBuffer, pathBuffer.count, &slot)
        guard fd >= 0 else {
            throw failure("cannot create a temporary file in \(quotedPath(directory)): \(FileError.errnoText())")
        }
        let temporaryPath = pathBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var renamed = false
        defer {
            if !renamed { unlink(temporaryPath) }
            ccleanup_forget_temporary(slot)
        }

        _ = fchmod(fd, modeForReplacing(path))
        guard let file = fdopen(fd, "wb") else {
            let reason = FileError.errnoText()
            close(fd)
            throw failure("cannot open the temporary file: \(reason)")
        }
        do {
            try body(file, temporaryPath)
            guard fflush(file) == 0, ferror(file) == 0 else {
                throw failure("writing failed: \(FileError.errnoText())")
            }
            guard fsync(fileno(file)) == 0 else { throw failure("syncing to disk failed: \(FileError.errnoText())") }
        } catch {
            fclose(file)
            throw error
        }
        // fclose can still report a deferred write error (for example on network file systems).
        guard fclose(file) == 0 else { throw failure("closing the file failed: \(FileError.errnoText())") }
        guard rename(temporaryPath, path) == 0 else {
            throw failure("cannot move the new file into place: \(FileError.errnoText())")
        }
        renamed = true
        // The rename is durable once the directory is synced (best effort: some file systems refuse).
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    /// The start of the temporary names for a file called `name`: `.<name>.tmp-`, then `<pid>-<n>`.
    static func temporaryPrefix(for name: String) -> String { "." + name + ".tmp-" }

    /// Deletes temporaries for `name` in `directory` whose process is gone (the pid in their name names
    /// no process): what a SIGKILL or a power cut mid-write leaves. Others' temporaries are left alone.
    private static func removeAbandonedTemporaries(in directory: String, name: String) {
        let prefix = temporaryPrefix(for: name)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for entry in names where entry.hasPrefix(prefix) {
            let rest = entry.dropFirst(prefix.count)
            guard let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]), pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink((directory as NSString).appendingPathComponent(entry)) }
        }
    }

    /// Writes all of `bytes` to `file` or throws naming `path`.
    ///
    /// In pieces of `chunkSize`: a signal that arrives during one `write(2)` is delivered only when it
    /// returns, and one call for a checkpoint of hundreds of megabytes held a Ctrl-C back for most of a
    /// second (two in a row then merged into one).
    static func writeAll(_ bytes: UnsafeRawBufferPointer, to file: UnsafeMutablePointer<FILE>, path: String) throws {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        var offset = 0
        while offset < bytes.count {
            let length = min(chunkSize, bytes.count - offset)
            let written = fwrite(base + offset, 1, length, file)
            offset += written
            guard written == length else {
                throw FileError(
                    path: path, action: "write", reason: "writing failed after \(offset) of \(bytes.count) bytes: \(FileError.errnoText())")
            }
        }
    }

    /// Bytes per `write(2)` of `writeAll`.
    static let chunkSize = 4 << 20

    /// The mode for the new file: the existing file's permissions, or `0666` less the umask.
    private static func modeForReplacing(_ path: String) -> mode_t {
        var info = stat()
        if stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG { return info.st_mode & 0o7777 }
        return 0o666 & ~processUmask
    }

    /// The process umask, read from `/proc/self/status` on Linux (reading it with `umask(2)` would have
    /// to change it for a moment, racing other threads that create files); `022` when unknown.
    private static let processUmask: mode_t = {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Umask:") }),
           let value = mode_t(line.dropFirst("Umask:".count).trimmingCharacters(in: .whitespaces), radix: 8) {
            return value
        }
        return 0o022
    }()
}
