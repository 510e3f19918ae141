import ArgumentParser
import CCleanup
import ConvKit
import Foundation

/// `convscope download`: fetches CIFAR-10 into the cache folder, checked and unpacked, all or nothing.
struct DownloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Download CIFAR-10 (binary version, 163 MB) into ~/.cache/convscope.",
        discussion: """
            Fetches cifar-10-binary.tar.gz from the CIFAR site, checks its MD5, unpacks it and moves \
            cifar-10-batches-bin into place in one step: a failed or interrupted download leaves nothing behind.
            """)

    @Option(name: .long, help: "Folder to put cifar-10-batches-bin in (default ~/.cache/convscope).")
    var dir: String?

    @Option(name: .long, help: .hidden)
    var url: String?

    @Option(name: .long, help: .hidden)
    var md5: String?

    func run() throws {
        var downloader = DatasetDownloader(cacheDirectory: dir ?? DataLocator().cacheDirectory)
        if let url {
            guard let parsed = URL(string: url) else { throw ValidationError("--url '\(url)' is not a URL") }
            downloader.url = parsed
        }
        if let md5 { downloader.expectedMD5 = md5.lowercased() }
        writeOut("downloading \(downloader.url.absoluteString)\n  into \(downloader.datasetDirectory)\n")
        let reporter = DownloadReporter(isTerminal: isatty(STDOUT_FILENO) != 0)
        // An interrupt stops the transfer (or waits for tar) and removes the temporaries; a second one ends at once.
        ccleanup_set_graceful("\nconvscope: stopping the download and removing what it wrote; press Ctrl-C again to quit at once\n")
        defer { ccleanup_set_graceful(nil) }
        let outcome: DatasetDownloader.Outcome
        do {
            outcome = try downloader.run(stoppingWhen: StopSignal(raisedByInterrupts: true)) { reporter.report($0) }
        } catch DownloadError.interrupted {
            reporter.finish()
            let signal = ccleanup_last_interrupt_signal()
            printError("convscope: download stopped by \(signalName(signal)); nothing was kept")
            throw ExitCode(exitStatus(forSignal: signal))
        }
        reporter.finish()
        writeOut("\(outcome)\n")
    }
}

/// Shows download progress from the downloader's background thread: a bar on a terminal, a line
/// every few seconds otherwise. The mutex serialises the callbacks.
private final class DownloadReporter: Sendable {
    private let isTerminal: Bool
    private let lastReport = Locked<(time: Double, drawn: Bool)>((-.infinity, false))

    init(isTerminal: Bool) {
        self.isTerminal = isTerminal
    }

    func report(_ progress: DownloadProgress) {
        let now = Stopwatch.now
        lastReport.withLock { state in
            let interval = isTerminal ? 0.1 : 5
            let done = progress.fraction == 1 || progress.phase == .unpacking
            guard now - state.time >= interval || done else { return }
            state.time = now
            let megabytes = Double(progress.received) / 1_048_576
            var text: String
            switch progress.phase {
            case .unpacking:
                text = "unpacking and checking ..."
            case .downloading:
                if let fraction = progress.fraction, let total = progress.total {
                    let width = 30, filled = Int(fraction * Double(width))
                    text = "[" + String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled) + "] "
                    text += String(format: "%5.1f%%  %.1f / %.1f MB", fraction * 100, megabytes, Double(total) / 1_048_576)
                } else {
                    text = String(format: "%.1f MB received", megabytes)
                }
            }
            if isTerminal {
                writeOut("\r\u{1B}[2K" + text)
                state.drawn = true
            } else {
                writeOut(text + "\n")
            }
        }
    }

    func finish() {
        lastReport.withLock { state in
            if state.drawn { writeOut("\n") }
            state.drawn = false
        }
    }
}
