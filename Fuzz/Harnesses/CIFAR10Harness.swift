#if canImport(Glibc)
import Glibc
#endif

/// CIFAR-10 batch files: the bytes are written to a file and read with `CIFAR10Loader.loadFile`, the
/// loader's own path (file size check, chunked reads, label check).
///
/// Contract: an image set or a `DataError`; a set that reads holds exactly the records of the file.
enum CIFAR10Harness {
    static let harness = FuzzHarness(name: "cifar10", summary: "CIFAR-10 binary batch files", run: run)

    /// One scratch file per process, in memory where the system has /dev/shm.
    static let path: String = {
        let directory = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        return "\(directory)/convscope-fuzz-cifar10-\(getpid()).bin"
    }()

    static func run(_ input: [UInt8]) {
        guard let file = fopen(path, "wb") else { fatalError("cannot write \(path)") }
        _ = input.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
        defer { unlink(path) }
        // The first byte also picks a record limit, to exercise partial loads.
        let limit: Int? = input.first.flatMap { $0 < 128 ? nil : Int($0 & 7) }
        guard let set = fuzzExpect("CIFAR10Loader.loadFile", { $0 is DataError }, { try CIFAR10Loader.loadFile(path, limit: limit) })
        else { return }
        let records = input.count / CIFAR10Loader.recordSize
        fuzzCheck(set.count == min(records, limit ?? records), "record count")
        for index in 0..<set.count {
            let record = input[(index * CIFAR10Loader.recordSize)...].prefix(CIFAR10Loader.recordSize)
            fuzzCheck(Int(record.first!) == Int(set.label(index)), "label of record \(index)")
            fuzzCheck(set.image(index).elementsEqual(record.dropFirst()), "pixels of record \(index)")
        }
    }
}
