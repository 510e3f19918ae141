import Dispatch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// How far a download has got, for a progress bar.
public struct DownloadProgress: Sendable, Equatable {
    /// What the downloader is doing.
    public enum Phase: Sendable, Equatable {
        case downloading
        case unpacking
    }

    public var phase: Phase
    /// Bytes received so far.
    public var received: Int64
    /// The size the server announced, when it did.
    public var total: Int64?

    /// `received / total`, when the total is known.
    public var fraction: Double? {
        guard let total, total > 0 else { return nil }
        return min(Double(received) / Double(total), 1)
    }
}

/// Fetches CIFAR-10's binary tarball into the cache folder and unpacks it there, all or nothing.
///
/// Steps: stream the tarball to a temporary file inside the cache folder, hashing it with `MD5` on the
/// way; compare with the published checksum; unpack with `tar -xzf` into a temporary folder, also in
/// the cache folder; check the six batch files with `CIFAR10Loader.validate`; then `rename` the folder
/// into place, which is atomic. Every exit path removes the temporaries, and each run first removes
/// temporaries left by earlier runs whose process is gone (killed mid-download), so the dataset folder
/// either holds a complete dataset or does not exist.
public struct DatasetDownloader: Sendable {
    /// Where the CIFAR-10 authors publish the binary version.
    public static let officialURL = URL(string: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz")!
    /// The published MD5 of that file.
    public static let officialMD5 = "c32a1d4ab5d03f1284b67883e8d87530"
    /// Temporary names in the cache folder start with this.
    public static let temporaryPrefix = ".convscope-tmp-"

    /// What a finished `run` did.
    public enum Outcome: Sendable, Equatable, CustomStringConvertible {
        /// A valid dataset was already in place; nothing was downloaded.
        case alreadyPresent(directory: String)
        /// The dataset was downloaded (this many bytes) and unpacked into `directory`.
        case downloaded(directory: String, bytes: Int64)

        public var description: String {
            switch self {
            case .alreadyPresent(let directory): return "CIFAR-10 is already in \(directory); nothing to download"
            case let .downloaded(directory, bytes): return "CIFAR-10 downloaded (\(bytes) bytes) into \(directory)"
            }
        }
    }

    public var url: URL
    public var expectedMD5: String
    /// The cache folder (`~/.cache/convscope` by default); the dataset goes into its `cifar-10-batches-bin`.
    public var cacheDirectory: String
    /// Seconds without any data before the transfer is abandoned.
    public var idleTimeout: TimeInterval

    public init(
        url: URL = DatasetDownloader.officialURL, expectedMD5: String = DatasetDownloader.officialMD5,
        cacheDirectory: String = DataLocator().cacheDirectory, idleTimeout: TimeInterval = 60
    ) {
        self.url = url
        self.expectedMD5 = expectedMD5.lowercased()
        self.cacheDirectory = cacheDirectory
        self.idleTimeout = idleTimeout
    }

    /// Where the unpacked dataset ends up.
    public var datasetDirectory: String {
        (cacheDirectory as NSString).appendingPathComponent(DataLocator.datasetFolderName)
    }

    /// Downloads and installs the dataset unless a valid one is already in place; blocks until done.
    /// `progress` is called from a background thread, many times while bytes arrive.
    public func run(progress: @escaping @Sendable (DownloadProgress) -> Void = { _ in }) throws -> Outcome {
        removeAbandonedTemporaries()
        if (try? CIFAR10Loader.validate(directory: datasetDirectory)) != nil {
            return .alreadyPresent(directory: datasetDirectory)
        }
        let files = FileManager.default
        do {
            try files.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
        } catch {
            throw DownloadError.fileSystem(path: cacheDirectory, reason: "cannot create folder (\(error.localizedDescription))")
        }

        let archive = temporaryPath("tar.gz")
        let unpackDirectory = temporaryPath("unpack")
        defer {
            try? files.removeItem(atPath: archive)
            try? files.removeItem(atPath: unpackDirectory)
        }
        let bytes = try fetch(into: archive, progress: progress)

        progress(DownloadProgress(phase: .unpacking, received: bytes, total: bytes))
        do {
            try files.createDirectory(atPath: unpackDirectory, withIntermediateDirectories: false)
        } catch {
            throw DownloadError.fileSystem(path: unpackDirectory, reason: "cannot create folder (\(error.localizedDescription))")
        }
        try unpack(archive, into: unpackDirectory)
        let unpacked = (unpackDirectory as NSString).appendingPathComponent(DataLocator.datasetFolderName)
        do {
            try CIFAR10Loader.validate(directory: unpacked)
        } catch {
            // Name files as they are inside the archive, not by the temporary folder they were unpacked to.
            let reason = "\(error)".replacingOccurrences(of: unpackDirectory + "/", with: "")
            throw DownloadError.invalidArchive(reason: reason)
        }
        try install(unpacked)
        return .downloaded(directory: datasetDirectory, bytes: bytes)
    }

    /// `run` without blocking the caller's thread (it runs on a Dispatch worker).
    public func download(progress: @escaping @Sendable (DownloadProgress) -> Void = { _ in }) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try self.run(progress: progress) })
            }
        }
    }

    // MARK: - Steps

    /// Streams `url` into `path`, checking status, length and MD5; returns the byte count.
    private func fetch(into path: String, progress: @escaping @Sendable (DownloadProgress) -> Void) throws -> Int64 {
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let handle = FileHandle(forWritingAtPath: path)
        else {
            throw DownloadError.fileSystem(path: path, reason: "cannot create file")
        }
        defer { try? handle.close() }

        let transfer = Transfer(url: url.absoluteString, file: handle, progress: progress)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = idleTimeout
        configuration.timeoutIntervalForResource = 6 * 3600
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: configuration, delegate: transfer, delegateQueue: queue)
        session.dataTask(with: URLRequest(url: url)).resume()
        transfer.finished.wait()
        session.finishTasksAndInvalidate()

        let result = transfer.result()
        if let failure = result.failure { throw failure }
        if let total = result.total, result.received != total {
            throw DownloadError.truncated(url: url.absoluteString, received: result.received, expected: total)
        }
        let actual = result.digest.hex
        guard actual == expectedMD5 else {
            throw DownloadError.checksumMismatch(url: url.absoluteString, actual: actual, expected: expectedMD5)
        }
        return result.received
    }

    /// Runs `tar -xzf archive -C directory`.
    private func unpack(_ archive: String, into directory: String) throws {
        let tar = ["/bin/tar", "/usr/bin/tar"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/bin/tar"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tar)
        process.arguments = ["-xzf", archive, "-C", directory]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw DownloadError.unpackFailed(archive: url.lastPathComponent, reason: "cannot run \(tar): \(error.localizedDescription)")
        }
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationReason == .exit && process.terminationStatus == 0 else {
            let text = String(decoding: message, as: UTF8.self)
                .split(whereSeparator: \.isNewline).first.map(String.init) ?? "tar exited with status \(process.terminationStatus)"
            throw DownloadError.unpackFailed(archive: url.lastPathComponent, reason: text)
        }
    }

    /// Moves the unpacked folder into place, replacing an invalid folder of the same name if there is one.
    private func install(_ unpacked: String) throws {
        let target = datasetDirectory
        var displaced: String?
        if FileManager.default.fileExists(atPath: target) {
            let aside = temporaryPath("old")
            guard rename(target, aside) == 0 else {
                throw DownloadError.fileSystem(path: target, reason: "cannot move the invalid dataset aside (\(String(cString: strerror(errno))))")
            }
            displaced = aside
        }
        guard rename(unpacked, target) == 0 else {
            let reason = String(cString: strerror(errno))
            if let displaced { _ = rename(displaced, target) }
            throw DownloadError.fileSystem(path: target, reason: "cannot move the unpacked dataset into place (\(reason))")
        }
        if let displaced { try? FileManager.default.removeItem(atPath: displaced) }
    }

    // MARK: - Temporaries

    /// A fresh temporary path in the cache folder naming this process, so a later run can tell whether
    /// its owner is still alive.
    private func temporaryPath(_ suffix: String) -> String {
        let name = "\(DatasetDownloader.temporaryPrefix)\(getpid())-\(DispatchTime.now().uptimeNanoseconds).\(suffix)"
        return (cacheDirectory as NSString).appendingPathComponent(name)
    }

    /// Removes temporaries whose process no longer exists (an earlier run that was killed).
    private func removeAbandonedTemporaries() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: cacheDirectory) else { return }
        for name in names where name.hasPrefix(DatasetDownloader.temporaryPrefix) {
            let rest = name.dropFirst(DatasetDownloader.temporaryPrefix.count)
            guard let pid = Int32(rest.prefix { $0.isNumber }) else { continue }
            let alive = pid == getpid() || kill(pid, 0) == 0 || errno == EPERM
            if !alive { try? FileManager.default.removeItem(atPath: (cacheDirectory as NSString).appendingPathComponent(name)) }
        }
    }
}

/// URLSession delegate that writes a response body to a file as it arrives, hashes it and reports progress.
///
/// URLSession calls it on a serial queue, but the final state is read from the thread that started the
/// transfer, so the state sits behind a `Locked`; `progress` is called outside the lock.
private final class Transfer: NSObject, URLSessionDataDelegate, Sendable {
    struct State {
        var md5 = MD5()
        var received: Int64 = 0
        var total: Int64?
        var failure: DownloadError?
        var checkedStatus = false
    }

    /// What the transfer ended with.
    struct Result {
        var digest: MD5.Digest
        var received: Int64
        var total: Int64?
        var failure: DownloadError?
    }

    let url: String
    let file: FileHandle
    let progress: @Sendable (DownloadProgress) -> Void
    /// Signalled once, when the task has completed (successfully or not).
    let finished = DispatchSemaphore(value: 0)
    private let state = Locked(State())

    init(url: String, file: FileHandle, progress: @escaping @Sendable (DownloadProgress) -> Void) {
        self.url = url
        self.file = file
        self.progress = progress
    }

    func result() -> Result {
        state.withLock { state in
            var md5 = state.md5
            return Result(digest: md5.finalize(), received: state.received, total: state.total, failure: state.failure)
        }
    }

    /// Records the response's status and length; returns false (and records the failure) for a non-2xx status.
    private func accept(_ response: URLResponse?) -> Bool {
        state.withLock { state in
            if state.checkedStatus { return state.failure == nil }
            state.checkedStatus = true
            if let http = response as? HTTPURLResponse, !(200 ..< 300).contains(http.statusCode) {
                state.failure = .http(status: http.statusCode, url: url)
                return false
            }
            if let length = response?.expectedContentLength, length > 0 { state.total = length }
            return true
        }
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        completionHandler(accept(response) ? .allow : .cancel)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard accept(dataTask.response) else {
            dataTask.cancel()
            return
        }
        do {
            try file.write(contentsOf: data)
        } catch {
            state.withLock { $0.failure = $0.failure ?? .fileSystem(path: "download file", reason: "write failed (\(error.localizedDescription))") }
            dataTask.cancel()
            return
        }
        let report = state.withLock { state -> DownloadProgress in
            state.md5.update(data)
            state.received += Int64(data.count)
            return DownloadProgress(phase: .downloading, received: state.received, total: state.total)
        }
        progress(report)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if let error {
            state.withLock { $0.failure = $0.failure ?? .transfer(url: url, reason: error.localizedDescription) }
        }
        finished.signal()
    }
}
