/// The strict JSON reader of safetensors headers (`JSONValue.parse`).
///
/// Contract: a value or a `JSONError` whose offset lies inside the text; a value written back as JSON
/// parses to the same value.
enum JSONHarness {
    static let harness = FuzzHarness(name: "json", summary: "the safetensors header's JSON reader", run: run)

    static func run(_ input: [UInt8]) {
        let value: JSONValue
        do throws(JSONError) {
            value = try input.withUnsafeBufferPointer { (bytes) throws(JSONError) in try JSONValue.parse(bytes) }
        } catch {
            fuzzCheck(error.offset >= 0 && error.offset <= input.count, "error offset \(error.offset) outside the text")
            return
        }
        _ = value.nonNegativeInt
        let written = Array(write(value).utf8)
        let again = written.withUnsafeBufferPointer { try? JSONValue.parse($0) }
        fuzzCheck(again == value, "'\(String(decoding: written, as: UTF8.self))' reads back differently")
    }

    static func write(_ value: JSONValue) -> String {
        switch value {
        case .object(let members): return "{" + members.map { JSONValue.quote($0.key) + ":" + write($0.value) }.joined(separator: ",") + "}"
        case .array(let elements): return "[" + elements.map(write).joined(separator: ",") + "]"
        case .string(let text): return JSONValue.quote(text)
        case .number(let text): return text
        case .bool(let flag): return flag ? "true" : "false"
        case .null: return "null"
        }
    }
}
