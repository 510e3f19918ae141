/// How many colours the terminal can show, which decides how `Color`s are quantised.
public enum ColorMode: Sendable, Hashable, CaseIterable {
    /// 24-bit colour: the terminfo entry is a direct-colour one (for example `xterm-direct`), so colour
    /// numbers are packed RGB.
    case trueColor
    /// The xterm 256-colour palette: a 6x6x6 cube plus a 24-step grey ramp (indices 16-255).
    case palette256
    /// The eight basic ANSI colours.
    case palette8
    /// No colour at all: only bold and reverse attributes reach the screen.
    case none

    /// The mode to render with, as a pure function of the environment and what terminfo reports.
    ///
    /// - `NO_COLOR` present with a non-empty value (the no-color.org convention) gives `.none`, as does
    ///   a terminal reporting fewer than 8 colours.
    /// - A direct-colour terminfo entry (the `RGB` capability, or 2^24 colours) gives `.trueColor`.
    /// - Otherwise 256 or more colours give `.palette256`, and 8 to 255 give `.palette8`.
    ///
    /// `COLORTERM=truecolor` (or `24bit`) says the *emulator* understands 24-bit escapes, but curses
    /// can only emit them through a direct-colour terminfo entry. With a palette entry such as
    /// `xterm-256color` the result is therefore `.palette256` (nearest-colour mapping), never garbled
    /// output. `CursesScreen` therefore first tries the family's direct entry (`directTerminalType`);
    /// when terminfo has none, `truecolorRequested(by:)` tells the app to suggest installing one.
    public static func detect(
        environment: [String: String], terminalColors: Int, terminalIsDirect: Bool
    ) -> ColorMode {
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return .none }
        if terminalIsDirect || terminalColors >= 1 << 24 { return .trueColor }
        if terminalColors >= 256 { return .palette256 }
        if terminalColors >= 8 { return .palette8 }
        return .none
    }

    /// Whether `COLORTERM` announces a 24-bit capable emulator (`truecolor` or `24bit`).
    public static func truecolorRequested(by environment: [String: String]) -> Bool {
        guard let value = environment["COLORTERM"]?.lowercased() else { return false }
        return value == "truecolor" || value == "24bit"
    }

    /// The direct-colour terminfo entry to try when `COLORTERM` asks for 24-bit colour and `TERM`
    /// is a palette entry: the family name before the first `-` plus `-direct` (`xterm-256color`
    /// gives `xterm-direct`, `tmux-256color` gives `tmux-direct`). Nil when no upgrade applies.
    public static func directTerminalType(for environment: [String: String]) -> String? {
        guard truecolorRequested(by: environment), let term = environment["TERM"], !term.isEmpty, !term.contains("direct")
        else { return nil }
        return (term.split(separator: "-").first.map(String.init) ?? term) + "-direct"
    }
}
