import ConvKit

/// The first screen when CIFAR-10 is nowhere to be found: why, and the choice between downloading
/// it (with a progress bar), training on the synthetic set, or quitting. A pure state machine like
/// `AppModel`; `TerminalApp` runs the download and the loading it asks for.
public struct SetupModel: Sendable, Equatable {
    /// Where the screen is.
    public enum Phase: Sendable, Equatable {
        /// Waiting for d, s or q.
        case choosing
        /// Downloading; the latest progress report, once there is one.
        case downloading(DownloadProgress?)
        /// Reading the dataset (after a download, or the synthetic set being drawn).
        case loading(String)
        /// The download or the loading failed; the choice is offered again.
        case failed(String)
    }

    /// What the user picked.
    public enum Choice: Sendable, Equatable {
        case download, synthetic, quit
    }

    /// The places that were searched, one per line.
    public let placesTried: [String]
    /// The folder the download goes to.
    public let downloadDirectory: String
    public var phase: Phase = .choosing

    public init(placesTried: [String], downloadDirectory: String) {
        self.placesTried = placesTried
        self.downloadDirectory = downloadDirectory
    }

    /// Applies a key; returns the user's choice when one was made.
    public mutating func handle(_ key: Key) -> Choice? {
        switch key {
        case .interrupt, .character("q"): return .quit
        case .character("d"), .character("D"):
            guard canChoose else { return nil }
            phase = .downloading(nil)
            return .download
        case .character("s"), .character("S"):
            guard canChoose else { return nil }
            phase = .loading("drawing the synthetic shapes…")
            return .synthetic
        default: return nil
        }
    }

    /// Whether d and s do anything now (not while downloading or loading).
    public var canChoose: Bool {
        switch phase {
        case .choosing, .failed: return true
        case .downloading, .loading: return false
        }
    }
}
