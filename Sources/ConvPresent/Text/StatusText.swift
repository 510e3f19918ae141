import Foundation

/// `4:05` or `1:02:03` for a number of seconds; `--:--` when unknown. Shared by the progress bar and the TUI header.
public func durationText(_ seconds: Double?) -> String {
    guard let seconds, seconds.isFinite, seconds >= 0 else { return "--:--" }
    let s = Int(seconds.rounded())
    return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
}

/// `1 unsaved training step` or `2 unsaved training steps`: what the quit dialog and the CLI say
/// about work that a quit would lose.
public func unsavedStepsText(_ count: Int) -> String {
    "\(count) unsaved training step\(count == 1 ? "" : "s")"
}
