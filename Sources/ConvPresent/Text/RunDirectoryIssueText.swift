import ConvKit

/// How the app and the command line word what a run-directory reader skipped (`RunDirectoryIssue`).
public enum RunDirectoryIssueText {
    /// One line fit for a status line: the file (and line), what is wrong, what was done. For example
    /// `metrics.jsonl line 3 not JSON (unexpected character at byte 0): skipped` or
    /// `checkpoints/step-000000390.safetensors is truncated: its tensors need 97664 bytes of data but only 4096 follow the header: skipped`.
    public static func line(_ issue: RunDirectoryIssue) -> String {
        let place = issue.line.map { "\(oneLine(issue.file)) line \($0)" } ?? oneLine(issue.file)
        return "\(place) \(oneLine(reason(issue.problem)))"
    }

    /// What is wrong and what was done, phrased to follow the file's name.
    public static func reason(_ problem: RunDirectoryIssue.Problem) -> String {
        switch problem {
        case .unreadable(let why): return "cannot be read: \(why)"
        case .notARegularFile: return "is not a regular file: skipped"
        case .replaced: return "was replaced: reading it again from the start"
        case .shrank(let size, let read): return "shrank to \(size) bytes from the \(read) read: reading it again from the start"
        case .lineTooLong(let limit): return "is longer than \(limit) bytes: skipped"
        case .notARecord(let error): return "\(error.reason): skipped"
        case .manifest(let error): return error.problem
        case .newerManifest(let version, let readerVersion):
            return "is format version \(version), newer than the \(readerVersion) this ConvScope reads: what is new is ignored"
        case .notACheckpointName(let expected): return "is not a checkpoint (no \(expected) ending): ignored"
        case .shorterThanAHeader(let size): return "is truncated (\(size) bytes, less than a safetensors header): skipped"
        case .implausibleHeaderLength(let length): return "is not a safetensors file (header length \(length)): skipped"
        case .truncatedHeader(let expected, let available):
            return "is truncated: its header should be \(expected) bytes but only \(available) follow: skipped"
        case .headerNotJSON(let message): return "is not a safetensors file (its header is not JSON: \(message)): skipped"
        case .notSafetensors: return "is not a safetensors file: skipped"
        case .tensorWithoutOffsets(let tensor): return "is not a safetensors file (tensor '\(oneLine(tensor))' has no data_offsets): skipped"
        case .truncatedData(let needed, let available):
            return "is truncated: its tensors need \(needed) bytes of data but only \(available) follow the header: skipped"
        case .trailingBytes(let count): return "has \(count) bytes after its last tensor: skipped"
        case .noModelSpec(let key): return "has no model spec ('\(key)') in its metadata: not a ConvScope checkpoint, skipped"
        case .specDoesNotParse(let message): return "has a model spec that does not parse (\(message)): skipped"
        case .noStep(let key): return "has no step ('\(key)') in its metadata: skipped"
        case .unloadable(let message): return "cannot be loaded: \(message): skipped"
        case .otherModel(let found, let shown): return "holds the model \(found), not the \(shown) shown: skipped (watch it in another window)"
        case .otherClassCount(let found, let shown, let dataset): return "has \(found) classes, not the \(shown) of \(dataset): skipped"
        }
    }
}
