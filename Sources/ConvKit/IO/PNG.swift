#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CPNG
import Foundation

/// Reads and writes PNG files through libpng's simplified API (`png_image_*`).
///
/// Writing produces 8-bit RGB PNGs atomically (temporary file, then rename). Reading accepts any PNG
/// libpng understands (grey, grey + alpha, RGB, RGBA, palette, 16-bit) and converts it to 8-bit sRGB;
/// an alpha channel is composited onto black (fully transparent pixels become black).
public enum PNG {
    /// Images with more pixels than this are refused when reading (a corrupt header should not
    /// allocate gigabytes): 2^27, about 134 megapixels.
    public static let maximumPixelCount = 1 << 27

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
    /// Throws `FileError` when the file cannot be opened and `PNGError` (naming the file) when it is
    /// not a PNG, is truncated or corrupt, or is absurdly large.
    public static func read(contentsOf path: String) throws -> RGBImage {
        var info = stat()
        guard stat(path, &info) == 0 else { throw FileError(path: path, action: "read", reason: FileError.errnoText()) }
        guard (info.st_mode & S_IFMT) != S_IFDIR else {
            throw FileError(path: path, action: "read", reason: "it is a directory, not a file")
        }

        var png = png_image()
        png.version = cpng_image_version()
        guard png_image_begin_read_from_file(&png, path) != 0 else {
            let reason = message(of: &png)
            png_image_free(&png)
            throw PNGError(path: path, action: "read", reason: reason)
        }
        let width = Int(png.width), height = Int(png.height)
        guard width > 0, height > 0, width * height <= maximumPixelCount else {
            png_image_free(&png)
            throw PNGError(path: path, action: "read", reason: "its size \(width)x\(height) is beyond the limit of \(maximumPixelCount) pixels")
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
            throw PNGError(path: path, action: "read", reason: reason)
        }
        return RGBImage(width: width, height: height, pixels: pixels)
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
