import CPNG
import Foundation
import TestSupport
import XCTest
import ConvKit
import ConvRender

final class PNGTests: XCTestCase {
    /// An image where every channel of every pixel differs from its neighbours.
    func varied(width: Int = 37, height: Int = 23) -> RGBImage {
        var random = RandomSource(seed: 7)
        var pixels = (0..<width * height * 3).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        pixels[0] = 0; pixels[1] = 255; pixels[2] = 128
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// Writes `pixels` in libpng `format` (for inputs other than RGB), returns the path.
    func writeRaw(_ pixels: [UInt8], width: Int, height: Int, format: Int32, colormap: [UInt8]? = nil, to path: String) throws {
        var png = png_image()
        png.version = cpng_image_version()
        png.width = png_uint_32(width)
        png.height = png_uint_32(height)
        png.format = png_uint_32(format)
        if let colormap { png.colormap_entries = png_uint_32(colormap.count / 3) }
        let ok = pixels.withUnsafeBytes { p in
            (colormap ?? []).withUnsafeBytes { c in
                png_image_write_to_file(&png, path, 0, p.baseAddress, 0, colormap == nil ? nil : c.baseAddress)
            }
        }
        XCTAssertNotEqual(ok, 0, "test PNG written")
    }

    func testRoundTripIsExact() throws {
        let directory = try makeTemporaryDirectory(self)
        let path = directory + "/img.png"
        let image = varied()
        try PNG.write(image, to: path)
        let bytes = try FileBytes.read(path)
        XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "PNG signature")
        XCTAssertEqual(try PNG.read(contentsOf: path), image)
        XCTAssertEqual(directoryListing(directory), ["img.png"])

        // The in-memory encoder gives a file that decodes the same.
        let encoded = try PNG.encode(image)
        try AtomicFile.write(encoded, to: directory + "/mem.png")
        XCTAssertEqual(try PNG.read(contentsOf: directory + "/mem.png"), image)
    }

    func testOtherPNGFormatsAreConvertedToRGB() throws {
        let directory = try makeTemporaryDirectory(self)
        // Grey.
        try writeRaw([0, 100, 255, 7], width: 2, height: 2, format: Int32(PNG_FORMAT_GRAY), to: directory + "/g.png")
        XCTAssertEqual(try PNG.read(contentsOf: directory + "/g.png").pixels, [0, 0, 0, 100, 100, 100, 255, 255, 255, 7, 7, 7])
        // RGBA: opaque keeps its colour, transparent becomes black.
        try writeRaw([10, 20, 30, 255, 200, 100, 50, 0], width: 2, height: 1, format: Int32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA), to: directory + "/a.png")
        XCTAssertEqual(try PNG.read(contentsOf: directory + "/a.png").pixels, [10, 20, 30, 0, 0, 0])
        // Palette.
        let palette: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255]
        try writeRaw([2, 0, 1, 2], width: 4, height: 1, format: Int32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_COLORMAP), colormap: palette, to: directory + "/p.png")
        XCTAssertEqual(try PNG.read(contentsOf: directory + "/p.png").pixels, [0, 0, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255])
    }

    func testMissingDirectoryGivesErrorAndNoFile() throws {
        let directory = try makeTemporaryDirectory(self)
        let path = directory + "/missing/out.png"
        let error = assertThrows(FileError.self) { try PNG.write(varied(), to: path) }
        XCTAssertTrue(error?.description.hasPrefix("cannot write '\(path)'") ?? false, String(describing: error))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }

    func testReadOnlyDirectoryGivesErrorAndNoFile() throws {
        guard geteuid() != 0 else {
            throw skip(.privileges, "running as root, which may write into read-only directories; testFailedWriteKeepsTheOldFile simulates a failing write instead")
        }
        let directory = try makeTemporaryDirectory(self)
        let old = varied(width: 3, height: 3)
        try PNG.write(old, to: directory + "/ro.png")
        chmod(directory, 0o555)
        defer { chmod(directory, 0o755) }
        let error = assertThrows(FileError.self) { try PNG.write(varied(), to: directory + "/ro.png") }
        XCTAssertTrue(error?.description.contains("Permission denied") ?? false, String(describing: error))
        XCTAssertEqual(try PNG.read(contentsOf: directory + "/ro.png"), old, "old file intact")
        XCTAssertEqual(directoryListing(directory), ["ro.png"])
    }

    func testFailedWriteKeepsTheOldFile() throws {
        let directory = try makeTemporaryDirectory(self)
        let path = directory + "/heat.png"
        let old = varied(width: 4, height: 4)
        try PNG.write(old, to: path)
        // A full disk, simulated with a file size limit: libpng's writes fail part way.
        var random = RandomSource(seed: 3)
        let noise = RGBImage(width: 512, height: 512, pixels: (0..<512 * 512 * 3).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        let error: (any Error)? = withFileSizeLimit(16 * 1024) {
            do { try PNG.write(noise, to: path); return nil } catch { return error }
        }
        let text = error.map { String(describing: $0) } ?? "no error"
        XCTAssertNotNil(error, "the write must fail")
        XCTAssertTrue(text.contains(path), text)
        XCTAssertFalse(text.contains("\n"))
        XCTAssertEqual(try PNG.read(contentsOf: path), old, "old file intact")
        XCTAssertEqual(directoryListing(directory), ["heat.png"], "temporary file removed")

        // A directory standing where the file should go: the rename fails after encoding.
        try FileManager.default.createDirectory(atPath: directory + "/dir.png", withIntermediateDirectories: false)
        XCTAssertNotNil(assertThrows(FileError.self) { try PNG.write(old, to: directory + "/dir.png") })
        XCTAssertEqual(directoryListing(directory), ["dir.png", "heat.png"])
    }

    func testReadingNonPNGOrTruncatedFileNamesIt() throws {
        let directory = try makeTemporaryDirectory(self)
        let text = directory + "/notes.txt"
        try AtomicFile.write(Data("just some text, not an image\n".utf8), to: text)
        let error = assertThrows(PNGError.self) { try PNG.read(contentsOf: text) }
        XCTAssertTrue(error?.description.hasPrefix("cannot read PNG '\(text)': ") ?? false, String(describing: error))

        let full = directory + "/full.png"
        try PNG.write(varied(width: 64, height: 64), to: full)
        let bytes = try FileBytes.read(full)
        for cut in [4, 20, 60, bytes.count / 2, bytes.count - 20] {
            let path = directory + "/cut\(cut).png"
            try AtomicFile.write(Array(bytes.prefix(cut)), to: path)
            let cutError = assertThrows(PNGError.self, "cut at \(cut)") { try PNG.read(contentsOf: path) }
            XCTAssertTrue(cutError?.description.contains(path) ?? false, String(describing: cutError))
        }

        XCTAssertNotNil(assertThrows(FileError.self) { try PNG.read(contentsOf: directory + "/absent.png") })
        XCTAssertNotNil(assertThrows(FileError.self) { try PNG.read(contentsOf: directory) })
        XCTAssertNotNil(assertThrows(PNGError.self) { try PNG.write(RGBImage(width: 0, height: 3), to: directory + "/empty.png") })
    }
}
