#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A checkpoint in a run directory, as its header describes it: found by reading the header only, so
/// listing a folder of large checkpoints costs a few kilobytes each.
///
/// `inspect` accepts a file only when it is a complete safetensors file (its size is exactly what its
/// header describes: a file cut short is refused) whose metadata has a model spec that parses and a
/// step. The tensors themselves are checked when `load()` builds the network.
public struct RunCheckpointEntry: Sendable, Equatable {
    /// File name inside the checkpoints folder, and full path.
    public let name: String
    public let path: String
    public let step: Int
    /// Epochs completed when it was saved (0 when not recorded).
    public let epoch: Int
    public let spec: String
    public let metadata: [String: String]

    /// Reads the header of `path` (named `name` in the folder) and checks it; throws the reason it is skipped.
    public static func inspect(path: String, name: String) throws(RunDirectoryIssue) -> RunCheckpointEntry {
        let file = RunLayout.checkpointsFolder + "/" + name
        func refuse(_ reason: String) -> RunDirectoryIssue { RunDirectoryIssue(file: file, reason: reason) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw refuse("cannot be read: \(FileError.errnoText())") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { throw refuse("is not a regular file: skipped") }
        let size = Int(info.st_size)

        guard size >= 8, let lengthBytes = readExactly(fd, count: 8, at: 0) else {
            throw refuse("is truncated (\(size) bytes, less than a safetensors header): skipped")
        }
        let headerLength = lengthBytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(SafeTensors.maximumHeaderLength) else {
            throw refuse("is not a safetensors file (header length \(headerLength)): skipped")
        }
        guard UInt64(size - 8) >= headerLength, let header = readExactly(fd, count: Int(headerLength), at: 8) else {
            throw refuse("is truncated: its header should be \(headerLength) bytes but only \(size - 8) follow: skipped")
        }
        let json: JSONValue
        do {
            json = try header.withUnsafeBufferPointer { bytes throws(JSONError) in try JSONValue.parse(bytes) }
        } catch {
            throw refuse("is not a safetensors file (its header is not JSON: \(error.message)): skipped")
        }
        guard case .object(let members) = json else { throw refuse("is not a safetensors file: skipped") }

        var metadata: [String: String] = [:]
        var dataEnd = 0
        for (key, value) in members {
            guard case .object(let fields) = value else { throw refuse("is not a safetensors file: skipped") }
            if key == "__metadata__" {
                for (metaKey, metaValue) in fields {
                    if case .string(let text) = metaValue { metadata[metaKey] = text }
                }
                continue
            }
            guard case .array(let bounds)? = fields.first(where: { $0.key == "data_offsets" })?.value, bounds.count == 2,
                let end = bounds[1].nonNegativeInt
            else { throw refuse("is not a safetensors file (tensor '\(oneLine(key))' has no data_offsets): skipped") }
            dataEnd = max(dataEnd, end)
        }
        let available = size - 8 - Int(headerLength)
        if dataEnd > available {
            throw refuse("is truncated: its tensors need \(dataEnd) bytes of data but only \(available) follow the header: skipped")
        }
        if dataEnd < available {
            throw refuse("has \(available - dataEnd) bytes after its last tensor: skipped")
        }
        guard let spec = metadata[RunCheckpoint.specKey] else {
            throw refuse("has no model spec ('\(RunCheckpoint.specKey)') in its metadata: not a ConvScope checkpoint, skipped")
        }
        do {
            _ = try ModelSpec(spec)
        } catch {
            throw refuse("has a model spec that does not parse (\(error)): skipped")
        }
        guard let stepText = metadata[RunCheckpoint.stepKey], let step = Int(stepText), step >= 0 else {
            throw refuse("has no step ('\(RunCheckpoint.stepKey)') in its metadata: skipped")
        }
        let epoch = metadata[RunCheckpoint.epochKey].flatMap { Int($0) }.map { max($0, 0) } ?? 0
        return RunCheckpointEntry(
            name: name, path: path, step: step, epoch: epoch, spec: spec, metadata: metadata)
    }

    /// Reads the whole checkpoint and builds its network (every tensor checked against the spec).
    public func load() throws -> RunCheckpoint.Loaded {
        try RunCheckpoint.load(path)
    }

    /// The class names recorded in the metadata, when there is one per class and each is fit to print
    /// (`RunCheckpoint.classNames(in:count:)`).
    public func classNames(count: Int) -> [String]? {
        RunCheckpoint.classNames(in: metadata, count: count)
    }

    private static func readExactly(_ fd: Int32, count: Int, at position: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + filled, count - filled, off_t(position + filled)) }
            if got < 0 && errno == EINTR { continue }
            if got <= 0 { return nil }
            filled += got
        }
        return bytes
    }
}
