/// Why `convscope download` failed; `description` is one line. A failed download leaves nothing behind.
public enum DownloadError: Error, Equatable, CustomStringConvertible {
    /// The server answered with a status other than 2xx.
    case http(status: Int, url: String)
    /// The connection failed or dropped.
    case transfer(url: String, reason: String)
    /// The server announced more bytes than it sent.
    case truncated(url: String, received: Int64, expected: Int64)
    /// The file arrived but its MD5 is not the published one.
    case checksumMismatch(url: String, actual: String, expected: String)
    /// `tar` could not unpack the archive.
    case unpackFailed(archive: String, reason: String)
    /// The archive unpacked, but not into a valid `cifar-10-batches-bin` folder.
    case invalidArchive(reason: String)
    /// A file or folder in the cache could not be created, written or moved.
    case fileSystem(path: String, reason: String)
    /// The download was asked to stop (`StopSignal`: the user quit, or an interrupt); nothing was kept.
    case interrupted

    public var description: String {
        switch self {
        case let .http(status, url):
            return "download failed: HTTP \(status) from \(url)"
        case let .transfer(url, reason):
            return "download failed: \(reason) (\(url))"
        case let .truncated(url, received, expected):
            return "download failed: connection closed after \(received) of \(expected) bytes (\(url))"
        case let .checksumMismatch(url, actual, expected):
            return "download failed: MD5 of \(url) is \(actual), expected \(expected) (file damaged or replaced)"
        case let .unpackFailed(archive, reason):
            return "cannot unpack \(archive): \(reason)"
        case .invalidArchive(let reason):
            return "downloaded archive does not hold a valid CIFAR-10 folder: \(reason)"
        case let .fileSystem(path, reason):
            return "\(path): \(reason)"
        case .interrupted:
            return "download interrupted; nothing was kept"
        }
    }
}
