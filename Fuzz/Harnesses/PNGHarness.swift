/// PNG input (`--image`): `PNG.decode`, then the resize to 32 x 32 every use applies. The harness
/// rewrites each chunk's CRC before decoding, so that mutations reach libpng's chunk parsers instead of
/// failing the checksum.
///
/// Contract: an image or a `PNGError`; an image that decodes encodes to a PNG that decodes to the same
/// pixels.
enum PNGHarness {
    static let harness = FuzzHarness(name: "png", summary: "PNG input through libpng", run: run)

    static func run(_ input: [UInt8]) {
        let bytes = fixingChunkCRCs(input)
        guard let image = fuzzExpect("PNG.decode", { $0 is PNGError }, { try PNG.decode(bytes, source: "fuzz") }) else { return }
        fuzzCheck(image.width >= 1 && image.height >= 1 && image.width * image.height <= PNG.maximumPixelCount, "image size")
        _ = image.resized(width: 32, height: 32)
        if image.width * image.height <= 1 << 16 {
            let encoded = fuzzExpect("PNG.encode", { _ in false }) { try PNG.encode(image) }!
            let again = fuzzExpect("PNG.decode of our own PNG", { _ in false }) { try PNG.decode([UInt8](encoded)) }!
            fuzzCheck(again == image, "pixels changed in a round trip")
        }
    }

    /// `bytes` with the CRC of every complete chunk after the signature recomputed.
    static func fixingChunkCRCs(_ bytes: [UInt8]) -> [UInt8] {
        var out = bytes
        var position = 8
        while position + 12 <= out.count {
            let length = out[position..<position + 4].reduce(0) { $0 << 8 | Int($1) }
            let end = position + 8 + length
            guard length <= out.count, end + 4 <= out.count else { break }
            let crc = crc32(out[(position + 4)..<end])
            for k in 0..<4 { out[end + k] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * UInt32(k))) }
            position = end + 4
        }
        return out
    }

    static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for byte in bytes { c = crcTable[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}
