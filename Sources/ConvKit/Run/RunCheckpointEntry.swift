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
        func refuse(_ problem: RunDirectoryIssue.Problem) -> RunDirectoryIssue { RunDirectoryIssue(file: file, problem: problem) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw refuse(.unreadable(FileError.errnoText())) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { throw refuse(.notARegularFile) }
        let size = Int(info.st_size)

        guard size >= 8, let lengthBytes = readExactly(fd, count: 8, at: 0) else {
            throw refuse(.shorterThanAHeader(size: size))
        }
        let headerLength = lengthBytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(SafeTensors.maximumHeaderLength) else {
            throw refuse(.implausibleHeaderLength(headerLength))
        }
        guard UInt64(size - 8) >= headerLength, let header = readExactly(fd, count: Int(headerLength), at: 8) else {
            throw refuse(.truncatedHeader(expected: headerLength, available: size - 8))
        }
        let json: JSONValue
        do {
            json = try header.withUnsafeBufferPointer { bytes throws(JSONError) in try JSONValue.parse(bytes) }
        } catch {
            throw refuse(.headerNotJSON(error.message))
        }
        guard case .object(let members) = json else { throw refuse(.notSafetensors) }

        var metadata: [String: String] = [:]
        var dataEnd = 0
        for (key, value) in members {
            guard case .object(let fields) = value else { throw refuse(.notSafetensors) }
            if key == "__metadata__" {
                for (metaKey, metaValue) in fields {
                    if case .string(let text) = metaValue { metadata[metaKey] = text }
                }
                continue
            }
            guard case .array(let bounds)? = fields.first(where: { $0.key == "data_offsets" })?.value, bounds.count == 2,
                let end = bounds[1].nonNegativeInt
            else { throw refuse(.tensorWithoutOffsets(tensor: key)) }
            dataEnd = max(dataEnd, end)
        }
        let available = size - 8 - Int(headerLength)
        if dataEnd > available {
            throw refuse(.truncatedData(needed: dataEnd, available: available))
        }
        if dataEnd < available {
            throw refuse(.trailingBytes(available - dataEnd))
        }
        guard let spec = metadata[RunCheckpoint.specKey] else {
            throw refuse(.noModelSpec(key: RunCheckpoint.specKey))
        }
        do {
            _ = try ModelSpec(spec)
        } catch {
            throw refuse(.specDoesNotParse("\(error)"))
        }
        guard let stepText = metadata[RunCheckpoint.stepKey], let step = Int(stepText), step >= 0 else {
            throw refuse(.noStep(key: RunCheckpoint.stepKey))
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
