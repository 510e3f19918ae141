import CCleanup
import Foundation
import TestSupport
import XCTest
import ConvKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class AtomicFileTests: XCTestCase {
    struct EncoderFailed: Error {}

    func testWritesAndReplacesWithoutLeavingTemporaryFiles() throws {
        let directory = try makeTemporaryDirectory(self)
        let path = directory + "/a.bin"
        try AtomicFile.write(Data([1, 2, 3]), to: path)
        XCTAssertEqual(try FileBytes.read(path), [1, 2, 3])
        var info = stat()
        stat(path, &info)
        XCTAssertEqual(info.st_mode & 0o077, 0o044 & info.st_mode, "a new file is readable by others like any file (umask applies)")
        XCTAssertNotEqual(info.st_mode & 0o444, 0)

        chmod(path, 0o640)
        try AtomicFile.write([9, 8], to: path)
        XCTAssertEqual(try FileBytes.read(path), [9, 8])
        stat(path, &info)
        XCTAssertEqual(info.st_mode & 0o777, 0o640, "a replaced file keeps its mode")
        XCTAssertEqual(directoryListing(directory), ["a.bin"])

        // A relative path (current directory) works too.
        let cwd = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(directory))
        defer { _ = FileManager.default.changeCurrentDirectoryPath(cwd) }
        try AtomicFile.write([7], to: "relative.bin")
        XCTAssertEqual(try FileBytes.read(directory + "/relative.bin"), [7])
    }

    func testFailingEncoderLeavesOldFileIntactAndNoTemporaryFile() throws {
        let directory = try makeTemporaryDirectory(self)
        let path = directory + "/model.bin"
        try AtomicFile.write(Data("old contents".utf8), to: path)
        XCTAssertThrowsError(try AtomicFile.write(to: path) { file in
            _ = fputs("half of the new cont", file)
            throw EncoderFailed()
        }) { XCTAssertTrue($0 is EncoderFailed, "the encoder's own error passes through") }
        XCTAssertEqual(String(decoding: try FileBytes.read(path), as: UTF8.self), "old contents")
        XCTAssertEqual(directoryListing(directory), ["model.bin"])
    }

    func testDiskFullLeavesOldFileIntact() throws {
        let directory = try makeTemporaryDirectory(self)
        let path = directory + "/big.bin"
        try AtomicFile.write(Data("old".utf8), to: path)
        let big = Data(repeating: 0xAB, count: 1 << 20)
        let error = withFileSizeLimit(64 * 1024) {
            assertThrows(FileError.self) { try AtomicFile.write(big, to: path) }
        }
        XCTAssertEqual(error?.path, path)
        XCTAssertTrue(error?.description.contains("File too large") ?? false, String(describing: error))
        XCTAssertEqual(String(decoding: try FileBytes.read(path), as: UTF8.self), "old")
        XCTAssertEqual(directoryListing(directory), ["big.bin"])
    }

    /// What the signal handlers do (`ccleanup_remove_temporaries`), done by hand: during a write it deletes
    /// the temporary, so the write fails and the old file stays; after a write it deletes nothing.
    func testTheSignalHandlersCleanupDeletesTheTemporaryOfAWriteInProgressOnly() throws {
        let directory = try makeTemporaryDirectory(self)
        let path = directory + "/model.bin"
        try AtomicFile.write(Data("old".utf8), to: path)
        XCTAssertThrowsError(try AtomicFile.write(to: path) { file in
            _ = fputs("half of the new", file)
            XCTAssertEqual(directoryListing(directory).count, 2, "the temporary exists")
            XCTAssertTrue(directoryListing(directory).contains { $0.hasPrefix(".model.bin.tmp-\(getpid())-") })
            ccleanup_remove_temporaries()
            XCTAssertEqual(directoryListing(directory), ["model.bin"], "the handler's cleanup deleted the temporary")
        })
        XCTAssertEqual(String(decoding: try FileBytes.read(path), as: UTF8.self), "old")
        try AtomicFile.write(Data("new".utf8), to: path)
        ccleanup_remove_temporaries()
        XCTAssertEqual(String(decoding: try FileBytes.read(path), as: UTF8.self), "new", "a finished write is not a temporary")
        XCTAssertEqual(directoryListing(directory), ["model.bin"])
    }

    /// A temporary of this file left by a process that is gone (SIGKILL) is deleted by the next write;
    /// one of a live process (this one's pid 1 stands for another program) is left alone.
    func testTemporariesOfDeadProcessesAreRemovedByTheNextWrite() throws {
        let directory = try makeTemporaryDirectory(self)
        let path = directory + "/model.bin"
        var child = pid_t(0)
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
        defer { argv.forEach { free($0) } }
        XCTAssertEqual(posix_spawn(&child, "/bin/true", nil, nil, argv, nil), 0)
        var status: Int32 = 0
        waitpid(child, &status, 0)  // reaped: its pid names no process now
        let abandoned = directory + "/.model.bin.tmp-\(child)-0", alive = directory + "/.model.bin.tmp-1-0"
        for stray in [abandoned, alive] { XCTAssertTrue(FileManager.default.createFile(atPath: stray, contents: Data([1]))) }
        try AtomicFile.write(Data("new".utf8), to: path)
        XCTAssertEqual(directoryListing(directory), [".model.bin.tmp-1-0", "model.bin"])
    }

    func testMissingDirectoryGivesOneLineErrorNamingThePath() throws {
        let directory = try makeTemporaryDirectory(self)
        let path = directory + "/no/such/dir/file.bin"
        let error = assertThrows(FileError.self) { try AtomicFile.write(Data([1]), to: path) }
        XCTAssertEqual(error?.description,
                       "cannot write '\(path)': cannot create a temporary file in '\(directory)/no/such/dir': No such file or directory")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }

    func testReadOnlyDirectoryIsRefused() throws {
        guard geteuid() != 0 else {
            throw skip(.privileges, "running as root, which may write into read-only directories; testDiskFullLeavesOldFileIntact and testTargetThatIsADirectory cover failing writes instead")
        }
        let directory = try makeTemporaryDirectory(self)
        let path = directory + "/file.bin"
        try AtomicFile.write(Data("old".utf8), to: path)
        chmod(directory, 0o555)
        defer { chmod(directory, 0o755) }
        let error = assertThrows(FileError.self) { try AtomicFile.write(Data("new".utf8), to: path) }
        XCTAssertTrue(error?.description.contains("Permission denied") ?? false, String(describing: error))
        XCTAssertEqual(String(decoding: try FileBytes.read(path), as: UTF8.self), "old")
    }

    func testTargetThatIsADirectory() throws {
        let directory = try makeTemporaryDirectory(self)
        let path = directory + "/taken"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        let error = assertThrows(FileError.self) { try AtomicFile.write(Data([1]), to: path) }
        XCTAssertTrue(error?.description.hasPrefix("cannot write '\(path)': cannot move the new file into place") ?? false,
                      String(describing: error))
        XCTAssertEqual(directoryListing(directory), ["taken"])
        XCTAssertNotNil(assertThrows(FileError.self) { try AtomicFile.write(Data([1]), to: directory + "/") })
        XCTAssertNotNil(assertThrows(FileError.self) { try AtomicFile.write(Data([1]), to: "") })
    }

    func testPathVariantForEncodersThatWantAFileName() throws {
        let directory = try makeTemporaryDirectory(self)
        let path = directory + "/p.txt"
        try AtomicFile.write(to: path, usingTemporaryPath: { temporary in
            XCTAssertTrue(temporary.hasPrefix(directory + "/.p.txt.tmp-"), temporary)
            XCTAssertTrue(FileManager.default.fileExists(atPath: temporary))
            let file = try XCTUnwrap(fopen(temporary, "w"))
            fputs("via path", file)
            fclose(file)
        })
        XCTAssertEqual(String(decoding: try FileBytes.read(path), as: UTF8.self), "via path")
        XCTAssertThrowsError(try AtomicFile.write(to: path, usingTemporaryPath: { _ in throw EncoderFailed() }))
        XCTAssertEqual(String(decoding: try FileBytes.read(path), as: UTF8.self), "via path")
        XCTAssertEqual(directoryListing(directory), ["p.txt"])
    }

    func testFileBytesErrors() throws {
        let directory = try makeTemporaryDirectory(self)
        XCTAssertEqual(assertThrows(FileError.self) { try FileBytes.read(directory + "/missing") }?.description,
                       "cannot read '\(directory)/missing': No such file or directory")
        XCTAssertEqual(assertThrows(FileError.self) { try FileBytes.read(directory) }?.description,
                       "cannot read '\(directory)': it is a directory, not a file")
        try AtomicFile.write([UInt8](repeating: 1, count: 100), to: directory + "/f")
        XCTAssertNotNil(assertThrows(FileError.self) { try FileBytes.read(directory + "/f", limit: 99) })
        XCTAssertEqual(try FileBytes.read(directory + "/f", limit: 100).count, 100)
        XCTAssertEqual(try FileBytes.readPrefix(directory + "/f", count: 8).count, 8)
        XCTAssertEqual(try FileBytes.readPrefix(directory + "/f", count: 500).count, 100)
        XCTAssertEqual(assertThrows(FileError.self) { try FileBytes.readPrefix(directory, count: 8) }?.description,
                       "cannot read '\(directory)': it is a directory, not a file")
    }
}
