import ConvKit
import ConvRender
import Foundation
import TestSupport
import XCTest

/// PNG input sized by its header or its chunks is refused before anything is allocated for it, with a
/// one-line error; the inputs the png fuzzer once broke the decoder with (`Fuzz/corpus/png/regress-*`) stay
/// handled, and its seeds decode. (The other parsers' limits are ConvKit's `ParserLimitTests`.)
final class PNGLimitTests: XCTestCase {
    static let corpus = ConvscopeBinary.packageRoot + "/Fuzz/corpus"

    /// A PNG of `width` x `height` 8-bit grey pixels: a header and almost no pixel data.
    func pngHeader(width: UInt32, height: UInt32) -> [UInt8] {
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            let crc = PNGChunkCRC.crc32(body)
            return withUnsafeBytes(of: UInt32(data.count).bigEndian, Array.init) + body + withUnsafeBytes(of: crc.bigEndian, Array.init)
        }
        let ihdr = withUnsafeBytes(of: width.bigEndian, Array.init) + withUnsafeBytes(of: height.bigEndian, Array.init) + [8, 0, 0, 0, 0]
        // libpng reads the header up to the first IDAT chunk: the start of a zlib stream is enough.
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IDAT", [0x78, 0x9C]) + chunk("IEND", [])
    }

    func testPNGRefusesHugeImagesFromTheirHeader() {
        for (width, height, limit) in [(16385, 1, "16384 pixels a side"), (1, 20000, "16384 pixels a side"), (10000, 10001, "100000000 pixels")] {
            let error = assertThrows(PNGError.self) { try PNG.decode(pngHeader(width: UInt32(width), height: UInt32(height)), source: "big.png") }
            XCTAssertEqual(error?.description, "cannot read PNG 'big.png': its size \(width)x\(height) is beyond the limit of \(limit)")
        }
        // Within the limits the header passes and the missing pixel data is the error.
        let error = assertThrows(PNGError.self) { try PNG.decode(pngHeader(width: 16384, height: 6103), source: "empty.png") }
        XCTAssertFalse(error?.description.contains("limit") ?? true, String(describing: error))
    }

    /// Found by the png harness: libpng allocated a chunk's declared length (1.8 GB for a `zTXt` chunk in a
    /// 240-byte file) before reading it.
    func testPNGRefusesAChunkLongerThanTheFile() throws {
        let bytes = try FileBytes.read(Self.corpus + "/png/regress-ztxt-length.png")
        let error = assertThrows(PNGError.self) { try PNG.decode(bytes, source: "ztxt.png") }
        XCTAssertTrue(
            error?.description.hasPrefix("cannot read PNG 'ztxt.png': it is truncated or corrupt: chunk 'zTXt' at byte 78 declares 1845493779 bytes")
                ?? false, String(describing: error))
    }

    func testPNGDecodesFromMemoryLikeFromAFile() throws {
        let directory = try makeTemporaryDirectory(self)
        for name in try FileManager.default.contentsOfDirectory(atPath: Self.corpus + "/png") where name.hasPrefix("seed-") {
            let path = Self.corpus + "/png/" + name
            XCTAssertEqual(try PNG.decode(FileBytes.read(path)), try PNG.read(contentsOf: path), name)
        }
        let image = RGBImage(width: 3, height: 2, pixels: Array(0..<18))
        try PNG.write(image, to: directory + "/a.png")
        XCTAssertEqual(try PNG.decode(FileBytes.read(directory + "/a.png")), image)
    }

    func testSeedCorpusIsAcceptedByTheDecoder() throws {
        let pngs = try FileManager.default.contentsOfDirectory(atPath: Self.corpus + "/png").filter { $0.hasPrefix("seed-") }
        XCTAssertGreaterThan(pngs.count, 3, "PNG seeds (Fuzz/png_seeds.py)")
        for name in pngs { XCTAssertNoThrow(try PNG.read(contentsOf: Self.corpus + "/png/" + name), name) }
    }
}

/// PNG's chunk checksum (CRC-32, the polynomial zlib uses), to build test files by hand.
enum PNGChunkCRC {
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            c ^= UInt32(byte)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return c ^ 0xFFFF_FFFF
    }
}
