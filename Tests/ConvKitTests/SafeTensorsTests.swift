import Foundation
import TestSupport
import XCTest
import ConvKit

final class SafeTensorsTests: XCTestCase {
    /// Floats whose bits must survive: NaN payloads (quiet and signalling), signed zeros, denormals, infinities.
    static let specialFloatBits: [UInt32] = [
        0x7FC1_2345, 0xFFC0_0001, 0x7F80_0001, 0x8000_0000, 0x0000_0000, 0x0000_0001, 0x807F_FFFF,
        0x7F80_0000, 0xFF80_0000, 0x7F7F_FFFF, 0x3F80_0000, 0xBEAA_AAAB,
    ]

    func sample() -> SafeTensors {
        let floats = SafeTensorsTests.specialFloatBits.map(Float.init(bitPattern:))
        return SafeTensors(tensors: [
            .init(name: "conv1.weight", shape: [2, 2, 3], floats: floats),
            .init(name: "bn1.num_batches_tracked", shape: [], int64s: [1234]),
            .init(name: "q.codes", shape: [5], int8s: [-128, -1, 0, 1, 127]),
            .init(name: "image", shape: [1, 3], uint8s: [0, 128, 255]),
            .init(name: "counts", shape: [3], int32s: [Int32.min, 0, Int32.max]),
            .init(name: "extremes", shape: [2], int64s: [Int64.min, Int64.max]),
            .init(name: "empty", shape: [0, 4], floats: []),
        ], metadata: ["format": "convscope", "spec": "conv(16)-bn-relu-gap-fc(10)", "note": "quote \" backslash \\ newline \n é 🐱", "empty": ""])
    }

    /// A raw file: 8-byte length, `header` padded to 8 unless `pad` is false, then `data`.
    func rawFile(header: String, data: [UInt8] = [], pad: Bool = true) -> [UInt8] {
        var json = Array(header.utf8)
        while pad && json.count % 8 != 0 { json.append(0x20) }
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { bytes.append(contentsOf: $0) }
        return bytes + json + data
    }

    func headerLength(_ bytes: [UInt8]) -> Int {
        Int(bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
    }

    func testRoundTripIsBitExactForEveryDType() throws {
        let original = sample()
        let decoded = try SafeTensors(data: original.data())
        XCTAssertEqual(decoded.metadata, original.metadata)
        XCTAssertEqual(decoded.tensors.count, original.tensors.count)
        for entry in original.tensors {
            let found = try XCTUnwrap(decoded[entry.name], entry.name)
            XCTAssertEqual(found, entry, entry.name)
        }
        let floats = try XCTUnwrap(decoded["conv1.weight"]?.floats)
        XCTAssertEqual(floats.map(\.bitPattern), SafeTensorsTests.specialFloatBits, "NaN payloads, -0 and denormals keep their bits")
        XCTAssertEqual(decoded["bn1.num_batches_tracked"]?.int64s, [1234])
        XCTAssertEqual(decoded["bn1.num_batches_tracked"]?.shape, [])
        XCTAssertEqual(decoded["q.codes"]?.int8s, [-128, -1, 0, 1, 127])
        XCTAssertEqual(decoded["image"]?.uint8s, [0, 128, 255])
        XCTAssertEqual(decoded["counts"]?.int32s, [Int32.min, 0, Int32.max])
        XCTAssertEqual(decoded["extremes"]?.int64s, [Int64.min, Int64.max])
        XCTAssertEqual(decoded["empty"]?.shape, [0, 4])
        XCTAssertNil(decoded["conv1.weight"]?.int64s, "typed accessors refuse another dtype")
    }

    func testWriteAndReadFileRoundTrip() throws {
        let directory = try makeTemporaryDirectory(self)
        let path = directory + "/model.safetensors"
        try sample().write(to: path)
        let read = try SafeTensors(contentsOf: path)
        XCTAssertEqual(Set(read.tensors.map(\.name)), Set(sample().tensors.map(\.name)))
        XCTAssertEqual(read.metadata, sample().metadata)
        XCTAssertEqual(directoryListing(directory), ["model.safetensors"], "no temporary file left behind")
        // The file goes out tensor by tensor, never as one image in memory, and is that image byte for byte.
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), sample().data())
    }

    func testBytesAreDeterministicAndHeaderIsPaddedAndSorted() throws {
        let a = sample().data()
        var other = SafeTensors(tensors: sample().tensors)
        for key in sample().metadata.keys.sorted().reversed() { other.metadata[key] = sample().metadata[key] }
        XCTAssertEqual(a, other.data(), "identical content gives identical bytes")
        XCTAssertEqual(a, sample().data())

        let bytes = [UInt8](a)
        let n = headerLength(bytes)
        XCTAssertEqual(n % 8, 0, "header padded to a multiple of 8")
        let header = String(decoding: bytes[8..<8 + n], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{\"__metadata__\":{\"empty\":\"\",\"format\":"), header)
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        XCTAssertTrue(trimmed.hasSuffix("}"))
        XCTAssertTrue(header.dropFirst(trimmed.count).allSatisfy { $0 == " " }, "padding is spaces")
        // Keys in byte order.
        let keyOrder = ["__metadata__", "bn1.num_batches_tracked", "conv1.weight", "counts", "empty", "extremes", "image", "q.codes"]
        let positions = keyOrder.map { header.range(of: "\"\($0)\":{\"")!.lowerBound }
        XCTAssertEqual(positions, positions.sorted())
    }

    func testDataIsAlignedToElementSizeAndReadBackInFileOrder() throws {
        let bytes = [UInt8](sample().data())
        let n = headerLength(bytes)
        XCTAssertEqual((8 + n) % 8, 0)
        let decoded = try SafeTensors(bytes: bytes)
        // Widest elements first, keeping the given order within a width.
        XCTAssertEqual(decoded.tensors.map(\.name),
                       ["bn1.num_batches_tracked", "extremes", "conv1.weight", "counts", "empty", "q.codes", "image"])
        let header = String(decoding: bytes[8..<8 + n], as: UTF8.self)
        for entry in decoded.tensors {
            let range = header.range(of: "\"\(entry.name)\":{\"data_offsets\":[")!
            let begin = Int(header[range.upperBound...].prefix { $0.isNumber })!
            XCTAssertEqual(begin % entry.dtype.size, 0, "\(entry.name) aligned")
        }
    }

    func testTruncatedFilesAreRefused() throws {
        let bytes = [UInt8](sample().data())
        let n = headerLength(bytes)
        for cut in [0, 1, 7, 8, 9, 8 + n / 2, 8 + n - 1, 8 + n, 8 + n + 3, bytes.count - 1] {
            let error = assertThrows(SafeTensorsError.self, "cut at \(cut)") { try SafeTensors(bytes: Array(bytes[0..<cut]), source: "cut.safetensors") }
            XCTAssertEqual(error?.kind, .truncated, "cut at \(cut): \(String(describing: error))")
            XCTAssertTrue(error?.description.hasPrefix("'cut.safetensors' ") ?? false)
        }
        let empty = assertThrows(SafeTensorsError.self) { try SafeTensors(bytes: []) }
        XCTAssertTrue(empty?.description.contains("is empty") ?? false)
    }

    func testCorruptHeaderLengthIsRefused() {
        var bytes = [UInt8](sample().data())
        bytes[7] ^= 0x80  // the top bit: an absurd length
        let absurd = assertThrows(SafeTensorsError.self) { try SafeTensors(bytes: bytes) }
        XCTAssertEqual(absurd?.kind, .headerLength)
        XCTAssertTrue(absurd?.description.contains("absurd") ?? false, String(describing: absurd))

        bytes = [UInt8](sample().data())
        bytes[2] ^= 0x01  // +65536: beyond the file but under the limit
        let beyond = assertThrows(SafeTensorsError.self) { try SafeTensors(bytes: bytes) }
        XCTAssertEqual(beyond?.kind, .truncated)

        bytes = [UInt8](sample().data())
        bytes[0] ^= 0x08  // a few bytes off: the JSON is cut or followed by data
        let off = assertThrows(SafeTensorsError.self) { try SafeTensors(bytes: bytes) }
        XCTAssertEqual(off?.kind, .notSafeTensors)
    }

    func testGarbageAndNonHeaderJSONAreNotSafeTensors() {
        for header in ["{not json", "[1, 2, 3]", "\"text\"", "{\"a\": 3}", "{\"a\": {\"dtype\": \"F32\"}}",
                       "{\"a\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 4]}}",
                       "{\"a\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}",
                       "{\"a\": {\"dtype\": 1, \"shape\": [1], \"data_offsets\": [0, 4]}}",
                       "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, \"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}",
                       "", "{}x", "{\"\\ud800\": 1}"] {
            let error = assertThrows(SafeTensorsError.self, header) {
                try SafeTensors(bytes: rawFile(header: header, data: [UInt8](repeating: 0, count: 8)), source: "junk.bin")
            }
            XCTAssertEqual(error?.kind, .notSafeTensors, "\(header): \(String(describing: error))")
            XCTAssertTrue(error?.description.contains("'junk.bin' is not a safetensors file") ?? false, String(describing: error))
        }
        // A text file is refused by its "header length" already.
        let text = Array("hello, this is not a tensor file at all\n".utf8)
        XCTAssertNotNil(assertThrows(SafeTensorsError.self) { try SafeTensors(bytes: text) })
    }

    func testUnknownDTypeIsRefused() {
        let error = assertThrows(SafeTensorsError.self) {
            try SafeTensors(bytes: rawFile(header: "{\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0]))
        }
        XCTAssertEqual(error?.kind, .unsupportedDType)
        XCTAssertTrue(error?.description.contains("'F16'") ?? false)
    }

    func testOffsetProblemsAreRefused() {
        let cases: [(String, Int, SafeTensorsError.Kind)] = [
            // 2 floats need 8 bytes, the offsets give 4.
            ("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, .sizeMismatch),
            // Overlap.
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, .badOffsets),
            // Gap.
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12, .badOffsets),
            // Not starting at 0.
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, .badOffsets),
            // Begin after end.
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}", 8, .badOffsets),
            // Beyond the data.
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, .truncated),
            // Bytes after the last tensor.
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 12, .badOffsets),
            // Three offsets.
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 4, .badOffsets),
            // Metadata that is not strings.
            ("{\"__metadata__\":{\"epoch\":3}}", 0, .invalidValue),
            // Absurd shape.
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4, .sizeMismatch),
        ]
        for (header, dataCount, kind) in cases {
            let error = assertThrows(SafeTensorsError.self, header) {
                try SafeTensors(bytes: rawFile(header: header, data: [UInt8](repeating: 7, count: dataCount)))
            }
            XCTAssertEqual(error?.kind, kind, "\(header): \(String(describing: error))")
        }
    }

    func testUnpaddedHeaderFromOtherWritersIsAccepted() throws {
        let file = rawFile(header: "{\"a\":{\"dtype\":\"I8\",\"shape\":[3],\"data_offsets\":[0,3]}}", data: [1, 2, 255], pad: false)
        XCTAssertEqual(try SafeTensors(bytes: file)["a"]?.int8s, [1, 2, -1])
    }

    func testErrorsFromDiskNameTheFile() throws {
        let directory = try makeTemporaryDirectory(self)
        let path = directory + "/broken.safetensors"
        var bytes = [UInt8](sample().data())
        bytes.removeLast(10)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let error = assertThrows(SafeTensorsError.self) { try SafeTensors(contentsOf: path) }
        XCTAssertTrue(error?.description.hasPrefix("'\(path)' is truncated") ?? false, String(describing: error))

        let text = directory + "/notes.txt"
        try AtomicFile.write(Data(String(repeating: "plain text, not tensors\n", count: 1000).utf8), to: text)
        let notTensors = assertThrows(SafeTensorsError.self) { try SafeTensors(contentsOf: text) }
        XCTAssertEqual(notTensors?.kind, .headerLength)
        XCTAssertTrue(notTensors?.description.hasPrefix("'\(text)' is not a safetensors file") ?? false, String(describing: notTensors))

        let missing = assertThrows(FileError.self) { try SafeTensors(contentsOf: directory + "/nope.safetensors") }
        XCTAssertEqual(missing?.description, "cannot read '\(directory)/nope.safetensors': No such file or directory")
    }

    func testWritingDuplicateNamesThrowsAndLeavesNoFile() throws {
        let directory = try makeTemporaryDirectory(self)
        let file = SafeTensors(tensors: [.init(name: "a", shape: [1], floats: [1]), .init(name: "a", shape: [1], floats: [2])])
        let error = assertThrows(SafeTensorsError.self) { try file.write(to: directory + "/dup.safetensors") }
        XCTAssertTrue(error?.description.contains("'a' is used twice") ?? false, String(describing: error))
        XCTAssertEqual(directoryListing(directory), [])
    }

    // MARK: - Python's safetensors

    func testPythonSafetensorsReadsOurFile() throws {
        guard let python = PythonFinder.python(importing: ["safetensors", "numpy"]) else {
            throw skip(.noPython, "no Python with the safetensors and numpy packages (tried \(PythonFinder.candidates())); the cross-check with Python's safetensors did not run")
        }
        let directory = try makeTemporaryDirectory(self)
        let path = directory + "/ours.safetensors"
        try sample().write(to: path)
        let script = """
        import json, sys
        from safetensors.numpy import load_file
        from safetensors import safe_open
        tensors = load_file(sys.argv[1])
        with safe_open(sys.argv[1], framework="numpy") as f:
            meta = f.metadata()
            keys = sorted(f.keys())
        out = {"keys": keys, "metadata": meta,
               "tensors": {k: {"dtype": str(v.dtype), "shape": list(v.shape), "hex": v.tobytes().hex()} for k, v in tensors.items()}}
        print(json.dumps(out))
        """
        let result = try PythonFinder.run(python, script: script, arguments: [path])
        XCTAssertEqual(result.status, 0, result.errors)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        XCTAssertEqual(json["metadata"] as? [String: String], sample().metadata)
        XCTAssertEqual(json["keys"] as? [String], sample().tensors.map(\.name).sorted())
        let tensors = try XCTUnwrap(json["tensors"] as? [String: [String: Any]])
        let numpyNames: [SafeTensors.DType: String] = [.f32: "float32", .i64: "int64", .i32: "int32", .i8: "int8", .u8: "uint8"]
        for entry in sample().tensors {
            let t = try XCTUnwrap(tensors[entry.name], entry.name)
            XCTAssertEqual(t["dtype"] as? String, numpyNames[entry.dtype], entry.name)
            XCTAssertEqual(t["shape"] as? [Int], entry.shape, entry.name)
            XCTAssertEqual(t["hex"] as? String, entry.bytes.map { String(format: "%02x", $0) }.joined(), "\(entry.name) bytes identical")
        }
    }

    func testWeReadPythonSafetensorsFile() throws {
        guard let python = PythonFinder.python(importing: ["safetensors", "numpy"]) else {
            throw skip(.noPython, "no Python with the safetensors and numpy packages (tried \(PythonFinder.candidates())); reading a Python-written file did not run")
        }
        let directory = try makeTemporaryDirectory(self)
        let path = directory + "/theirs.safetensors"
        let script = """
        import sys, numpy as np
        from safetensors.numpy import save_file
        w = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 8 - 1
        w[0, 0, 0] = -0.0
        w[1, 2, 3] = np.float32(1e-45)
        save_file({"layer.weight": w, "bn.num_batches_tracked": np.array(42, dtype=np.int64),
                   "codes": np.array([-3, 0, 5], dtype=np.int8), "pixels": np.array([[1, 2], [3, 250]], dtype=np.uint8)},
                  sys.argv[1], metadata={"epoch": "7", "name": "café"})
        """
        let result = try PythonFinder.run(python, script: script, arguments: [path])
        XCTAssertEqual(result.status, 0, result.errors)
        let file = try SafeTensors(contentsOf: path)
        XCTAssertEqual(file.metadata, ["epoch": "7", "name": "café"])
        let w = try XCTUnwrap(file["layer.weight"])
        XCTAssertEqual(w.shape, [2, 3, 4])
        var expected = (0..<24).map { Float($0) / 8 - 1 }
        expected[0] = -0.0
        expected[23] = Float(bitPattern: 1)
        XCTAssertEqual(w.floats?.map(\.bitPattern), expected.map(\.bitPattern))
        XCTAssertEqual(file["bn.num_batches_tracked"]?.shape, [])
        XCTAssertEqual(file["bn.num_batches_tracked"]?.int64s, [42])
        XCTAssertEqual(file["codes"]?.int8s, [-3, 0, 5])
        XCTAssertEqual(file["pixels"]?.uint8s, [1, 2, 3, 250])
        XCTAssertEqual(file["pixels"]?.shape, [2, 2])
    }
}
