import Foundation

/// Reads CIFAR-10's binary batches (`data_batch_1.bin` ... `data_batch_5.bin`, `test_batch.bin`).
///
/// Each file is a run of 3073-byte records: one label byte (0...9), then 3072 pixel bytes in planar RGB,
/// exactly the layout `ImageSet` keeps, so loading is one pass of copies. Files are read in chunks
/// straight into the final arrays: peak memory is the dataset (~184 MB for all six files) plus one chunk.
public enum CIFAR10Loader {
    /// Bytes per record: a label byte and a 32 x 32 x 3 image.
    public static let recordSize = 1 + ImageSet.bytesPerImage
    /// The five training batches, in the order their images are concatenated.
    public static let trainingFiles = (1 ... 5).map { "data_batch_\($0).bin" }
    /// The test batch.
    public static let testFile = "test_batch.bin"
    /// Every file a complete dataset folder holds.
    public static let allFiles = trainingFiles + [testFile]

    /// Records read per `read` call while loading.
    private static let recordsPerChunk = 512

    /// Loads the training and test sets from `directory`.
    ///
    /// All six files must exist with valid sizes even when a limit means some are not read. Every record
    /// read has its label checked. `trainLimit` / `testLimit` keep only the first that many images.
    public static func load(directory: String, trainLimit: Int? = nil, testLimit: Int? = nil) throws -> Dataset {
        let counts = try validate(directory: directory)
        let trainPaths = trainingFiles.map { path(directory, $0) }
        let train = try read(
            zip(trainPaths, counts.prefix(trainingFiles.count)).map { ($0, $1) }, limit: trainLimit)
        let test = try read([(path(directory, testFile), counts[trainingFiles.count])], limit: testLimit)
        return Dataset(train: train, test: test, source: .cifar10(directory: directory))
    }

    /// Checks that `directory` holds all six batch files with sizes that are whole numbers of records,
    /// and returns each file's record count (in `allFiles` order). Reads no file contents.
    @discardableResult
    public static func validate(directory: String) throws -> [Int] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DataError.notADirectory(path: directory)
        }
        return try allFiles.map { try recordCount(ofFile: path(directory, $0)) }
    }

    /// Loads one batch file (or the first `limit` records of it) as an image set.
    public static func loadFile(_ path: String, limit: Int? = nil) throws -> ImageSet {
        try read([(path, recordCount(ofFile: path))], limit: limit)
    }

    /// The number of records in the batch file at `path`, from its size; throws when it is missing or
    /// its size is not a positive multiple of `recordSize`.
    public static func recordCount(ofFile path: String) throws -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { throw DataError.missingFile(path: path) }
            throw DataError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw DataError.unreadable(path: path, reason: "not a regular file")
        }
        let size = Int(info.st_size)
        guard size > 0, size % recordSize == 0 else { throw DataError.badFileSize(path: path, size: size) }
        return size / recordSize
    }

    private static func path(_ directory: String, _ file: String) -> String {
        directory.hasSuffix("/") ? directory + file : directory + "/" + file
    }

    /// Reads the first `limit` records (all when nil) of the concatenation of `files`.
    private static func read(_ files: [(path: String, records: Int)], limit: Int?) throws -> ImageSet {
        let available = files.reduce(0) { $0 + $1.records }
        let total = min(available, max(limit ?? available, 0))
        let size = ImageSet.bytesPerImage
        var labels = [UInt8](repeating: 0, count: total)
        var pixels = [UInt8]()
        try labels.withUnsafeMutableBufferPointer { labelOut in
            pixels = try [UInt8](unsafeUninitializedCapacity: total * size) { pixelOut, initialized in
                let chunk = UnsafeMutableRawBufferPointer.allocate(
                    byteCount: recordsPerChunk * recordSize, alignment: 64)
                defer { chunk.deallocate() }
                var done = 0
                for file in files where done < total {
                    let wanted = min(file.records, total - done)
                    let descriptor = open(file.path, O_RDONLY)
                    guard descriptor >= 0 else {
                        throw DataError.unreadable(path: file.path, reason: String(cString: strerror(errno)))
                    }
                    defer { close(descriptor) }
                    var record = 0
                    while record < wanted {
                        let n = min(recordsPerChunk, wanted - record)
                        try readFully(descriptor, into: chunk.baseAddress!, count: n * recordSize, path: file.path)
                        let bytes = chunk.baseAddress!.assumingMemoryBound(to: UInt8.self)
                        for r in 0 ..< n {
                            let src = bytes + r * recordSize
                            guard src[0] <= 9 else {
                                throw DataError.badLabel(path: file.path, record: record + r, value: src[0])
                            }
                            labelOut[done + r] = src[0]
                            UnsafeMutableRawPointer(pixelOut.baseAddress! + (done + r) * size)
                                .copyMemory(from: src + 1, byteCount: size)
                        }
                        record += n
                        done += n
                        initialized = done * size
                    }
                }
            }
        }
        return ImageSet(pixels: pixels, labels: labels)
    }

    /// Reads exactly `count` bytes, retrying short reads; a file that ends early was changed under us.
    private static func readFully(_ descriptor: Int32, into buffer: UnsafeMutableRawPointer, count: Int, path: String) throws {
        var got = 0
        while got < count {
            let n = Foundation.read(descriptor, buffer + got, count - got)
            if n < 0 {
                if errno == EINTR { continue }
                throw DataError.unreadable(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { throw DataError.unreadable(path: path, reason: "file ended early (was it changed while loading?)") }
            got += n
        }
    }
}
