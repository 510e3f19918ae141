import Foundation

/// A parsed JSON value: a small, strict reader for the safetensors header.
///
/// Objects keep their members in file order (duplicates included, so the caller can reject them).
/// Numbers keep their text, so integers of any size are checked exactly rather than through `Double`.
enum JSONValue: Equatable, Sendable {
    case object([(key: String, value: JSONValue)])
    case array([JSONValue])
    case string(String)
    case number(String)
    case bool(Bool)
    case null

    static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case let (.array(x), .array(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.bool(x), .bool(y)): return x == y
        case (.null, .null): return true
        default: return false
        }
    }

    /// What kind of value this is, for error messages ("a string", "an array").
    var kindName: String {
        switch self {
        case .object: return "an object"
        case .array: return "an array"
        case .string: return "a string"
        case .number: return "a number"
        case .bool: return "a boolean"
        case .null: return "null"
        }
    }

    /// The value as a non-negative integer, when it is one written without fraction or exponent.
    var nonNegativeInt: Int? {
        guard case .number(let text) = self, !text.isEmpty,
              text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return Int(text)
    }

    /// The value in the shapes `JSONSerialization` gives (dictionaries, arrays, strings, `NSNumber`, `Bool`,
    /// `NSNull`; a repeated key keeps its last value), with every number read correctly rounded from its
    /// text: integers exactly (as `Int`, or `UInt64` above `Int.max`), others as the nearest `Double`.
    /// Foundation's own reader on Linux is off by an ulp on some inputs (`0.05000000074505806`, found by
    /// the metrics harness), so what we write would not read back the same.
    var foundationObject: Any {
        switch self {
        case .object(let members):
            var dictionary: [String: Any] = [:]
            for (key, value) in members { dictionary[key] = value.foundationObject }
            return dictionary
        case .array(let elements): return elements.map(\.foundationObject)
        case .string(let text): return text
        case .number(let text):
            if let integer = Int(text) { return NSNumber(value: integer) }
            if let integer = UInt64(text) { return NSNumber(value: integer) }
            return NSNumber(value: Double(text) ?? .nan)
        case .bool(let flag): return flag
        case .null: return NSNull()
        }
    }

    /// Parses `text` as one JSON value in `foundationObject`'s shapes, or nil when it is not JSON.
    static func foundationObject(parsing text: String) -> Any? {
        var text = text
        return text.withUTF8 { try? JSONValue.parse($0).foundationObject }
    }

    /// Parses one JSON value filling all of `bytes` (whitespace around it allowed).
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONError) -> JSONValue {
        var parser = Parser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.position == bytes.count else { throw parser.error("unexpected text after the end of the JSON value") }
        return value
    }

    /// `text` as a JSON string literal, quotes included (UTF-8 kept, control characters escaped).
    static func quote(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    private struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0
        static let maximumDepth = 64

        func error(_ message: String) -> JSONError { JSONError(message: message, offset: position) }

        var current: UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func skipWhitespace() {
            while let c = current, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { position += 1 }
        }

        mutating func expect(_ c: UInt8, _ what: String) throws(JSONError) {
            guard current == c else { throw error("expected \(what)") }
            position += 1
        }

        mutating func value(depth: Int) throws(JSONError) -> JSONValue {
            guard depth < Parser.maximumDepth else { throw error("nested deeper than \(Parser.maximumDepth) levels") }
            guard let c = current else { throw error("unexpected end of the JSON text") }
            switch c {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            default: throw error("unexpected character \(describe(c))")
            }
        }

        mutating func object(depth: Int) throws(JSONError) -> JSONValue {
            position += 1
            var members: [(key: String, value: JSONValue)] = []
            skipWhitespace()
            if current == UInt8(ascii: "}") { position += 1; return .object(members) }
            while true {
                skipWhitespace()
                guard current == UInt8(ascii: "\"") else { throw error("expected a string key") }
                let key = try string()
                skipWhitespace()
                try expect(UInt8(ascii: ":"), "':' after an object key")
                skipWhitespace()
                members.append((key, try value(depth: depth + 1)))
                skipWhitespace()
                if current == UInt8(ascii: ",") { position += 1; continue }
                try expect(UInt8(ascii: "}"), "',' or '}' in an object")
                return .object(members)
            }
        }

        mutating func array(depth: Int) throws(JSONError) -> JSONValue {
            position += 1
            var elements: [JSONValue] = []
            skipWhitespace()
            if current == UInt8(ascii: "]") { position += 1; return .array(elements) }
            while true {
                skipWhitespace()
                elements.append(try value(depth: depth + 1))
                skipWhitespace()
                if current == UInt8(ascii: ",") { position += 1; continue }
                try expect(UInt8(ascii: "]"), "',' or ']' in an array")
                return .array(elements)
            }
        }

        mutating func literal(_ word: StaticString) throws(JSONError) {
            let count = word.utf8CodeUnitCount
            guard position + count <= bytes.count,
                  (0..<count).allSatisfy({ bytes[position + $0] == word.utf8Start[$0] }) else {
                throw error("unexpected character \(describe(bytes[position]))")
            }
            position += count
        }

        mutating func number() throws(JSONError) -> String {
            let start = position
            func digits(_ parser: inout Parser) -> Int {
                let begin = parser.position
                while let c = parser.current, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") { parser.position += 1 }
                return parser.position - begin
            }
            if current == UInt8(ascii: "-") { position += 1 }
            if current == UInt8(ascii: "0") {
                position += 1
            } else {
                guard digits(&self) > 0 else { throw error("expected a digit") }
            }
            if current == UInt8(ascii: ".") {
                position += 1
                guard digits(&self) > 0 else { throw error("expected a digit after '.'") }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                position += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
                guard digits(&self) > 0 else { throw error("expected a digit in the exponent") }
            }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        }

        mutating func string() throws(JSONError) -> String {
            position += 1
            var utf8: [UInt8] = []
            while true {
                guard let c = current else { throw error("unterminated string") }
                position += 1
                switch c {
                case UInt8(ascii: "\""):
                    guard let text = String(validating: utf8, as: UTF8.self) else {
                        throw error("string is not valid UTF-8")
                    }
                    return text
                case UInt8(ascii: "\\"):
                    guard let e = current else { throw error("unterminated string") }
                    position += 1
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(e)
                    case UInt8(ascii: "b"): utf8.append(0x08)
                    case UInt8(ascii: "f"): utf8.append(0x0C)
                    case UInt8(ascii: "n"): utf8.append(0x0A)
                    case UInt8(ascii: "r"): utf8.append(0x0D)
                    case UInt8(ascii: "t"): utf8.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if (0xD800..<0xDC00).contains(scalar) {
                            guard current == UInt8(ascii: "\\"), position + 1 < bytes.count,
                                  bytes[position + 1] == UInt8(ascii: "u") else {
                                throw error("unpaired surrogate in a \\u escape")
                            }
                            position += 2
                            let low = try hex4()
                            guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate in a \\u escape") }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00..<0xE000).contains(scalar) {
                            throw error("unpaired surrogate in a \\u escape")
                        }
                        utf8.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
                    default: throw error("invalid escape '\\\(describe(e))'")
                    }
                case 0..<0x20:
                    throw error("control character \(describe(c)) inside a string")
                default:
                    utf8.append(c)
                }
            }
        }

        mutating func hex4() throws(JSONError) -> UInt32 {
            guard position + 4 <= bytes.count else { throw error("unterminated \\u escape") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[position]
                let digit: UInt8
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
                default: throw error("invalid hex digit in a \\u escape")
                }
                value = value << 4 | UInt32(digit)
                position += 1
            }
            return value
        }

        func describe(_ c: UInt8) -> String {
            (0x21..<0x7F).contains(c) ? "'\(Character(Unicode.Scalar(c)))'" : "0x" + String(c, radix: 16, uppercase: true)
        }
    }
}

/// Why a JSON text did not parse, and where (a byte offset into the text).
struct JSONError: Error, Equatable, Sendable {
    let message: String
    let offset: Int
}
