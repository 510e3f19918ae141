import ArgumentParser
import CCleanup
import ConvKit
import ConvPresent
import ConvScopeUI
import Foundation

/// The `convscope` command: the TUI by default, and one subcommand per scriptable job.
struct ConvScope: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "convscope",
        abstract: "Train a convolutional network on CIFAR-10 in the terminal and watch it learn.",
        discussion: """
            Data is found, in order, at --data DIR, $CONVSCOPE_DATA, ~/.cache/convscope/cifar-10-batches-bin; \
            `convscope download` fetches it there. `--data synthetic` uses a built-in set of drawn shapes instead.
            Models are presets (tiny, simple, vgg, resnet20, fast, airbench) or spec strings such as conv32,bn,relu,maxpool,gap,fc10.
            """,
        version: version,
        subcommands: [
            TUICommand.self, TrainCommand.self, EvalCommand.self, PredictCommand.self, SummaryCommand.self,
            GradCAMCommand.self, FaithfulnessCommand.self, SanityCommand.self, ExportCommand.self, PruneCommand.self, QuantizeCommand.self,
            DistillCommand.self, DiffCommand.self, BenchCommand.self, DownloadCommand.self, WatchCommand.self, HealthCommand.self, LRFindCommand.self, SnapshotsCommand.self,
            VisualizeCommand.self,
        ],
        defaultSubcommand: TUICommand.self
    )
}

/// Runs the command line with conventional exit codes: 0 success, 1 runtime failure, 2 usage error.
@main
enum Entry {
    static func main() {
        // Before any other thread exists and before the first matrix product (BLAS.correctedCore says why).
        _ = BLAS.correctedCore
        if let problem = KernelPath.environmentProblem {
            printError("convscope: error: \(problem)")
            exit(2)
        }
        // SIGINT, SIGTERM and SIGHUP delete the temporaries of writes in progress before the process ends
        // (the app installs its own handlers while it runs; `train` and `download` stop gracefully).
        _ = ccleanup_install_handlers()
        do {
            var command = try ConvScope.parseAsRoot()
            try command.run()
        } catch {
            switch ConvScope.exitCode(for: error) {
            case .success:  // --help, --version
                ConvScope.exit(withError: error)
            case .validationFailure:
                printError(ConvScope.fullMessage(for: error))
                exit(2)
            default:
                if let code = error as? ExitCode { exit(code.rawValue) }
                // Engine errors describe themselves (or are worded by `ErrorText`) in one line naming the file or value.
                // (`message(for:)` unwraps the errors a `validate()` throws.)
                let text = error is MemoryLimitError ? ErrorText.describe(error) : ConvScope.message(for: error)
                printError("convscope: error: \(text)")
                exit(1)
            }
        }
    }
}

/// Writes a line to standard error. A standard error that is gone (the terminal of an app ended by SIGHUP,
/// a closed pipe) loses the line: `FileHandle.write(_:)` would trap on the failed write instead.
func printError(_ line: String) {
    try? FileHandle.standardError.write(contentsOf: Data((line + "\n").utf8))
}

/// The usual exit status of a process ended by `signal`.
func exitStatus(forSignal signal: Int32) -> Int32 { 128 + signal }

/// SIGINT, SIGTERM or SIGHUP by name.
func signalName(_ signal: Int32) -> String {
    switch signal {
    case SIGINT: return "SIGINT"
    case SIGTERM: return "SIGTERM"
    case SIGHUP: return "SIGHUP"
    default: return "signal \(signal)"
    }
}

/// A failure while running a command (exit status 1), described in one line.
struct RuntimeError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
