import Foundation

/// A fresh, empty folder under the system's temporary folder, removed with everything in it when the value
/// goes away. A test case keeps one in a property set in `setUp` and releases it in `tearDown` (XCTest keeps
/// every test case object until the whole run ends, and `tearDown` can first stop whatever still writes into
/// the folder); a single test uses `with(_:_:)`: a plain local could be released after its last use, before
/// the commands that write into its path have run.
public final class TemporaryFolder {
    public let path: String

    /// A folder named `convscope-<label>-<UUID>`.
    public init(_ label: String) throws {
        path = (NSTemporaryDirectory() as NSString).appendingPathComponent("convscope-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// The path of `name` inside the folder.
    public func path(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// Runs `body` with a new folder, removed once `body` returns or throws.
    public static func with<Result>(_ label: String, _ body: (TemporaryFolder) throws -> Result) throws -> Result {
        let folder = try TemporaryFolder(label)
        return try withExtendedLifetime(folder) { try body(folder) }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
