import Foundation

/// Reads a run directory (`RunLayout`) that another process may still be writing: the one reader for
/// runs written by ConvScope's `train --run-dir` and by PyTorch through `convscope_torch.RunWriter`.
///
/// Each `poll()` looks at what changed since the previous one: new metrics lines (read incrementally,
/// `MetricsTail`), new or replaced checkpoints (their headers only, `RunCheckpointEntry`), a new
/// `run.json`. Nothing another process writes can make it fail: a half-written line waits for its newline,
/// a temporary file (a name starting with `.`) is not looked at, and a truncated, foreign or unreadable
/// file is skipped with a `RunDirectoryIssue` saying why, reported once per version of the file.
///
/// It is a value: a watcher polls its own copy on a background queue and publishes the result.
public struct RunDirectory: Sendable {
    public let path: String
    /// `run.json`, once it has been read.
    public private(set) var manifest: RunManifest?
    /// The metrics read so far.
    public private(set) var history = RunHistory()
    /// Checkpoints that passed inspection, by step (then name).
    public private(set) var checkpoints: [RunCheckpointEntry] = []

    private var metrics: MetricsTail
    /// Files looked at, with the size and time seen: unchanged files are not read again.
    private var seen: [String: FileVersion] = [:]
    private var manifestVersion: FileVersion?

    private struct FileVersion: Sendable, Equatable {
        var size: Int
        var modified: Int64
    }

    /// What one `poll()` found.
    public struct Update: Sendable {
        public var manifestChanged = false
        public var records: [MetricsRecord] = []
        /// The metrics file was replaced or truncated: the history was rebuilt from its beginning.
        public var metricsRestarted = false
        public var newCheckpoints: [RunCheckpointEntry] = []
        /// Names of checkpoints that disappeared (removed by the writer, or replaced by a broken file).
        public var removedCheckpoints: [String] = []
        public var issues: [RunDirectoryIssue] = []

        public var isEmpty: Bool {
            !manifestChanged && records.isEmpty && !metricsRestarted && newCheckpoints.isEmpty && removedCheckpoints.isEmpty
                && issues.isEmpty
        }
    }

    /// A reader of the directory at `path`; throws `FileError` when there is no such directory. Nothing is
    /// read until `poll()`.
    public init(path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FileError(path: path, action: "read", reason: "no such run directory")
        }
        guard isDirectory.boolValue else {
            throw FileError(path: path, action: "read", reason: "it is a file, not a run directory")
        }
        self.path = path
        metrics = MetricsTail(path: RunLayout.join(path, RunLayout.metricsFile))
    }

    /// The newest checkpoint (highest step).
    public var latestCheckpoint: RunCheckpointEntry? { checkpoints.last }

    /// Reads what changed since the previous call.
    public mutating func poll() -> Update {
        var update = Update()
        pollManifest(&update)
        let batch = metrics.read()
        if batch.restarted {
            history = RunHistory()
            update.metricsRestarted = true
        }
        for record in batch.records { history.append(record) }
        update.records = batch.records
        update.issues += batch.issues
        pollCheckpoints(&update)
        return update
    }

    private mutating func pollManifest(_ update: inout Update) {
        let file = RunLayout.join(path, RunLayout.manifestFile)
        guard let version = RunDirectory.version(of: file) else { return }
        guard version != manifestVersion else { return }
        manifestVersion = version
        do {
            let data = try Data(FileBytes.read(file, limit: 1 << 20))
            let manifest = try RunManifest(data: data, source: RunLayout.manifestFile)
            self.manifest = manifest
            update.manifestChanged = true
            if manifest.isNewerThanReader {
                update.issues.append(
                    RunDirectoryIssue(
                        file: RunLayout.manifestFile, problem: .newerManifest(version: manifest.version, readerVersion: RunLayout.version)))
            }
        } catch let error as RunManifestError {
            update.issues.append(RunDirectoryIssue(file: RunLayout.manifestFile, problem: .manifest(error)))
        } catch let error as FileError {
            update.issues.append(RunDirectoryIssue(file: RunLayout.manifestFile, problem: .unreadable(error.reason)))
        } catch {
            update.issues.append(RunDirectoryIssue(file: RunLayout.manifestFile, problem: .unreadable("\(error)")))
        }
    }

    private mutating func pollCheckpoints(_ update: inout Update) {
        let folder = RunLayout.join(path, RunLayout.checkpointsFolder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        var present = Set<String>()
        // A checkpoint's weight history beside it (`WeightHistoryFile`) is no checkpoint: the watcher reads it with its checkpoint.
        for name in names where !name.hasPrefix(".") && !name.hasSuffix(WeightHistoryFile.suffix) {
            present.insert(name)
            let file = RunLayout.join(folder, name)
            guard let version = RunDirectory.version(of: file) else { continue }
            guard seen[name] != version else { continue }
            seen[name] = version
            if let index = checkpoints.firstIndex(where: { $0.name == name }) {
                checkpoints.remove(at: index)
                update.removedCheckpoints.append(name)
            }
            guard name.hasSuffix(RunLayout.checkpointExtension) else {
                update.issues.append(
                    RunDirectoryIssue(
                        file: RunLayout.checkpointsFolder + "/" + name,
                        problem: .notACheckpointName(expectedExtension: RunLayout.checkpointExtension)))
                continue
            }
            do throws(RunDirectoryIssue) {
                let entry = try RunCheckpointEntry.inspect(path: file, name: name)
                checkpoints.append(entry)
                update.newCheckpoints.append(entry)
            } catch {
                update.issues.append(error)
            }
        }
        for name in seen.keys where !present.contains(name) {
            seen[name] = nil
            if let index = checkpoints.firstIndex(where: { $0.name == name }) {
                checkpoints.remove(at: index)
                update.removedCheckpoints.append(name)
            }
        }
        checkpoints.sort { ($0.step, $0.name) < ($1.step, $1.name) }
        update.newCheckpoints.sort { ($0.step, $0.name) < ($1.step, $1.name) }
    }

    /// Size and modification time of a regular file, or nil when there is none.
    private static func version(of file: String) -> FileVersion? {
        var info = stat()
        guard stat(file, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return FileVersion(
            size: Int(info.st_size), modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
    }
}
