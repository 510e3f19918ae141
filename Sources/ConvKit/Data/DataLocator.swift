import Foundation

/// Decides where the images come from, in this order: an explicit `--data` value (a folder, or the word
/// `synthetic`), then the `CONVSCOPE_DATA` environment variable (same forms), then the download cache
/// `~/.cache/convscope/cifar-10-batches-bin`.
///
/// A folder counts as found when it exists; `CIFAR10Loader` then names any file in it that is missing or
/// damaged, rather than this silently moving on to the next place. An explicit `--data` folder that does
/// not exist is an error of its own. The environment and home folder are injectable for tests.
public struct DataLocator: Sendable {
    /// The environment variable consulted after `--data`.
    public static let environmentVariable = "CONVSCOPE_DATA"
    /// The word that selects the synthetic shapes instead of a folder.
    public static let syntheticKeyword = "synthetic"
    /// The dataset folder's name inside the cache, as unpacked from the official tarball.
    public static let datasetFolderName = "cifar-10-batches-bin"

    public var environment: [String: String]
    public var homeDirectory: String

    /// A locator reading `environment` and looking in `homeDirectory` (by default the process's own:
    /// `$HOME`, else the user's home from the password database).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment, homeDirectory: String? = nil) {
        self.environment = environment
        self.homeDirectory = homeDirectory ?? environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
    }

    /// `~/.cache/convscope`: where `convscope download` puts the dataset.
    public var cacheDirectory: String { (homeDirectory as NSString).appendingPathComponent(".cache/convscope") }
    /// `~/.cache/convscope/cifar-10-batches-bin`.
    public var defaultDatasetDirectory: String {
        (cacheDirectory as NSString).appendingPathComponent(DataLocator.datasetFolderName)
    }

    /// The data source to use. `explicit` is the `--data` value, if given; `syntheticSeed` seeds the
    /// synthetic set when that is chosen. Throws `DataError.explicitPathMissing` for a `--data` folder
    /// that does not exist and `DataError.notFound` (listing every place tried) when nothing is found.
    public func locate(explicit: String?, syntheticSeed: UInt64 = 0) throws -> DataSource {
        if let explicit {
            if isSyntheticKeyword(explicit) { return .synthetic(seed: syntheticSeed) }
            let path = expand(explicit)
            guard isDirectory(path) else { throw DataError.explicitPathMissing(path: explicit) }
            return .cifar10(directory: path)
        }
        var tried = ["--data (not given)"]
        let variable = DataLocator.environmentVariable
        if let value = environment[variable], !value.isEmpty {
            if isSyntheticKeyword(value) { return .synthetic(seed: syntheticSeed) }
            let path = expand(value)
            if isDirectory(path) { return .cifar10(directory: path) }
            tried.append("$\(variable)=\(value) (no such directory)")
        } else {
            tried.append("$\(variable) (not set)")
        }
        let cached = defaultDatasetDirectory
        if isDirectory(cached) { return .cifar10(directory: cached) }
        tried.append("\(cached) (no such directory)")
        throw DataError.notFound(tried: tried)
    }

    private func isSyntheticKeyword(_ value: String) -> Bool {
        value.lowercased() == DataLocator.syntheticKeyword
    }

    /// Expands a leading `~` against the injected home folder (a shell does this, scripts may not).
    private func expand(_ path: String) -> String {
        if path == "~" { return homeDirectory }
        if path.hasPrefix("~/") { return (homeDirectory as NSString).appendingPathComponent(String(path.dropFirst(2))) }
        return path
    }

    private func isDirectory(_ path: String) -> Bool {
        var flag: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &flag) && flag.boolValue
    }
}
