import Foundation
import TestSupport
import XCTest
import ConvKit

/// Downloads from a real HTTP server on 127.0.0.1 (Python's `http.server`, with three extra routes that
/// misbehave on purpose) into a temporary cache folder.
final class DatasetDownloaderTests: XCTestCase {
    private var root = ""
    /// What the server serves.
    private var served = ""
    /// The downloader's cache folder.
    private var cache = ""
    private var server: LocalHTTPServer?
    /// MD5 of the good tarball.
    private var goodMD5 = ""
    /// Size of the good tarball in bytes.
    private var goodSize: Int64 = 0

    override func setUpWithError() throws {
        root = try DataTestSupport.makeTemporaryDirectory("download")
        served = (root as NSString).appendingPathComponent("served")
        cache = (root as NSString).appendingPathComponent("cache")
        try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)

        // The official layout: cifar-10-batches-bin/ with six batches and batches.meta.txt.
        let staging = (root as NSString).appendingPathComponent("staging")
        try DataTestSupport.writeSmallDataset(
            in: (staging as NSString).appendingPathComponent("cifar-10-batches-bin"), recordsPerFile: 20, noisy: true)
        let tarball = (served as NSString).appendingPathComponent("cifar-10-binary.tar.gz")
        try DataTestSupport.runTool("/usr/bin/env", ["tar", "-czf", tarball, "-C", staging, "cifar-10-batches-bin"])
        goodMD5 = try MD5.hash(fileAt: tarball).hex
        goodSize = Int64(try XCTUnwrap(FileManager.default.attributesOfItem(atPath: tarball)[.size] as? Int))

        server = try LocalHTTPServer(directory: served, scratch: root)
    }

    override func tearDownWithError() throws {
        server?.stop()
        server = nil
        try? FileManager.default.removeItem(atPath: root)
    }

    private func downloader(_ path: String, md5: String? = nil) throws -> DatasetDownloader {
        let server = try XCTUnwrap(server)
        return DatasetDownloader(
            url: URL(string: "http://127.0.0.1:\(server.port)/\(path)")!, expectedMD5: md5 ?? goodMD5,
            cacheDirectory: cache, idleTimeout: 10)
    }

    private var datasetFolder: String { (cache as NSString).appendingPathComponent("cifar-10-batches-bin") }

    /// The cache folder holds nothing at all: no dataset, no temporaries.
    private func assertNothingLeft(file: StaticString = #filePath, line: UInt = #line) {
        print("cache after the failure: \(DataTestSupport.contents(of: cache))")
        XCTAssertEqual(DataTestSupport.contents(of: cache), [], "cache folder should be empty", file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: datasetFolder), file: file, line: line)
    }

    func testDownloadsChecksUnpacksAndInstalls() throws {
        // A temporary left by an earlier run that was killed (no process has this id) is cleared away.
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        let stale = (cache as NSString).appendingPathComponent(".convscope-tmp-999999999-1.tar.gz")
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: stale))

        let reports = Reports()
        let outcome = try downloader("cifar-10-binary.tar.gz").run { reports.append($0) }
        XCTAssertEqual(outcome, .downloaded(directory: datasetFolder, bytes: goodSize))
        XCTAssertEqual(DataTestSupport.contents(of: cache), ["cifar-10-batches-bin"], "only the dataset remains")

        let dataset = try CIFAR10Loader.load(directory: datasetFolder)
        XCTAssertEqual(dataset.train.count, 100)
        XCTAssertEqual(dataset.test.count, 20)
        XCTAssertEqual(dataset.train.labels.map(Int.init), (0 ..< 100).map { $0 % 10 })

        let downloading = reports.all.filter { $0.phase == .downloading }
        print("progress reports while downloading \(goodSize) bytes: \(downloading.map(\.received))")
        XCTAssertGreaterThan(downloading.count, 1, "progress is reported as chunks arrive (\(goodSize) bytes)")
        let counts = downloading.map(\.received)
        XCTAssertEqual(counts, counts.sorted())
        XCTAssertEqual(Set(counts).count, counts.count, "byte counts strictly increase")
        XCTAssertEqual(counts.last, goodSize)
        XCTAssertEqual(downloading.last?.total, goodSize)
        XCTAssertEqual(downloading.last?.fraction, 1)
        XCTAssertEqual(reports.all.last?.phase, .unpacking)

        // A second run finds the dataset and downloads nothing.
        let again = Reports()
        XCTAssertEqual(try downloader("cifar-10-binary.tar.gz").run { again.append($0) }, .alreadyPresent(directory: datasetFolder))
        XCTAssertTrue(again.all.isEmpty)
        XCTAssertTrue("\(DatasetDownloader.Outcome.alreadyPresent(directory: datasetFolder))".contains("already"))
    }

    func testReplacesAnIncompleteDataset() async throws {
        try FileManager.default.createDirectory(atPath: datasetFolder, withIntermediateDirectories: true)
        try Data([0]).write(to: URL(fileURLWithPath: (datasetFolder as NSString).appendingPathComponent("data_batch_1.bin")))
        let outcome = try await downloader("cifar-10-binary.tar.gz").download()
        XCTAssertEqual(outcome, .downloaded(directory: datasetFolder, bytes: goodSize))
        XCTAssertEqual(DataTestSupport.contents(of: cache), ["cifar-10-batches-bin"])
        XCTAssertEqual(try CIFAR10Loader.validate(directory: datasetFolder), [20, 20, 20, 20, 20, 20])
    }

    func testWrongChecksumLeavesNothing() throws {
        let wrong = String(repeating: "0", count: 32)
        XCTAssertThrowsError(try downloader("cifar-10-binary.tar.gz", md5: wrong).run()) { error in
            XCTAssertEqual(error as? DownloadError, .checksumMismatch(
                url: "http://127.0.0.1:\(server!.port)/cifar-10-binary.tar.gz", actual: goodMD5, expected: wrong))
            XCTAssertTrue("\(error)".contains("MD5"), "\(error)")
        }
        assertNothingLeft()
    }

    func testHTTPErrorLeavesNothing() throws {
        XCTAssertThrowsError(try downloader("no-such-file.tar.gz").run()) { error in
            XCTAssertEqual(error as? DownloadError, .http(status: 404, url: "http://127.0.0.1:\(server!.port)/no-such-file.tar.gz"))
            XCTAssertTrue("\(error)".contains("HTTP 404"), "\(error)")
        }
        assertNothingLeft()
    }

    func testTruncatedResponseLeavesNothing() throws {
        XCTAssertThrowsError(try downloader("truncated/cifar-10-binary.tar.gz").run()) { error in
            print("truncated: \(error)")
            guard let error = error as? DownloadError else { return XCTFail("\(error)") }
            switch error {
            case .transfer, .truncated: break
            default: XCTFail("expected a transfer failure, got \(error)")
            }
        }
        assertNothingLeft()
    }

    func testServerKilledMidTransferLeavesNothing() throws {
        let firstBytes = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        let result = Locked<Result<DatasetDownloader.Outcome, any Error>?>(nil)
        let loader = try downloader("stall/cifar-10-binary.tar.gz")
        DispatchQueue.global().async {
            let outcome = Result { try loader.run { if $0.received > 0 { firstBytes.signal() } } }
            result.withLock { $0 = outcome }
            finished.signal()
        }
        XCTAssertEqual(firstBytes.wait(timeout: .now() + 20), .success, "the server sent its first half")
        server?.stop()
        XCTAssertEqual(finished.wait(timeout: .now() + 30), .success, "the download gave up after the server died")
        let outcome = result.withLock { $0 }
        guard case .failure(let error)? = outcome else { return XCTFail("download should fail, got \(String(describing: outcome))") }
        print("server killed: \(error)")
        XCTAssertNotNil(error as? DownloadError, "\(error)")
        assertNothingLeft()
    }

    func testUnreachableServerLeavesNothing() throws {
        let loader = try downloader("cifar-10-binary.tar.gz")
        server?.stop()
        XCTAssertThrowsError(try loader.run()) { error in
            print("unreachable: \(error)")
            guard case .transfer? = error as? DownloadError else { return XCTFail("\(error)") }
        }
        assertNothingLeft()
    }

    func testArchiveThatIsNotATarballLeavesNothing() throws {
        var random = RandomSource(seed: 3)
        let garbage = Data((0 ..< 50_000).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        try garbage.write(to: URL(fileURLWithPath: (served as NSString).appendingPathComponent("garbage.tar.gz")))
        XCTAssertThrowsError(try downloader("garbage.tar.gz", md5: MD5.hash(garbage).hex).run()) { error in
            print("not a tarball: \(error)")
            guard case .unpackFailed? = error as? DownloadError else { return XCTFail("\(error)") }
        }
        assertNothingLeft()
    }

    func testArchiveWithIncompleteDatasetLeavesNothing() throws {
        let staging = (root as NSString).appendingPathComponent("partial")
        let folder = (staging as NSString).appendingPathComponent("cifar-10-batches-bin")
        try DataTestSupport.writeSmallDataset(in: folder)
        try FileManager.default.removeItem(atPath: (folder as NSString).appendingPathComponent("test_batch.bin"))
        let tarball = (served as NSString).appendingPathComponent("partial.tar.gz")
        try DataTestSupport.runTool("/usr/bin/env", ["tar", "-czf", tarball, "-C", staging, "cifar-10-batches-bin"])
        XCTAssertThrowsError(try downloader("partial.tar.gz", md5: MD5.hash(fileAt: tarball).hex).run()) { error in
            print("incomplete archive: \(error)")
            guard case .invalidArchive? = error as? DownloadError else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains(" cifar-10-batches-bin/test_batch.bin"), "\(error)")
            XCTAssertFalse("\(error)".contains(".convscope-tmp-"), "\(error)")
        }
        assertNothingLeft()
    }
}

/// Progress reports collected from the downloader's background thread.
private final class Reports: Sendable {
    private let storage = Locked<[DownloadProgress]>([])
    func append(_ report: DownloadProgress) { storage.withLock { $0.append(report) } }
    var all: [DownloadProgress] { storage.withLock { $0 } }
}

/// A Python HTTP server on 127.0.0.1 serving a folder, plus routes that fail on purpose:
/// `/truncated/NAME` announces NAME's full length but sends half and closes; `/stall/NAME` sends half and
/// then waits (for the test to kill the server).
private final class LocalHTTPServer {
    let port: Int
    private let process: Process

    private static let script = """
        import http.server, os, socket, sys, time
        directory, port_file = sys.argv[1], sys.argv[2]

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=directory, **kwargs)

            def log_message(self, *args):
                pass

            def do_GET(self):
                for route in ("/truncated/", "/stall/"):
                    if self.path.startswith(route):
                        with open(os.path.join(directory, self.path[len(route):]), "rb") as f:
                            data = f.read()
                        self.send_response(200)
                        self.send_header("Content-Type", "application/gzip")
                        self.send_header("Content-Length", str(len(data)))
                        self.end_headers()
                        self.wfile.write(data[: len(data) // 2])
                        self.wfile.flush()
                        if route == "/stall/":
                            time.sleep(60)
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                super().do_GET()

        # Port 0: the kernel picks a free port, so two test runs never race for one.
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        with open(port_file + ".tmp", "w") as f:
            f.write(str(server.server_address[1]))
        os.rename(port_file + ".tmp", port_file)
        server.serve_forever()
        """

    /// Starts the server, retrying up to three times, and returns once it accepts connections.
    init(directory: String, scratch: String) throws {
        let scriptPath = (scratch as NSString).appendingPathComponent("server.py")
        try Data(LocalHTTPServer.script.utf8).write(to: URL(fileURLWithPath: scriptPath))
        var lastProblem = "not started"
        for attempt in 1 ... 3 {
            let portFile = (scratch as NSString).appendingPathComponent("port-\(attempt)")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", scriptPath, directory, portFile]
            process.standardOutput = FileHandle.nullDevice
            do { try process.run() } catch {
                throw skip(.noPython, "cannot start python3 for the local HTTP server: \(error)")
            }
            let deadline = Date().addingTimeInterval(15)
            var port: Int?
            while Date() < deadline && process.isRunning && port == nil {
                if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let value = Int(text),
                   LocalHTTPServer.accepts(port: value) {
                    port = value
                } else {
                    usleep(50_000)
                }
            }
            if let port {
                self.port = port
                self.process = process
                return
            }
            lastProblem = process.isRunning ? "no answer within 15 s" : "python3 exited with \(process.terminationStatus)"
            if process.isRunning { process.terminate(); process.waitUntilExit() }
        }
        throw NSError(domain: "LocalHTTPServer", code: 1,
                      userInfo: [NSLocalizedDescriptionKey: "local HTTP server did not start: \(lastProblem)"])
    }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    private static func accepts(port: Int) -> Bool {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { return false }
        defer { close(socketFD) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
