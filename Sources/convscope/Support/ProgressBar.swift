import Foundation
import ConvKit

/// Draws a one-line progress bar on a terminal (redrawn in place with a carriage return), or, when
/// standard output is not a terminal, prints a plain log line now and then instead.
final class ProgressBar {
    let isTerminal = isatty(STDOUT_FILENO) != 0
    private var lastLog = -Double.infinity
    private var drawn = false
    /// Seconds between plain log lines when not on a terminal.
    var logInterval: TimeInterval = 10

    /// Shows `done` of `total` with a prefix and a suffix of readings.
    func update(prefix: String, done: Int, total: Int, suffix: String) {
        if isTerminal {
            let width = 24
            let fraction = total > 0 ? min(Double(done) / Double(total), 1) : 0
            let eighths = Int(fraction * Double(width * 8))
            let partials = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
            var bar = String(repeating: "█", count: eighths / 8)
            if eighths / 8 < width { bar += partials[eighths % 8] }
            bar = bar.padding(toLength: width, withPad: " ", startingAt: 0)
            let line = "\(prefix) ▕\(bar)▏ \(done)/\(total)  \(suffix)"
            writeOut("\r\u{1B}[2K" + line)
            drawn = true
        } else if Stopwatch.now - lastLog >= logInterval || done == total {
            lastLog = Stopwatch.now
            writeOut("\(prefix) \(done)/\(total)  \(suffix)\n")
        }
    }

    /// Prints a permanent line (the bar, if any, is cleared first and redrawn by the next update).
    func line(_ text: String) {
        if isTerminal && drawn {
            writeOut("\r\u{1B}[2K")
            drawn = false
        }
        writeOut(text + "\n")
    }

    /// Ends the bar's line.
    func finish() {
        if isTerminal && drawn {
            writeOut("\n")
            drawn = false
        }
    }
}

/// Writes straight to standard output (unbuffered), so progress redraws and log lines keep their order. A
/// standard output that is gone (a closed terminal) loses the text instead of trapping, so the run still saves.
func writeOut(_ text: String) {
    try? FileHandle.standardOutput.write(contentsOf: Data(text.utf8))
}
