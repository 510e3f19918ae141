import Foundation
import TestSupport
import XCTest
import ConvKit

final class MD5Tests: XCTestCase {
    /// The test suite of RFC 1321, appendix A.5.
    func testRFC1321Vectors() {
        let vectors: [(String, String)] = [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
            ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"),
            (String(repeating: "1234567890", count: 8), "57edf4a22be3c955ac49da2e2107b67a"),
        ]
        for (message, digest) in vectors {
            XCTAssertEqual(MD5.hash(Data(message.utf8)).hex, digest, "MD5(\"\(message)\")")
        }
    }

    /// Feeding the same bytes in pieces of any size gives the one-shot digest (block and padding edges).
    func testStreamingMatchesOneShot() {
        var random = RandomSource(seed: 5)
        let bytes = (0 ..< 1000).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        for length in [55, 56, 63, 64, 65, 119, 120, 128, 1000] {
            let message = Array(bytes.prefix(length))
            let whole = MD5.hash(Data(message))
            for piece in [1, 3, 63, 64, 100] {
                var md5 = MD5()
                var at = 0
                while at < message.count {
                    md5.update(Array(message[at ..< min(at + piece, message.count)]))
                    at += piece
                }
                XCTAssertEqual(md5.finalize(), whole, "length \(length) in pieces of \(piece)")
            }
        }
    }

    /// A file hashed in 1 MiB chunks agrees with the system's md5sum.
    func testFileDigestMatchesMd5sum() throws {
        let directory = try DataTestSupport.makeTemporaryDirectory("md5")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = (directory as NSString).appendingPathComponent("blob")
        var random = RandomSource(seed: 11)
        let bytes = (0 ..< (3 << 20) + 17).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        guard let md5sum = ["/usr/bin/md5sum", "/bin/md5sum"].first(where: FileManager.default.isExecutableFile) else {
            throw skip(.noTool, "md5sum is not installed, so MD5 was not cross-checked against the system tool")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: md5sum)
        process.arguments = [path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(try MD5.hash(fileAt: path).hex, String(output.prefix(32)))
    }
}
