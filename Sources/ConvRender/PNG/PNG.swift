#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CPNG
// Fuzz/fuzz.sh compiles this file into ConvKit's own module for the png harness.
#if !FUZZ_IN_CONVKIT
import ConvKit
#endif
import Foundation

/// Reads and writes PNG files through libpng's simplified API (`png_image_*`).
///
/// Writing produces 8-bit RGB PNGs atomically (temporary file, then rename). Reading accepts any PNG
/// libpng understands (grey, grey + alpha, RGB, RGBA, palette, 16-bit) and converts it to 8-bit sRGB;
/// an alpha channel is composited onto black (fully transparent pixels become black).
public enum PNG {
    /// Images wider or taller than this are refused when reading, before any pixel is allocated.
    public static let maximumSide = 16384
    /// Images with more pixels than this are refused when reading (a corrupt or hostile header should not
    /// allocate gigabytes; every use brings the image down to 32 x 32 anyway): 100 megapixels.
    public static let maximumPixelCount = 100_000_000
    /// Files larger than this are refused unread (1 GiB: more than an uncompressed 100-megapixel RGB image).
    public static let maximumFileSize = 1 << 30

    /// Writes `image` as an 8-bit RGB PNG at `path`, atomically. Throws `FileError` when the path
    /// cannot be written and `PNGError` when libpng fails; no partial file is ever left behind.
    public static func write(_ image: RGBImage, to path: String) throws {
        guard image.width > 0, image.height > 0 else {
            throw PNGError(path: path, action: "write", reason: "the image is empty (\(image.width)x\(image.height))")
        }
        try AtomicFile.write(to: path) { file in
            var png = header(for: image)
            let ok = image.pixels.withUnsafeBytes { pixels in
                png_image_write_to_stdio(&png, file, 0, pixels.baseAddress, Int32(image.width * 3), nil)
            }
            guard ok != 0 else {
                // libpng says "Write Error"; the stream knows why (a full disk, a size limit).
                let cause = ferror(file) != 0 ? " (\(FileError.errnoText()))" : ""
                let reason = message(of: &png) + cause
                png_image_free(&png)
                throw PNGError(path: path, action: "write", reason: reason)
            }
        }
    }

    /// `image` encoded as an 8-bit RGB PNG in memory.
    public static func encode(_ image: RGBImage) throws -> Data {
        guard image.width > 0, image.height > 0 else {
            throw PNGError(path: "<memory>", action: "encode", reason: "the image is empty (\(image.width)x\(image.height))")
        }
        var png = header(for: image)
        let stride = Int32(image.width * 3)
        var size = 0
        return try image.pixels.withUnsafeBytes { pixels in
            // First pass measures, second pass writes.
            guard png_image_write_to_memory(&png, nil, &size, 0, pixels.baseAddress, stride, nil) != 0 else {
                let reason = message(of: &png)
                png_image_free(&png)
                throw PNGError(path: "<memory>", action: "encode", reason: reason)
            }
            var bytes = [UInt8](repeating: 0, count: size)
            let ok = bytes.withUnsafeMutableBytes {
                png_image_write_to_memory(&png, $0.baseAddress, &size, 0, pixels.baseAddress, stride, nil)
            }
            guard ok != 0 else {
                let reason = message(of: &png)
                png_image_free(&png)
                throw PNGError(path: "<memory>", action: "encode", reason: reason)
            }
            return Data(bytes[0..<size])
        }
    }

    /// Reads the PNG at `path` as 8-bit RGB (alpha composited onto black).
    ///
    /// Throws `FileError` when the file cannot be read (or is over `maximumFileSize`) and `PNGError`
    /// (naming the file) when it is not a PNG, is truncated or corrupt, or is larger than `maximumSide` or
    /// `maximumPixelCount`.
    public static func read(contentsOf path: String) throws -> RGBImage {
        try decode(FileBytes.read(path, limit: maximumFileSize), source: path)
    }

    /// Decodes a PNG held in memory as 8-bit RGB, like `read(contentsOf:)`; `source` names it in errors.
    public static func decode(_ bytes: [UInt8], source: String = "<memory>") throws -> RGBImage {
        if let problem = chunkProblem(bytes) { throw PNGError(path: source, action: "read", reason: problem) }
        return try bytes.withUnsafeBytes { raw in
            try decode(source: source) { png_image_begin_read_from_memory(&$0, raw.baseAddress, raw.count) }
        }
    }

    /// Reads the header with `begin`, checks the size against the limits, then decodes the pixels.
    private static func decode(source: String, begin: (inout png_image) -> Int32) throws -> RGBImage {
        var png = png_image()
        png.version = cpng_image_version()
        guard begin(&png) != 0 else {
            let reason = message(of: &png)
            png_image_free(&png)
            throw PNGError(path: source, action: "read", reason: reason)
        }
        let width = Int(png.width), height = Int(png.height)
        if let problem = sizeProblem(width: width, height: height) {
            png_image_free(&png)
            throw PNGError(path: source, action: "read", reason: problem)
        }
        png.format = png_uint_32(PNG_FORMAT_RGB)
        var pixels = [UInt8](repeating: 0, count: cpng_image_size(&png))
        precondition(pixels.count == width * height * 3, "libpng's RGB buffer size is not width * height * 3")
        var black = png_color(red: 0, green: 0, blue: 0)
        let ok = pixels.withUnsafeMutableBytes {
            png_image_finish_read(&png, &black, $0.baseAddress, Int32(width * 3), nil)
        }
        guard ok != 0, cpng_image_failed(&png) == 0 else {
            var reason = message(of: &png)
            if reason == "libpng: Read Error" { reason += " (the file is truncated or unreadable)" }
            png_image_free(&png)
            throw PNGError(path: source, action: "read", reason: reason)
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// Why the chunk layout of `bytes` is refused before libpng sees it, or nil.
    ///
    /// libpng allocates a chunk's declared length before reading it (1.6.39 does so for a 1.8 GB `zTXt`
    /// chunk, found by the fuzzer), so a length that runs past the end of the file is refused here: every
    /// allocation libpng then makes for a chunk is bounded by the file's size.
    static func chunkProblem(_ bytes: [UInt8]) -> String? {
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        guard bytes.count >= 8, bytes.prefix(8).elementsEqual(signature) else { return nil }  // libpng says what it is not
        var position = 8
        while position + 8 <= bytes.count {
            let length = bytes[position..<position + 4].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: bytes[position + 4..<position + 8].map { (0x21..<0x7F).contains($0) ? $0 : 0x3F }, as: UTF8.self)
            let remaining = bytes.count - position - 12
            if length > remaining {
                return "it is truncated or corrupt: chunk '\(type)' at byte \(position) declares \(length) bytes of data but only \(max(remaining, 0)) follow"
            }
            if type == "IEND" { return nil }
            position += 12 + length
        }
        return nil
    }

    /// Why an image of this size is refused, or nil when it is within the limits.
    static func sizeProblem(width: Int, height: Int) -> String? {
        if width < 1 || height < 1 { return "its size \(width)x\(height) is empty" }
        if width > maximumSide || height > maximumSide {
            return "its size \(width)x\(height) is beyond the limit of \(maximumSide) pixels a side"
        }
        if width * height > maximumPixelCount {
            return "its size \(width)x\(height) is beyond the limit of \(maximumPixelCount) pixels"
        }
        return nil
    }

    private static func header(for image: RGBImage) -> png_image {
        var png = png_image()
        png.version = cpng_image_version()
        png.width = png_uint_32(image.width)
        png.height = png_uint_32(image.height)
        png.format = png_uint_32(PNG_FORMAT_RGB)
        return png
    }

    /// libpng's message from the `png_image` (a fixed 64-byte C string).
    private static func message(of png: inout png_image) -> String {
        let text = withUnsafeBytes(of: &png.message) { raw -> String in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
        return text.isEmpty ? "libpng failed without a message" : "libpng: " + oneLine(text)
    }
}

/// libpng refused a file or an image; `description` is one line naming the file.
public struct PNGError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file (or `<memory>`).
    public let path: String
    /// `read`, `write` or `encode`.
    public let action: String
    public let reason: String

    public var description: String { "cannot \(action) PNG \(quotedPath(path)): \(reason)" }
}
