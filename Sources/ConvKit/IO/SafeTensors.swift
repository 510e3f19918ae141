import Foundation

/// Named tensors and string metadata in the safetensors format, the checkpoint format of ConvScope.
///
/// Layout of a file: an 8-byte little-endian `UInt64` header length `N`, then `N` bytes of JSON, then the
/// tensors' raw little-endian bytes. The header maps each tensor name to
/// `{"dtype": "F32", "shape": [16, 3, 3, 3], "data_offsets": [begin, end]}`, with offsets relative to
/// the start of the data section, plus an optional `"__metadata__"` object of string values.
/// Files written here load with Python's `safetensors` (numpy and PyTorch) and vice versa.
///
/// Writing is deterministic: JSON keys sorted, no whitespace, the header padded with spaces to a
/// multiple of 8 bytes (so the data section starts 8-byte aligned), and the data laid out in
/// `tensors` order, stably grouped by element size, widest first, so every tensor is aligned to its
/// element size. Reading returns the tensors in the order of their data in the file, which
/// for a file written here is that layout order.
public struct SafeTensors: Equatable, Sendable {
    /// The element types ConvScope reads and writes.
    public enum DType: String, CaseIterable, Sendable {
        case f32 = "F32"
        case i64 = "I64"
        case i32 = "I32"
        case i8 = "I8"
        case u8 = "U8"

        /// Bytes per element.
        public var size: Int {
            switch self {
            case .f32, .i32: return 4
            case .i64: return 8
            case .i8, .u8: return 1
            }
        }
    }

    /// What the header says of one tensor: its name, element type and shape, without its bytes.
    public struct Descriptor: Equatable, Sendable {
        public var name: String
        public let dtype: DType
        public let shape: [Int]

        public init(name: String, dtype: DType, shape: [Int]) {
            precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape) of '\(name)'")
            self.name = name
            self.dtype = dtype
            self.shape = shape
        }

        /// Bytes of the tensor's data: the element count times the element size.
        public var byteCount: Int { shape.reduce(1, *) * dtype.size }

        /// Stops the program unless `count` bytes are exactly the tensor's data (a caller's bug, not bad input).
        func requireByteCount(_ count: Int) {
            precondition(count == byteCount, "'\(name)': \(count) bytes do not hold shape \(shape) of \(dtype.rawValue)")
        }
    }

    /// One named tensor: element type, shape (PyTorch order, `[]` for a scalar) and raw little-endian bytes.
    ///
    /// The byte count always equals the element count times the element size.
    public struct Entry: Equatable, Sendable {
        public var name: String
        public let dtype: DType
        public let shape: [Int]
        public let bytes: [UInt8]

        /// A tensor from raw little-endian bytes; `bytes.count` must equal `product(shape) * dtype.size`.
        public init(name: String, dtype: DType, shape: [Int], bytes: [UInt8]) {
            // The descriptor checks the shape; the bytes must then fill it exactly.
            Descriptor(name: name, dtype: dtype, shape: shape).requireByteCount(bytes.count)
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }

        /// An F32 tensor (bit patterns kept, NaN payloads included); the count must equal the product of `shape`.
        public init(name: String, shape: [Int], floats: [Float]) {
            self.init(name: name, dtype: .f32, shape: shape, bytes: Entry.pack(floats.map(\.bitPattern)))
        }

        /// An I64 tensor; the count must equal the product of `shape`.
        public init(name: String, shape: [Int], int64s: [Int64]) {
            self.init(name: name, dtype: .i64, shape: shape, bytes: Entry.pack(int64s))
        }

        /// An I32 tensor; the count must equal the product of `shape`.
        public init(name: String, shape: [Int], int32s: [Int32]) {
            self.init(name: name, dtype: .i32, shape: shape, bytes: Entry.pack(int32s))
        }

        /// An I8 tensor; the count must equal the product of `shape`.
        public init(name: String, shape: [Int], int8s: [Int8]) {
            self.init(name: name, dtype: .i8, shape: shape, bytes: int8s.map { UInt8(bitPattern: $0) })
        }

        /// A U8 tensor; the count must equal the product of `shape`.
        public init(name: String, shape: [Int], uint8s: [UInt8]) {
            self.init(name: name, dtype: .u8, shape: shape, bytes: uint8s)
        }

        /// Number of elements (1 for a scalar).
        public var elementCount: Int { shape.reduce(1, *) }

        /// The tensor as the header describes it.
        public var descriptor: Descriptor { Descriptor(name: name, dtype: dtype, shape: shape) }

        /// The elements as `Float`s (bit-exact, NaN payloads included), or nil unless the dtype is F32.
        public var floats: [Float]? {
            dtype == .f32 ? unpack(UInt32.self).map(Float.init(bitPattern:)) : nil
        }

        /// The elements as `Int64`s, or nil unless the dtype is I64.
        public var int64s: [Int64]? { dtype == .i64 ? unpack(Int64.self) : nil }

        /// The elements as `Int32`s, or nil unless the dtype is I32.
        public var int32s: [Int32]? { dtype == .i32 ? unpack(Int32.self) : nil }

        /// The elements as `Int8`s, or nil unless the dtype is I8.
        public var int8s: [Int8]? { dtype == .i8 ? bytes.map { Int8(bitPattern: $0) } : nil }

        /// The elements as `UInt8`s, or nil unless the dtype is U8.
        public var uint8s: [UInt8]? { dtype == .u8 ? bytes : nil }

        private static func pack<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
            let size = MemoryLayout<T>.size
            return [UInt8](unsafeUninitializedCapacity: values.count * size) { buffer, count in
                values.withUnsafeBufferPointer { source in
                    let out = UnsafeMutableRawPointer(buffer.baseAddress!)
                    for i in 0..<source.count {
                        out.storeBytes(of: source[i].littleEndian, toByteOffset: i * size, as: T.self)
                    }
                }
                count = values.count * size
            }
        }

        private func unpack<T: FixedWidthInteger>(_: T.Type) -> [T] {
            let size = MemoryLayout<T>.size
            let n = bytes.count / size
            return bytes.withUnsafeBytes { raw in
                [T](unsafeUninitializedCapacity: n) { buffer, count in
                    for i in 0..<n { buffer[i] = T(littleEndian: raw.loadUnaligned(fromByteOffset: i * size, as: T.self)) }
                    count = n
                }
            }
        }
    }

    /// The tensors, in order.
    public var tensors: [Entry]
    /// Free-form string metadata (`__metadata__` in the header).
    public var metadata: [String: String]

    /// Header lengths above this are refused as corrupt rather than allocated (100 MB, Python's limit too).
    public static let maximumHeaderLength = 100_000_000
    /// Metadata values longer than this (in UTF-8 bytes) are refused: ours are a few kilobytes (the longest,
    /// the per-epoch metrics, grows by about 250 bytes an epoch), and readers parse them as JSON.
    public static let maximumMetadataValueLength = 1 << 20
    /// Tensors with more dimensions than this are refused (numpy 2's own limit; ours have at most 4).
    public static let maximumRank = 64

    public init(tensors: [Entry] = [], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The tensor named `name`, if present.
    public subscript(name: String) -> Entry? { tensors.first { $0.name == name } }

    /// Reads and validates the file at `path`; every error names the file.
    ///
    /// The header is read and checked first, so a file whose size does not match what its header
    /// describes (truncated, or with bytes to spare) is refused before its data is read.
    public init(contentsOf path: String) throws {
        let head = try FileBytes.readPrefix(path, count: 8)
        if head.count == 8 {
            let length = UInt64(littleEndian: head.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
            if length > UInt64(SafeTensors.maximumHeaderLength) { throw SafeTensors.absurdHeaderLength(length, source: path) }
            let prefix = try FileBytes.readPrefix(path, count: 8 + Int(length))
            if prefix.count == 8 + Int(length) {
                let layout = try prefix.withUnsafeBufferPointer {
                    try SafeTensors.parseHeader(UnsafeBufferPointer(rebasing: $0[8...]), source: path)
                }
                let size = try FileBytes.size(path)
                try SafeTensors.checkDataLength(layout, available: size - prefix.count, source: path)
                try self.init(bytes: FileBytes.read(path, limit: size), source: path)
                return
            }
        }
        // Too short for its header: the full parse names the problem.
        try self.init(bytes: FileBytes.read(path, limit: 8 + SafeTensors.maximumHeaderLength), source: path)
    }

    /// Parses and validates a safetensors image held in memory; `source` names it in errors.
    public init(data: Data, source: String = "<data>") throws {
        try self.init(bytes: [UInt8](data), source: source)
    }

    /// Parses and validates a safetensors image held in memory; `source` names it in errors.
    public init(bytes: [UInt8], source: String = "<data>") throws {
        self = try bytes.withUnsafeBufferPointer { try SafeTensors.parse($0, source: source) }
    }

    /// The file's bytes (see the type's documentation for the layout).
    ///
    /// Tensor names must be unique and must not be `__metadata__`; `write(to:)` checks this and throws,
    /// here it is a precondition.
    public func data() -> Data {
        let descriptors = tensors.map(\.descriptor)
        if let problem = SafeTensors.namingProblem(descriptors) { preconditionFailure(problem) }
        let (order, head) = SafeTensors.layout(descriptors, metadata: metadata)
        var out = head
        out.reserveCapacity(head.count + descriptors.reduce(0) { $0 + $1.byteCount })
        for index in order { out.append(contentsOf: tensors[index].bytes) }
        return Data(out)
    }

    /// Writes the file atomically (temporary file, then rename), straight from the tensors' bytes.
    public func write(to path: String) throws {
        try SafeTensors.write(to: path, descriptors: tensors.map(\.descriptor), metadata: metadata) { tensors[$0].bytes }
    }

    /// Writes a file of the tensors `descriptors` describe, atomically, asking `bytes` for the data of tensor `i`
    /// (an index into `descriptors`) when the writer reaches it, so a caller that holds its values in another form
    /// (a weight history's snapshots) never has the whole file in memory at once. The file is byte for byte the
    /// one `SafeTensors(tensors:metadata:).write(to:)` writes for the same tensors. Tensors are asked for in the
    /// file's layout order: widest elements first, then in `descriptors` order.
    public static func write(
        to path: String, descriptors: [Descriptor], metadata: [String: String], bytes: (Int) throws -> [UInt8]
    ) throws {
        if let problem = namingProblem(descriptors) {
            throw SafeTensorsError(source: path, kind: .invalidValue, problem: "cannot be written: \(problem)")
        }
        let (order, head) = layout(descriptors, metadata: metadata)
        try AtomicFile.write(to: path) { file in
            try head.withUnsafeBytes { try AtomicFile.writeAll($0, to: file, path: path) }
            for index in order {
                let data = try bytes(index)
                descriptors[index].requireByteCount(data.count)
                try data.withUnsafeBytes { try AtomicFile.writeAll($0, to: file, path: path) }
            }
        }
    }

    // MARK: - Writing

    private static func namingProblem(_ descriptors: [Descriptor]) -> String? {
        var seen = Set<String>()
        for descriptor in descriptors {
            if descriptor.name == "__metadata__" { return "a tensor may not be named '__metadata__'" }
            if !seen.insert(descriptor.name).inserted { return "tensor name '\(oneLine(descriptor.name))' is used twice" }
        }
        return nil
    }

    private static func byteOrderedLess(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// The order in which the tensors' data follows the header, and the file's first bytes: the header's
    /// length and the header itself.
    private static func layout(_ descriptors: [Descriptor], metadata: [String: String]) -> (order: [Int], head: [UInt8]) {
        // Widest elements first (stable), so every tensor starts at a multiple of its element size.
        let order = descriptors.indices.sorted {
            let (a, b) = (descriptors[$0].dtype.size, descriptors[$1].dtype.size)
            return a != b ? a > b : $0 < $1
        }
        var offsets = [(begin: Int, end: Int)](repeating: (0, 0), count: descriptors.count)
        var position = 0
        for index in order {
            offsets[index] = (position, position + descriptors[index].byteCount)
            position += descriptors[index].byteCount
        }

        var members: [(key: String, json: String)] = []
        for (index, descriptor) in descriptors.enumerated() {
            let shape = descriptor.shape.map(String.init).joined(separator: ",")
            let json = "{\"data_offsets\":[\(offsets[index].begin),\(offsets[index].end)]," +
                "\"dtype\":\"\(descriptor.dtype.rawValue)\",\"shape\":[\(shape)]}"
            members.append((descriptor.name, json))
        }
        if !metadata.isEmpty {
            let pairs = metadata.sorted { byteOrderedLess($0.key, $1.key) }
                .map { JSONValue.quote($0.key) + ":" + JSONValue.quote($0.value) }
            members.append(("__metadata__", "{" + pairs.joined(separator: ",") + "}"))
        }
        members.sort { byteOrderedLess($0.key, $1.key) }
        var header = Array(("{" + members.map { JSONValue.quote($0.key) + ":" + $0.json }.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }

        var head: [UInt8] = []
        head.reserveCapacity(8 + header.count)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { head.append(contentsOf: $0) }
        head.append(contentsOf: header)
        return (order, head)
    }

    // MARK: - Reading

    private static func absurdHeaderLength(_ length: UInt64, source: String) -> SafeTensorsError {
        SafeTensorsError(source: source, kind: .headerLength,
                         problem: "is not a safetensors file: its header length \(length) is absurd (the limit is \(maximumHeaderLength) bytes)")
    }

    /// A tensor's description from the header: where its bytes lie in the data section.
    private struct Located { var name: String; var dtype: DType; var shape: [Int]; var begin: Int; var end: Int }

    /// What a header describes: the tensors sorted by their place in the data, and the metadata.
    private struct Layout {
        var tensors: [Located]
        var metadata: [String: String]
        /// Bytes the data section must hold: the end of the last tensor.
        var dataLength: Int
    }

    private static func parse(_ file: UnsafeBufferPointer<UInt8>, source: String) throws -> SafeTensors {
        func fail(_ kind: SafeTensorsError.Kind, _ problem: String) -> SafeTensorsError {
            SafeTensorsError(source: source, kind: kind, problem: problem)
        }
        guard !file.isEmpty else { throw fail(.truncated, "is empty (0 bytes), not a safetensors file") }
        guard file.count >= 8 else {
            throw fail(.truncated, "is truncated: \(file.count) bytes, shorter than the 8-byte header length that starts a safetensors file")
        }
        let headerLength = UInt64(littleEndian: UnsafeRawBufferPointer(file).loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(maximumHeaderLength) else { throw absurdHeaderLength(headerLength, source: source) }
        let available = file.count - 8
        guard headerLength <= UInt64(available) else {
            throw fail(.truncated, "is truncated or not a safetensors file: the header should be \(headerLength) bytes but only \(available) follow the length")
        }
        let headerEnd = 8 + Int(headerLength)
        let layout = try parseHeader(UnsafeBufferPointer(rebasing: file[8..<headerEnd]), source: source)
        try checkDataLength(layout, available: file.count - headerEnd, source: source)

        let data = UnsafeBufferPointer(rebasing: file[headerEnd...])
        let tensors = layout.tensors.map { tensor in
            Entry(name: tensor.name, dtype: tensor.dtype, shape: tensor.shape,
                  bytes: Array(UnsafeBufferPointer(rebasing: data[tensor.begin..<tensor.end])))
        }
        return SafeTensors(tensors: tensors, metadata: layout.metadata)
    }

    /// Parses and checks the JSON header; allocates nothing sized by the tensors it describes.
    private static func parseHeader(_ headerBytes: UnsafeBufferPointer<UInt8>, source: String) throws -> Layout {
        func fail(_ kind: SafeTensorsError.Kind, _ problem: String) -> SafeTensorsError {
            SafeTensorsError(source: source, kind: kind, problem: problem)
        }
        let notSafeTensors = "is not a safetensors file"

        let json: JSONValue
        do {
            json = try JSONValue.parse(headerBytes)
        } catch {
            throw fail(.notSafeTensors, "\(notSafeTensors): the header is not valid JSON (\(error.message) at byte \(error.offset) of the header)")
        }
        guard case .object(let members) = json else {
            throw fail(.notSafeTensors, "\(notSafeTensors): the header is \(json.kindName), not a JSON object")
        }

        var located: [Located] = []
        var metadata: [String: String] = [:]
        var names = Set<String>()

        for (key, value) in members {
            let name = "'\(oneLine(key))'"
            guard names.insert(key).inserted else {
                throw fail(.notSafeTensors, "\(notSafeTensors): \(name) appears twice in the header")
            }
            if key == "__metadata__" {
                guard case .object(let pairs) = value else {
                    throw fail(.invalidValue, "has invalid __metadata__: expected an object of strings, found \(value.kindName)")
                }
                for (metaKey, metaValue) in pairs {
                    guard case .string(let text) = metaValue else {
                        throw fail(.invalidValue, "has invalid __metadata__: the value of '\(oneLine(metaKey))' is \(metaValue.kindName), expected a string")
                    }
                    guard text.utf8.count <= maximumMetadataValueLength else {
                        throw fail(.invalidValue, "has invalid __metadata__: the value of '\(oneLine(metaKey))' is \(text.utf8.count) bytes long, more than the limit of \(maximumMetadataValueLength)")
                    }
                    metadata[metaKey] = text
                }
                continue
            }
            guard case .object(let fields) = value else {
                throw fail(.notSafeTensors, "\(notSafeTensors): the header entry \(name) is \(value.kindName), not a tensor description")
            }
            func field(_ field: String) throws -> JSONValue {
                guard let found = fields.first(where: { $0.key == field }) else {
                    throw fail(.notSafeTensors, "\(notSafeTensors): tensor \(name) has no \"\(field)\"")
                }
                return found.value
            }
            guard case .string(let dtypeName) = try field("dtype") else {
                throw fail(.notSafeTensors, "\(notSafeTensors): the dtype of tensor \(name) is not a string")
            }
            guard let dtype = DType(rawValue: dtypeName) else {
                let known = DType.allCases.map(\.rawValue).joined(separator: ", ")
                throw fail(.unsupportedDType, "has tensor \(name) with unsupported dtype '\(oneLine(dtypeName))' (expected one of \(known))")
            }
            guard case .array(let dims) = try field("shape"), dims.allSatisfy({ $0.nonNegativeInt != nil }) else {
                throw fail(.notSafeTensors, "\(notSafeTensors): the shape of tensor \(name) is not a list of non-negative integers")
            }
            guard dims.count <= maximumRank else {
                throw fail(.sizeMismatch, "has tensor \(name) with \(dims.count) dimensions, more than the limit of \(maximumRank)")
            }
            let shape = dims.map { $0.nonNegativeInt! }
            guard case .array(let bounds) = try field("data_offsets"), bounds.count == 2,
                  let begin = bounds[0].nonNegativeInt, let end = bounds[1].nonNegativeInt else {
                throw fail(.badOffsets, "\(notSafeTensors): the data_offsets of tensor \(name) are not two non-negative integers")
            }
            guard begin <= end else {
                throw fail(.badOffsets, "has tensor \(name) with data_offsets [\(begin), \(end)]: begin after end")
            }
            var elements = 1
            for dimension in shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
                guard !overflow, product <= Int.max / 8 else {
                    throw fail(.sizeMismatch, "has tensor \(name) with an impossibly large shape \(shape)")
                }
                elements = product
            }
            let expected = elements * dtype.size
            guard end - begin == expected else {
                throw fail(.sizeMismatch, "has tensor \(name) of shape \(shape) and dtype \(dtype.rawValue), which needs \(expected) bytes, but its data_offsets [\(begin), \(end)] span \(end - begin)")
            }
            located.append(Located(name: key, dtype: dtype, shape: shape, begin: begin, end: end))
        }

        // The data must be one contiguous run of tensors: no gaps, no overlaps, nothing missing or extra.
        located.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var position = 0
        for (index, tensor) in located.enumerated() {
            let name = "'\(oneLine(tensor.name))'"
            if tensor.begin > position {
                throw fail(.badOffsets, "has a gap of \(tensor.begin - position) bytes in its data before tensor \(name) (data_offsets [\(tensor.begin), \(tensor.end)])")
            }
            if tensor.begin < position {
                let previous = located[index - 1]
                throw fail(.badOffsets, "has overlapping tensors '\(oneLine(previous.name))' [\(previous.begin), \(previous.end)] and \(name) [\(tensor.begin), \(tensor.end)]")
            }
            position = tensor.end
        }
        return Layout(tensors: located, metadata: metadata, dataLength: position)
    }

    /// Refuses a data section of `available` bytes that is not exactly what the header describes.
    private static func checkDataLength(_ layout: Layout, available: Int, source: String) throws {
        if layout.dataLength > available {
            throw SafeTensorsError(
                source: source, kind: .truncated,
                problem: "is truncated: its tensors need \(layout.dataLength) bytes of data but only \(available) follow the header")
        }
        if layout.dataLength < available {
            throw SafeTensorsError(
                source: source, kind: .badOffsets, problem: "has \(available - layout.dataLength) unexpected bytes after the last tensor's data")
        }
    }
}

/// Why a safetensors file was refused; `description` is one line naming the file.
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The broad class of problem, for callers and tests that branch on it.
    public enum Kind: Sendable, Equatable {
        /// The file ends before its header or its data do.
        case truncated
        /// The header length is beyond any sane header (more than `SafeTensors.maximumHeaderLength`).
        case headerLength
        /// The header is not JSON, not an object, or lacks the fields of a tensor description.
        case notSafeTensors
        /// A tensor's dtype is not one ConvScope handles.
        case unsupportedDType
        /// A tensor's byte span does not match its shape and dtype.
        case sizeMismatch
        /// Offsets that overlap, leave gaps, or leave bytes over.
        case badOffsets
        /// Invalid metadata, or tensors that cannot be written (duplicate or reserved names).
        case invalidValue
    }

    /// The file (or other source) the problem is in.
    public let source: String
    public let kind: Kind
    /// The problem, phrased to follow the quoted source name.
    public let problem: String

    public var description: String { "\(quotedPath(source)) \(problem)" }
}
