/// Something in a run directory that a reader skipped, and why: a line of the metrics file, a checkpoint
/// that is truncated or not ConvScope's, a manifest it cannot read.
///
/// A value, not a sentence: `RunDirectoryIssueText` in ConvPresent words it for the app and the command
/// line, for example
/// `checkpoints/step-000000390.safetensors is truncated: its tensors need 97664 bytes of data but only 4096 follow the header: skipped`.
public struct RunDirectoryIssue: Error, Sendable, Equatable {
    /// The file's path relative to the run directory.
    public let file: String
    /// The line, for a metrics line (from 1).
    public let line: Int?
    /// What is wrong (and so what the reader did: see `Problem`).
    public let problem: Problem

    public init(file: String, line: Int? = nil, problem: Problem) {
        self.file = file
        self.line = line
        self.problem = problem
    }

    /// What a reader found wrong with a file. Each case implies what was done with it: a metrics line or a
    /// checkpoint is skipped, a replaced or shortened metrics file is read again from its start, a newer
    /// manifest is read with what is new ignored, a file in `checkpoints/` without the extension is ignored.
    ///
    /// Cases that wrap a lower layer's error (`unreadable`, `manifest`, `unloadable`, `headerNotJSON`,
    /// `specDoesNotParse`) carry that error's own one-line message.
    public enum Problem: Sendable, Equatable {
        // Any file.
        /// Opening or reading it failed (the system's reason).
        case unreadable(String)
        /// A directory, a device or a socket where a file belongs.
        case notARegularFile

        // The metrics file (`metrics.jsonl`).
        /// Another file took its place (a new inode): read again from the start.
        case replaced
        /// It is now `size` bytes, less than the `read` bytes already read: read again from the start.
        case shrank(size: Int, read: Int)
        /// A line longer than `limit` bytes: skipped without holding it in memory.
        case lineTooLong(limit: Int)
        /// A line that is not a metrics record: skipped.
        case notARecord(MetricsRecordError)

        // The manifest (`run.json`).
        /// It does not parse or is not ConvScope's.
        case manifest(RunManifestError)
        /// Its format version is newer than the one this reader knows: what is new is ignored.
        case newerManifest(version: Int, readerVersion: Int)

        // Checkpoints (`checkpoints/`).
        /// A file without the checkpoint extension: ignored.
        case notACheckpointName(expectedExtension: String)
        /// Shorter than the 8 bytes of a safetensors header length.
        case shorterThanAHeader(size: Int)
        /// The header length is beyond what any safetensors file of ours would have.
        case implausibleHeaderLength(UInt64)
        /// The header is cut short: `expected` bytes, `available` follow the length.
        case truncatedHeader(expected: UInt64, available: Int)
        /// The header is not JSON (the parser's message).
        case headerNotJSON(String)
        /// The header is JSON but not a safetensors header.
        case notSafetensors
        /// A tensor without `data_offsets`.
        case tensorWithoutOffsets(tensor: String)
        /// The tensors need `needed` bytes of data but only `available` follow the header.
        case truncatedData(needed: Int, available: Int)
        /// Bytes after the last tensor.
        case trailingBytes(Int)
        /// No model spec in the metadata (under `key`): not a ConvScope checkpoint.
        case noModelSpec(key: String)
        /// A model spec that does not parse (the parser's message).
        case specDoesNotParse(String)
        /// No step in the metadata (under `key`).
        case noStep(key: String)
        /// The checkpoint does not load (the loader's message).
        case unloadable(String)
        /// It holds another model than the one shown (watch it in another window).
        case otherModel(found: String, shown: String)
        /// It has another number of classes than the data set shown.
        case otherClassCount(found: Int, shown: Int, dataset: String)
    }
}
