import Foundation
import TestSupport
import XCTest
import ConvKit

final class CIFAR10LoaderTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = try DataTestSupport.makeTemporaryDirectory("cifar")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }

    // MARK: Real CIFAR-10

    func testLoadsRealCIFAR10() throws {
        guard let folder = ProcessInfo.processInfo.environment["CONVSCOPE_DATA"], !folder.isEmpty else {
            throw skip(.noCIFAR10, "CONVSCOPE_DATA is not set (point it at cifar-10-batches-bin), so loading the real CIFAR-10 was not tested")
        }
        let start = Date()
        let dataset = try CIFAR10Loader.load(directory: folder)
        let seconds = Date().timeIntervalSince(start)
        print("loaded CIFAR-10 from \(folder) in \(String(format: "%.3f", seconds)) s")
        XCTAssertEqual(dataset.train.count, 50_000)
        XCTAssertEqual(dataset.test.count, 10_000)
        XCTAssertEqual(dataset.train.pixels.count, 50_000 * 3072)
        XCTAssertEqual(dataset.train.classCounts(), [Int](repeating: 5000, count: 10))
        XCTAssertEqual(dataset.test.classCounts(), [Int](repeating: 1000, count: 10))
        XCTAssertEqual(dataset.test.label(0), 3, "the first test image of CIFAR-10 is a cat")
        XCTAssertEqual(dataset.classNames[dataset.test.label(0)], "cat")
        XCTAssertEqual(dataset.displayName, "CIFAR-10")
        XCTAssertFalse(dataset.isSynthetic)

        // The bytes are the file's bytes: record 0 of test_batch.bin is label + 3072 pixels.
        let handle = try XCTUnwrap(FileHandle(forReadingAtPath: (folder as NSString).appendingPathComponent("test_batch.bin")))
        let first = try XCTUnwrap(handle.read(upToCount: CIFAR10Loader.recordSize))
        try handle.close()
        XCTAssertEqual(Array(dataset.test.image(0)), Array(first.dropFirst()))

        let quick = try CIFAR10Loader.load(directory: folder, trainLimit: 1000)
        XCTAssertEqual(quick.train.count, 1000)
        XCTAssertEqual(quick.train.pixels, Array(dataset.train.pixels.prefix(1000 * 3072)))
        XCTAssertEqual(quick.test.count, 10_000)
    }

    // MARK: Small hand-made files

    func testLoadsSmallDatasetInFileOrder() throws {
        try DataTestSupport.writeSmallDataset(in: directory, recordsPerFile: 4)
        let dataset = try CIFAR10Loader.load(directory: directory)
        XCTAssertEqual(dataset.train.count, 20)
        XCTAssertEqual(dataset.test.count, 4)
        XCTAssertEqual(dataset.source, .cifar10(directory: directory))
        // Training images are the five batches concatenated: image 5 is record 1 of data_batch_2.
        let expected = DataTestSupport.batchBytes(labels: [4, 5, 6, 7], seed: 11)
        XCTAssertEqual(dataset.train.label(5), Int(expected[CIFAR10Loader.recordSize]))
        XCTAssertEqual(Array(dataset.train.image(5)), Array(expected[(CIFAR10Loader.recordSize + 1) ..< (2 * CIFAR10Loader.recordSize)]))
        XCTAssertEqual(dataset.train.labels.map(Int.init), (0 ..< 20).map { $0 % 10 })

        let limited = try CIFAR10Loader.load(directory: directory, trainLimit: 6, testLimit: 2)
        XCTAssertEqual(limited.train.count, 6)
        XCTAssertEqual(limited.test.count, 2)
        XCTAssertEqual(limited.train, dataset.train.subset(first: 6))
    }

    func testFileWithWrongSizeIsNamed() throws {
        try DataTestSupport.writeSmallDataset(in: directory)
        var bytes = DataTestSupport.batchBytes(labels: [1, 2])
        bytes.removeLast(5)
        try Data(bytes).write(to: URL(fileURLWithPath: path("data_batch_3.bin")))
        XCTAssertThrowsError(try CIFAR10Loader.load(directory: directory)) { error in
            XCTAssertEqual(error as? DataError, .badFileSize(path: path("data_batch_3.bin"), size: 2 * 3073 - 5))
            let text = "\(error)"
            XCTAssertTrue(text.contains("data_batch_3.bin"), text)
            XCTAssertTrue(text.contains("6141 bytes"), text)
            XCTAssertTrue(text.contains("3073"), text)
            XCTAssertFalse(text.contains("\n"))
        }
    }

    func testEmptyFileIsRejected() throws {
        try DataTestSupport.writeSmallDataset(in: directory)
        try Data().write(to: URL(fileURLWithPath: path("test_batch.bin")))
        XCTAssertThrowsError(try CIFAR10Loader.load(directory: directory)) { error in
            XCTAssertEqual(error as? DataError, .badFileSize(path: path("test_batch.bin"), size: 0))
        }
    }

    func testLabelAboveNineIsNamedWithRecordAndValue() throws {
        try DataTestSupport.writeSmallDataset(in: directory)
        try Data(DataTestSupport.batchBytes(labels: [0, 9, 10])).write(to: URL(fileURLWithPath: path("data_batch_2.bin")))
        XCTAssertThrowsError(try CIFAR10Loader.load(directory: directory)) { error in
            XCTAssertEqual(error as? DataError, .badLabel(path: path("data_batch_2.bin"), record: 2, value: 10))
            let text = "\(error)"
            XCTAssertTrue(text.contains("data_batch_2.bin"), text)
            XCTAssertTrue(text.contains("record 2"), text)
            XCTAssertTrue(text.contains("label 10"), text)
        }
    }

    func testMissingBatchIsNamed() throws {
        try DataTestSupport.writeSmallDataset(in: directory)
        try FileManager.default.removeItem(atPath: path("data_batch_4.bin"))
        // Even a limited load that would not read the file reports it: the folder is incomplete.
        XCTAssertThrowsError(try CIFAR10Loader.load(directory: directory, trainLimit: 1)) { error in
            XCTAssertEqual(error as? DataError, .missingFile(path: path("data_batch_4.bin")))
            XCTAssertTrue("\(error)".contains("data_batch_4.bin"), "\(error)")
        }
    }

    func testMissingFolderIsNamed() {
        let missing = path("nowhere")
        XCTAssertThrowsError(try CIFAR10Loader.load(directory: missing)) { error in
            XCTAssertEqual(error as? DataError, .notADirectory(path: missing))
            XCTAssertTrue("\(error)".contains(missing))
        }
    }
}
