#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Follows a JSON-lines metrics file that another process appends to: each `read()` returns the records
/// of the lines completed since the previous call.
///
/// A line counts once its newline is there, so a line caught half-written is read on a later call. A line
/// that is not a metrics record (not JSON, no `step`, a value of the wrong type) is skipped with a reason
/// naming its line number; so is a line longer than `maximumLineLength`, without holding it in memory.
/// When the file is replaced (another inode) or becomes shorter than what was read, reading starts again
/// from its beginning and the result says so, so the caller can drop what it had. At most
/// `maximumReadPerCall` bytes are read per call; the rest follows on the next.
public struct MetricsTail: Sendable {
    public let path: String
    /// Bytes consumed: the end of the last complete line read.
    public private(set) var offset = 0
    /// Lines consumed.
    public private(set) var lineNumber = 0
    private var identity: (device: UInt64, inode: UInt64)?
    /// Inside a line longer than the limit: its bytes are passed over up to its newline.
    private var skippingLongLine = false

    public static let maximumLineLength = 1 << 20
    public static let maximumReadPerCall = 16 << 20

    /// What one `read()` found.
    public struct Batch: Sendable {
        public var records: [MetricsRecord] = []
        /// Lines skipped, and a restart, with reasons.
        public var issues: [RunDirectoryIssue] = []
        /// The file was replaced or truncated: `records` start from its beginning again.
        public var restarted = false
    }

    public init(path: String) {
        self.path = path
    }

    private var name: String { path.split(separator: "/").last.map(String.init) ?? path }

    public mutating func read() -> Batch {
        var batch = Batch()
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            // Not there yet (the run has not written a line) is normal; anything else is worth saying.
            if errno != ENOENT {
                batch.issues.append(RunDirectoryIssue(file: name, problem: .unreadable(FileError.errnoText())))
            }
            return batch
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return batch }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            batch.issues.append(RunDirectoryIssue(file: name, problem: .notARegularFile))
            return batch
        }
        let current = (device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        let size = Int(info.st_size)
        if let identity, identity != current || size < offset {
            let problem: RunDirectoryIssue.Problem = identity != current ? .replaced : .shrank(size: size, read: offset)
            batch.issues.append(RunDirectoryIssue(file: name, problem: problem))
            batch.restarted = true
            offset = 0
            lineNumber = 0
            skippingLongLine = false
        }
        identity = current
        guard size > offset else { return batch }

        let count = min(size - offset, MetricsTail.maximumReadPerCall)
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + filled, count - filled, off_t(offset + filled)) }
            if got < 0 && errno == EINTR { continue }
            if got <= 0 { break }
            filled += got
        }
        bytes.withUnsafeBufferPointer { all in
            let buffer = UnsafeBufferPointer(rebasing: all[0..<filled])
            var start = 0
            while let newline = buffer[start...].firstIndex(of: 0x0A) {
                consumeLine(UnsafeBufferPointer(rebasing: buffer[start..<newline]), into: &batch)
                start = newline + 1
            }
            offset += start
            // What is left is a line still being written, unless it is already longer than any line may be.
            let pending = filled - start
            if pending >= MetricsTail.maximumLineLength || (skippingLongLine && pending > 0) {
                if !skippingLongLine {
                    lineNumber += 1
                    batch.issues.append(
                        RunDirectoryIssue(
                            file: name, line: lineNumber, problem: .lineTooLong(limit: MetricsTail.maximumLineLength)))
                    skippingLongLine = true
                }
                offset += pending
            }
        }
        return batch
    }

    private mutating func consumeLine(_ line: UnsafeBufferPointer<UInt8>, into batch: inout Batch) {
        if skippingLongLine {
            skippingLongLine = false  // the rest of the long line, already reported
            return
        }
        lineNumber += 1
        if line.count > MetricsTail.maximumLineLength {
            batch.issues.append(
                RunDirectoryIssue(file: name, line: lineNumber, problem: .lineTooLong(limit: MetricsTail.maximumLineLength)))
            return
        }
        // Blank lines (and a CR before the newline) are allowed.
        guard line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { return }
        do throws(MetricsRecordError) {
            batch.records.append(try MetricsRecord(jsonLine: line))
        } catch {
            batch.issues.append(RunDirectoryIssue(file: name, line: lineNumber, problem: .notARecord(error)))
        }
    }
}
