import Foundation
import XCTest
import ConvKit

/// Helpers shared by the data tests: temporary folders and small hand-made CIFAR-10 batch files.
enum DataTestSupport {
    /// A fresh empty folder under the system temporary folder; the caller removes it.
    static func makeTemporaryDirectory(_ label: String = "data") throws -> String {
        let path = (NSTemporaryDirectory() as NSString)
            .appendingPathComponent("convscope-\(label)-\(getpid())-\(DispatchTime.now().uptimeNanoseconds)")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The bytes of a batch file with one record per label. Image `i`'s pixel `p` is
    /// `(seed + i * 7 + p) % 256`, or with `noisy` a pseudo-random byte (so the file does not compress).
    static func batchBytes(labels: [UInt8], seed: Int = 0, noisy: Bool = false) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(labels.count * CIFAR10Loader.recordSize)
        var random = RandomSource(seed: UInt64(seed))
        for (i, label) in labels.enumerated() {
            bytes.append(label)
            for p in 0 ..< ImageSet.bytesPerImage {
                bytes.append(noisy ? UInt8(truncatingIfNeeded: random.next()) : UInt8((seed + i * 7 + p) % 256))
            }
        }
        return bytes
    }

    /// Writes the six batch files (each `recordsPerFile` records, labels cycling 0...9) and
    /// `batches.meta.txt` into `directory` (created if needed).
    static func writeSmallDataset(in directory: String, recordsPerFile: Int = 3, noisy: Bool = false) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (f, name) in CIFAR10Loader.allFiles.enumerated() {
            let labels = (0 ..< recordsPerFile).map { UInt8((f * recordsPerFile + $0) % 10) }
            try Data(batchBytes(labels: labels, seed: f * 11, noisy: noisy))
                .write(to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent(name)))
        }
        try Data(Dataset.classNames.joined(separator: "\n").utf8)
            .write(to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent("batches.meta.txt")))
    }

    /// Runs a program to completion; throws when it cannot start or exits non-zero.
    static func runTool(_ path: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NSError(domain: "DataTestSupport", code: Int(process.terminationStatus),
                          userInfo: [NSLocalizedDescriptionKey: "\(path) \(arguments) exited with \(process.terminationStatus)"])
        }
    }

    /// Files and folders directly inside `directory` (empty when it does not exist).
    static func contents(of directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }
}
