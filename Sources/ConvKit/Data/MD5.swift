import Foundation

/// MD5 message digest (RFC 1321), fed in pieces so a large file can be hashed chunk by chunk.
///
/// Only for checking that a download arrived intact against a published checksum; MD5 is broken as a
/// defence against deliberate tampering.
///
///     var md5 = MD5()
///     md5.update(chunk1); md5.update(chunk2)
///     let hex = md5.finalize().hex   // 32 lowercase hex digits
public struct MD5: Sendable {
    /// A finished 16-byte digest.
    public struct Digest: Sendable, Equatable, CustomStringConvertible {
        public let bytes: [UInt8]
        /// 32 lowercase hexadecimal digits.
        public var hex: String { bytes.map { String(format: "%02x", $0) }.joined() }
        public var description: String { hex }
    }

    private var a: UInt32 = 0x6745_2301
    private var b: UInt32 = 0xEFCD_AB89
    private var c: UInt32 = 0x98BA_DCFE
    private var d: UInt32 = 0x1032_5476
    /// Bytes of an incomplete block carried to the next `update`.
    private var pending = [UInt8]()
    /// Message length so far in bytes.
    private var length: UInt64 = 0

    public init() {
        pending.reserveCapacity(64)
    }

    /// Per-round additive constants: `floor(abs(sin(i + 1)) * 2^32)` (RFC 1321, section 3.4).
    private static let sines: [UInt32] = (0 ..< 64).map { UInt32(abs(sin(Double($0 + 1))) * 4_294_967_296.0) }
    /// Left-rotation amounts, four per round.
    private static let shifts: [UInt32] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21]

    /// Adds `bytes` to the message.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var p = bytes.baseAddress, bytes.count > 0 else { return }
        var remaining = bytes.count
        length &+= UInt64(remaining)
        if !pending.isEmpty {
            let take = min(64 - pending.count, remaining)
            pending.append(contentsOf: UnsafeRawBufferPointer(start: p, count: take))
            p += take
            remaining -= take
            guard pending.count == 64 else { return }
            pending.withUnsafeBytes { processBlock($0.baseAddress!) }
            pending.removeAll(keepingCapacity: true)
        }
        while remaining >= 64 {
            processBlock(p)
            p += 64
            remaining -= 64
        }
        if remaining > 0 { pending.append(contentsOf: UnsafeRawBufferPointer(start: p, count: remaining)) }
    }

    /// Adds `data` to the message.
    public mutating func update(_ data: Data) { data.withUnsafeBytes { update($0) } }
    /// Adds `bytes` to the message.
    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// Pads the message and returns its digest. The hasher must not be updated afterwards.
    public mutating func finalize() -> Digest {
        let bitLength = length &* 8
        var tail: [UInt8] = [0x80]
        let used = (pending.count + 1) % 64
        tail += [UInt8](repeating: 0, count: (56 - used + 64) % 64)
        for i in 0 ..< 8 { tail.append(UInt8(truncatingIfNeeded: bitLength >> (8 * UInt64(i)))) }
        let keep = length
        update(tail)
        length = keep
        precondition(pending.isEmpty, "MD5 padding must end on a block boundary")
        var out = [UInt8]()
        for word in [a, b, c, d] {
            for i in 0 ..< 4 { out.append(UInt8(truncatingIfNeeded: word >> (8 * UInt32(i)))) }
        }
        return Digest(bytes: out)
    }

    /// The digest of `data` in one call.
    public static func hash(_ data: Data) -> Digest {
        var md5 = MD5()
        md5.update(data)
        return md5.finalize()
    }

    /// The digest of a file, read in 1 MiB chunks.
    public static func hash(fileAt path: String) throws -> Digest {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DataError.unreadable(path: path, reason: "cannot open")
        }
        defer { try? handle.close() }
        var md5 = MD5()
        while true {
            let chunk: Data?
            do { chunk = try handle.read(upToCount: 1 << 20) } catch {
                throw DataError.unreadable(path: path, reason: error.localizedDescription)
            }
            guard let chunk, !chunk.isEmpty else { break }
            md5.update(chunk)
        }
        return md5.finalize()
    }

    /// One 64-byte block (RFC 1321, section 3.4).
    private mutating func processBlock(_ block: UnsafeRawPointer) {
        @inline(__always) func word(_ g: Int) -> UInt32 {
            UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 4 * g, as: UInt32.self))
        }
        var aa = a, bb = b, cc = c, dd = d
        MD5.sines.withUnsafeBufferPointer { k in
            MD5.shifts.withUnsafeBufferPointer { s in
                for i in 0 ..< 64 {
                    let f: UInt32, g: Int
                    switch i >> 4 {
                    case 0: f = (bb & cc) | (~bb & dd); g = i
                    case 1: f = (bb & dd) | (cc & ~dd); g = (5 * i + 1) & 15
                    case 2: f = bb ^ cc ^ dd; g = (3 * i + 5) & 15
                    default: f = cc ^ (bb | ~dd); g = (7 * i) & 15
                    }
                    let sum = aa &+ f &+ k[i] &+ word(g)
                    let amount = s[(i >> 4) * 4 + (i & 3)]
                    let rotated = (sum << amount) | (sum >> (32 - amount))
                    aa = dd
                    dd = cc
                    cc = bb
                    bb = bb &+ rotated
                }
            }
        }
        a &+= aa; b &+= bb; c &+= cc; d &+= dd
    }
}
