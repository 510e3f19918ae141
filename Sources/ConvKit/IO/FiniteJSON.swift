import Foundation

/// Serialises JSON objects built from Foundation values (dictionaries, arrays, strings, numbers,
/// booleans, `NSNull`) with every non-finite number written as `null`.
///
/// JSON has no NaN or infinity, and `JSONSerialization` throws on them; a diverged loss must not make a
/// metrics line, a checkpoint's metadata or a command's `--json` output fail or go missing. `null` is what
/// every JSON reader accepts (and what JavaScript's `JSON.stringify` writes for them); readers of our files
/// take a `null` where a number belongs as NaN.
public enum FiniteJSON {
    /// `object` as JSON bytes, non-finite numbers written as `null`.
    public static func data(_ object: Any, options: JSONSerialization.WritingOptions = [.sortedKeys]) throws -> Data {
        try JSONSerialization.data(withJSONObject: replacingNonFinite(object), options: options)
    }

    /// `object` as a JSON string, non-finite numbers written as `null`.
    public static func string(_ object: Any, options: JSONSerialization.WritingOptions = [.sortedKeys]) throws -> String {
        String(decoding: try data(object, options: options), as: UTF8.self)
    }

    /// A copy of `value` with every non-finite `Double` or `Float` replaced by `NSNull`.
    static func replacingNonFinite(_ value: Any) -> Any {
        switch value {
        // Integers and booleans first: where Foundation bridges numbers, they would also match `Double`.
        case is Bool, is Int, is Int64, is UInt64, is String: return value
        case let number as Double: return number.isFinite ? number : NSNull()
        case let number as Float: return number.isFinite ? number : NSNull()
        case let dictionary as [String: Any]: return dictionary.mapValues(replacingNonFinite)
        case let array as [Any]: return array.map(replacingNonFinite)
        default: return value
        }
    }

    /// A number read back from our JSON: `null` (a non-finite value when written) becomes NaN; anything
    /// else that is not a number, nil.
    public static func number(_ value: Any?) -> Double? {
        if value is NSNull { return .nan }
        return (value as? NSNumber)?.doubleValue
    }
}
