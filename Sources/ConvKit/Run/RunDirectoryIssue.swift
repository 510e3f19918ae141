/// Something in a run directory that a reader skipped, and why: a line of the metrics file, a checkpoint
/// that is truncated or not ConvScope's, a manifest it cannot read.
///
/// `description` is one line fit for a status line, for example
/// `checkpoints/step-000000390.safetensors is truncated: its tensors need 97664 bytes of data but only 4096 follow the header`.
public struct RunDirectoryIssue: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file's path relative to the run directory.
    public let file: String
    /// The line, for a metrics line (from 1).
    public let line: Int?
    /// What is wrong and what was done, phrased to follow the file's name.
    public let reason: String

    public init(file: String, line: Int? = nil, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    public var description: String {
        let place = line.map { "\(oneLine(file)) line \($0)" } ?? oneLine(file)
        return "\(place) \(oneLine(reason))"
    }
}
