import Foundation

/// The `convscope` binary the end-to-end tests drive, checked to be current: `CONVSCOPE_BIN`, else
/// `.build/release/convscope` in this package. A binary older than any file under `Sources/` is refused,
/// so the tests never pass or fail on yesterday's code (`make test` builds it first; after an edit,
/// `swift build -c release --product convscope`). `Package.swift` is not compared: an edit that does not
/// touch the product (a test target) leaves the binary as it was, and rebuilding would not make it newer.
public enum ConvscopeBinary {
    /// The package's root folder (this file is `Tests/TestSupport/ConvscopeBinary.swift`).
    public static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    public struct Problem: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    private static let located: Result<String, Problem> = locate()

    /// The binary's path, or a one-line reason why there is no current binary.
    public static func path() throws -> String {
        try located.get()
    }

    private static func locate() -> Result<String, Problem> {
        let environment = ProcessInfo.processInfo.environment
        let given = environment["CONVSCOPE_BIN"].flatMap { $0.isEmpty ? nil : $0 }
        let path = given ?? packageRoot + "/.build/release/convscope"
        let origin = given == nil ? "" : "CONVSCOPE_BIN="
        guard FileManager.default.isExecutableFile(atPath: path) else {
            return .failure(Problem(description:
                "no convscope binary at \(origin)\(path): build it first (swift build -c release --product convscope; make test does)"))
        }
        if let problem = staleness(of: path, named: origin + path) { return .failure(problem) }
        return .success(path)
    }

    /// Why the executable at `path` is not a build of the sources as they are now (it is older than one of
    /// them), or nil when it is newer than all of them.
    public static func staleness(of path: String, named name: String? = nil) -> Problem? {
        guard let built = modificationDate(path) else {
            return Problem(description: "cannot read the modification time of \(path)")
        }
        if let (newest, date) = newestSource(), date > built {
            return Problem(description:
                "the convscope binary at \(name ?? path) is older than \(newest), so it is not this code: rebuild it "
                + "(swift build -c release --product convscope; make test does)")
        }
        return nil
    }

    /// The most recently modified file or folder under `Sources/`, relative to the package.
    static func newestSource() -> (String, Date)? {
        var newest: (String, Date)?
        func consider(_ relative: String) {
            guard let date = modificationDate(packageRoot + "/" + relative) else { return }
            if date > (newest?.1 ?? .distantPast) { newest = (relative, date) }
        }
        let enumerator = FileManager.default.enumerator(atPath: packageRoot + "/Sources")
        while let relative = enumerator?.nextObject() as? String {
            consider("Sources/" + relative)
        }
        return newest
    }

    private static func modificationDate(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }
}
