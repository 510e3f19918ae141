import ConvPresent
import CCurses
import CTerminal
import Foundation
import Synchronization

/// Why the terminal could not be used.
public enum TerminalError: Error, Equatable, CustomStringConvertible {
    /// Standard output (or input) is not a terminal, for example when piped or under CI.
    case notATerminal(stream: String)
    /// curses does not know the terminal type in `TERM`.
    case unknownTerminal(term: String)
    /// Another `CursesScreen` is already running in this process.
    case alreadyActive
    /// The tty mode could not be read, so it could not be restored later.
    case cannotSaveTerminalMode

    public var description: String {
        switch self {
        case .notATerminal(let stream):
            return "\(stream) is not a terminal: the interactive UI needs one (use `convscope train` for headless runs)"
        case .unknownTerminal(let term):
            return "the terminal type '\(term)' is unknown to curses (try TERM=xterm-256color)"
        case .alreadyActive:
            return "the terminal UI is already running"
        case .cannotSaveTerminalMode:
            return "could not read the terminal's mode"
        }
    }
}

/// The curses backend: owns the terminal while it runs, blits `CellGrid`s and reads keys.
///
/// Only the thread that created it may use it (every call checks), and only one can run at a time.
/// Each `draw` writes just the cells that changed since the previous frame, then `wnoutrefresh` +
/// `doupdate`, so nothing flickers. The terminal is put back by `stop()` (also called on deinit);
/// on SIGINT, SIGTERM or SIGHUP `readKey` returns `.interrupt` so the app can shut down cleanly,
/// and a second such signal, a crash or `exit()` restore the terminal without curses (see
/// `shim.h`: the handlers only use async-signal-safe calls).
public final class CursesScreen {
    /// The colour mode in use, detected at start.
    public let colorMode: ColorMode
    /// Whether `COLORTERM` asked for 24-bit colour that the terminfo entry cannot give
    /// (see `ColorMode.detect`); the app may suggest `TERM=xterm-direct`.
    public let truecolorUnavailable: Bool

    private let ownerThread: pthread_t
    private var screen: OpaquePointer?
    private var pairs: ColorPairCache
    private var previousFrame: CellGrid?
    private var interruptsSeen: Int32 = 0

    /// Whether a CursesScreen is running in this process: curses has one global screen.
    private static let running = Atomic<Bool>(false)

    /// Takes over the terminal: checks it is one, installs the signal handlers, starts curses in
    /// cbreak/noecho/keypad mode with a hidden cursor, and detects colours from `environment`.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard isatty(STDOUT_FILENO) == 1 else { throw TerminalError.notATerminal(stream: "standard output") }
        guard isatty(STDIN_FILENO) == 1 else { throw TerminalError.notATerminal(stream: "standard input") }
        guard CursesScreen.running.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            throw TerminalError.alreadyActive
        }
        var started = false
        defer { if !started { CursesScreen.running.store(false, ordering: .releasing) } }

        setlocale(LC_ALL, "")
        guard cterminal_install_signal_handlers() == 0 else { throw TerminalError.cannotSaveTerminalMode }
        guard let screen = CursesScreen.openScreen(environment: environment) else {
            cterminal_remove_signal_handlers()
            throw TerminalError.unknownTerminal(term: environment["TERM"] ?? "")
        }
        self.screen = screen
        ownerThread = pthread_self()

        let window = ccurses_stdscr()
        cbreak()
        noecho()
        keypad(window, true)
        CursesScreen.defineAlternativeKeys()
        leaveok(window, true)
        curs_set(0)
        set_escdelay(25)
        wtimeout(window, 50)

        var terminalColors = 0
        if has_colors() {
            start_color()
            use_default_colors()
            terminalColors = Int(ccurses_colors())
        }
        let isDirect = ccurses_terminfo_is_direct() != 0
        colorMode = ColorMode.detect(environment: environment, terminalColors: terminalColors, terminalIsDirect: isDirect)
        truecolorUnavailable = (colorMode == .palette256 || colorMode == .palette8)
            && ColorMode.truecolorRequested(by: environment)
        pairs = ColorPairCache(
            mode: colorMode, reservedDirectColors: Int(ccurses_reserved_direct_colors()),
            allocatePair: { foreground, background in alloc_pair(foreground, background) }, resetPairs: { reset_color_pairs() })
        cterminal_prepare_restore()
        started = true
    }

    deinit {
        stop()
    }

    /// Starts curses on standard output for `TERM`. When `COLORTERM` announces 24-bit colour but
    /// `TERM` names a palette entry, the family's direct-colour entry is tried first (see
    /// `ColorMode.directTerminalType`): curses can only send 24-bit colours through one. `TERM` is
    /// changed for this process when that entry exists. Nil when the terminal type is unknown.
    private static func openScreen(environment: [String: String]) -> OpaquePointer? {
        if let direct = ColorMode.directTerminalType(for: environment) {
            setenv("TERM", direct, 1)
            if let screen = ccurses_newterm() { return screen }
            if let original = environment["TERM"] { setenv("TERM", original, 1) }
        }
        return ccurses_newterm()
    }

    /// The terminal's size in cells (as of the last `readKey`, which handles resizes).
    public var size: (width: Int, height: Int) {
        checkThread()
        return (Int(ccurses_cols()), Int(ccurses_lines()))
    }

    /// Shows `grid`: writes the cells that differ from the last frame (every cell after a resize
    /// or `invalidate()`), then updates the terminal in one go. Cells outside the terminal are
    /// dropped.
    public func draw(_ grid: CellGrid) {
        checkThread()
        guard screen != nil else { return }
        let window = ccurses_stdscr()
        let width = min(grid.width, Int(ccurses_cols())), height = min(grid.height, Int(ccurses_lines()))
        var previous = previousFrame.flatMap { $0.width == grid.width && $0.height == grid.height ? $0 : nil }
        if previous == nil { clearok(window, true) }
        write(grid, over: previous, width: width, height: height, into: window)
        if pairs.takeRecycledFlag() {
            // The pair table started over (or recycled a pair) while this frame was written: cells
            // written before may now show other colours, so write the whole frame again.
            previous = nil
            write(grid, over: nil, width: width, height: height, into: window)
            _ = pairs.takeRecycledFlag()
        }
        wnoutrefresh(window)
        doupdate()
        previousFrame = grid
    }

    /// Writes the cells of `grid` that differ from `previous` (all of them without one) into `window`.
    private func write(_ grid: CellGrid, over previous: CellGrid?, width: Int, height: Int, into window: UnsafeMutablePointer<WINDOW>?) {
        grid.cells.withUnsafeBufferPointer { cells in
            for y in 0..<height {
                for x in 0..<width {
                    let cell = cells[y * grid.width + x]
                    if let previous, previous.cells[y * grid.width + x] == cell { continue }
                    let pair = pairs.pair(foreground: cell.style.foreground, background: cell.style.background)
                    let glyph = colorMode == .none ? TerminalPalette.monochromeGlyph(for: cell) : cell.glyph
                    _ = ccurses_put_cell(window, Int32(y), Int32(x), wchar_t(bitPattern: glyph.value),
                                         cell.style.attributes.contains(.bold) ? 1 : 0,
                                         cell.style.attributes.contains(.reverse) ? 1 : 0, pair)
                }
            }
        }
    }

    /// Makes the next `draw` repaint every cell (for example on Ctrl-L, or to measure a full frame).
    public func invalidate() {
        checkThread()
        previousFrame = nil
    }

    /// Waits up to `timeoutMilliseconds` for a key. A resize returns `.resize` (curses has already
    /// adopted the new size and the next frame is drawn in full); a pending SIGINT/SIGTERM/SIGHUP
    /// returns `.interrupt`.
    public func readKey(timeoutMilliseconds: Int = 50) -> Key {
        checkThread()
        guard screen != nil else { return .none }
        if let interrupt = takeInterrupt() { return interrupt }
        let window = ccurses_stdscr()
        wtimeout(window, Int32(timeoutMilliseconds))
        var code: wint_t = 0
        let status = wget_wch(window, &code)
        if status == ERR { cterminal_note_hangup_if_gone() }
        if let interrupt = takeInterrupt() { return interrupt }
        switch status {
        case KEY_CODE_YES:
            let key = CursesScreen.functionKey(Int32(code))
            if key == .resize { previousFrame = nil }
            return key
        case OK:
            return Key(characterCode: UInt32(code))
        default:
            return .none
        }
    }

    /// The signal behind the last `.interrupt` (SIGINT, SIGTERM or SIGHUP), if any arrived.
    public var lastInterruptSignal: Int32? {
        get {
            let signal = cterminal_last_interrupt_signal()
            return signal == 0 ? nil : signal
        }
    }

    /// Gives the terminal back: ends curses, restores the previous signal handlers. Safe to call
    /// more than once.
    public func stop() {
        guard let screen else { return }
        checkThread()
        cterminal_block_interrupts(1)
        cterminal_mark_inactive()
        endwin()
        delscreen(screen)
        self.screen = nil
        cterminal_remove_signal_handlers()
        cterminal_block_interrupts(0)
        CursesScreen.running.store(false, ordering: .releasing)
    }

    private func takeInterrupt() -> Key? {
        let received = cterminal_interrupts_received()
        guard received > interruptsSeen else { return nil }
        interruptsSeen = received
        return .interrupt
    }

    private func checkThread() {
        precondition(pthread_equal(pthread_self(), ownerThread) != 0, "CursesScreen used from a thread other than the UI thread")
    }

    /// Home and End as tmux, screen, PuTTY, rxvt and the Linux console send them, whatever `TERM`'s
    /// terminfo entry says (xterm-256color, often set inside tmux, says ESC O H and ESC O F while tmux
    /// sends ESC [ 1 ~ and ESC [ 4 ~). Unknown, such a sequence reached the app as Escape, `[`, `1`
    /// (the curves tab) and `~` (found by the soak test). Sequences the entry binds are left alone.
    private static func defineAlternativeKeys() {
        let sequences: [(String, Int32)] = [
            ("\u{1B}[1~", KEY_HOME), ("\u{1B}[7~", KEY_HOME), ("\u{1B}[H", KEY_HOME), ("\u{1B}OH", KEY_HOME),
            ("\u{1B}[4~", KEY_END), ("\u{1B}[8~", KEY_END), ("\u{1B}[F", KEY_END), ("\u{1B}OF", KEY_END),
        ]
        for (sequence, code) in sequences where key_defined(sequence) == 0 {
            define_key(sequence, code)
        }
    }

    private static func functionKey(_ code: Int32) -> Key {
        switch code {
        case KEY_UP: return .up
        case KEY_DOWN: return .down
        case KEY_LEFT: return .left
        case KEY_RIGHT: return .right
        case KEY_PPAGE: return .pageUp
        case KEY_NPAGE: return .pageDown
        case KEY_HOME: return .home
        case KEY_END: return .end
        case KEY_BTAB: return .backTab
        case KEY_ENTER: return .enter
        case KEY_BACKSPACE: return .backspace
        case KEY_DC: return .delete
        case ccurses_key_resize(): return .resize
        case (KEY_F0 + 1)...(KEY_F0 + 12): return .function(Int(code - KEY_F0))
        default: return .none
        }
    }
}
