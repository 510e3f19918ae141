/// Why images could not be found or loaded; `description` is one line naming the file or value at fault.
public enum DataError: Error, Equatable, CustomStringConvertible {
    /// A CIFAR-10 batch file is not in the folder.
    case missingFile(path: String)
    /// A folder named as the data source does not exist or is a file.
    case notADirectory(path: String)
    /// A batch file's size is not a positive multiple of one record (1 label byte + 3072 pixel bytes).
    case badFileSize(path: String, size: Int)
    /// A record's label byte is not a class index 0...9.
    case badLabel(path: String, record: Int, value: UInt8)
    /// The operating system refused to read a file.
    case unreadable(path: String, reason: String)
    /// `--data` was given a path that does not exist.
    case explicitPathMissing(path: String)
    /// No data source was given and none of the usual places holds CIFAR-10.
    case notFound(tried: [String])

    public var description: String {
        switch self {
        case .missingFile(let path):
            return "missing CIFAR-10 file \(path) (expected data_batch_1.bin ... data_batch_5.bin and test_batch.bin)"
        case .notADirectory(let path):
            return "\(path) is not a directory (expected a folder holding CIFAR-10's .bin batches)"
        case let .badFileSize(path, size):
            return "\(path) is \(size) bytes, expected a positive multiple of \(CIFAR10Loader.recordSize) "
                + "(1 label byte + 3072 pixel bytes per image)"
        case let .badLabel(path, record, value):
            return "\(path): record \(record) has label \(value), expected 0...9"
        case let .unreadable(path, reason):
            return "cannot read \(path): \(reason)"
        case .explicitPathMissing(let path):
            return "--data \(path): no such directory (give a folder with CIFAR-10's .bin files, or --data synthetic)"
        case .notFound(let tried):
            return "CIFAR-10 not found (tried: \(tried.joined(separator: "; "))); "
                + "run `convscope download` or use `--data synthetic`"
        }
    }
}
