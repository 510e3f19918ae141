import ConvKit
import ConvRender
import Foundation

/// Drives the real app inside tmux for `SoakSettings.seconds` with the seeded `SoakKeyStream`, checks
/// after every action that the screen answered, and records what the soak must report.
///
/// **How an answer is seen.** Keys are read and drawn in order by one thread, so after an action the
/// driver types `?` and waits for the help overlay (its footer "? or Esc closes this help"), then
/// Escape and waits for the overlay to go: the overlay can only appear once every key before it was
/// handled and a frame drawn, so a hung or stuck UI thread fails the wait. (When the action's own
/// keys leave the overlay open, the driver waits for it and only types Escape.) The time from the
/// action's first key to the overlay is that action's response time; the Escape's is a second one.
/// A resize is answered when the app has redrawn at the new size (the status row ends at the new
/// right edge, or "Terminal too small: WxH" names it), and then probed like keys. On a screen below
/// 60x18 the app draws only that message, so keys typed there are checked by the next probe at a
/// usable size.
///
/// **Errors.** The status row in the error style (reverse video) is an error; a new one must be
/// one the keys of the latest few actions can cause (`allowedErrors`), else it is a failure.
///
/// **Memory.** The app's VmRSS (from `/proc`) about once a second, and settled (`settledMemory`) a
/// few times during the warm-up and three times at the end: the lowest of the end's may exceed the highest
/// of the warm-up's by at most `memoryGrowthLimit`.
///
/// **The end.** The app is quit with q and y (save first), must exit 0 within a minute, leave a
/// checkpoint that loads and exports that decode, and give the terminal back as it found it.
final class SoakRun {
    private let settings: SoakSettings
    private let binary: String
    private let tmux: TmuxDriver
    private var report: SoakReport
    private var stream: SoakKeyStream
    private var appPID: pid_t = 0
    private var started: UInt64 = 0
    private var size = (width: 100, height: 30)
    /// Whether the help overlay is open, as the keys typed so far predict.
    private var helpShows = false
    /// The status row's error text at the previous check (nil: no error showing).
    private var errorShowing: String?
    /// The keys of the latest actions, newest last: an error they can cause is allowed (it may come
    /// a few checks late, from a background job).
    private var recentKeys: [[String]] = []
    static let actionsThatExplainAnError = 5
    private var actionIndex = 0
    private var lastAction = ""
    private var lastMemorySample: UInt64 = 0

    /// The help overlay's last row: shown exactly while the overlay is open.
    static let helpMarker = "? or Esc closes this help"
    static let quitDialogMarker = "save first?"

    /// Errors that keys can cause on a sound app, with the keys that can cause them.
    static let allowedErrors: [(prefix: String, keys: Set<String>)] = [
        // CAM needs gap then fc: models without it (vgg) cannot export a CAM heatmap.
        ("export failed: no heatmap to export: CAM needs global average pooling", ["e"]),
    ]

    init(settings: SoakSettings, binary: String) throws {
        self.settings = settings
        self.binary = binary
        report = SoakReport(settings: settings)
        stream = SoakKeyStream(seed: settings.seed)
        tmux = try TmuxDriver(width: size.width, height: size.height)
    }

    deinit { tmux.close() }

    /// Runs the soak; failures are collected in the report (a hang or crash ends the soak early).
    func run() -> SoakReport {
        // A hung app may not heed the SIGHUP that closing tmux sends: it is ended here.
        defer { if appPID != 0 && appIsAlive() { kill(appPID, SIGKILL) } }
        do {
            try launch()
            let deadline = started + UInt64(settings.seconds * 1e9)
            while DispatchTime.now().uptimeNanoseconds < deadline {
                let action = stream.next(screenIsTooSmall: isTooSmall(size))
                actionIndex += 1
                try perform(action)
                try checkStatusLine()
                try sampleMemory()
                let readings = report.memoryDuringWarmUp.count
                if readings < SoakSettings.warmUpReadings
                    && seconds(since: started) >= settings.warmUp * Double(readings + 1) / Double(SoakSettings.warmUpReadings) {
                    report.memoryDuringWarmUp.append(try settledMemory())
                }
            }
            report.stepsTrained = totalSteps(try tmux.screen())
            // Three settled readings a few seconds apart, the lowest kept: a worker's job that was still
            // winding down at the first (a time-scrubber evaluation, a synthesised grid) is gone by the last,
            // while memory that leaks stays in all three.
            var atEnd: [Int] = []
            for reading in 0..<3 {
                if reading > 0 { sleep(2) }
                atEnd.append(try settledMemory())
            }
            report.memoryAtEnd = atEnd.min()!
            try quitAndCheckTheTerminal()
            try checkFilesWritten()
        } catch {
            report.failures.append("\(error)")
        }
        return report
    }

    // MARK: - Start and end

    private func launch() throws {
        report.terminalBefore = try terminalFlags()
        // More epochs than the soak can finish: the run is still training when it is quit.
        let epochs = Int(settings.seconds) + 20
        try tmux.type(
            "stty -a > before.txt; \(binary) --data synthetic --model \(settings.model) --epochs \(epochs) "
                + "--export-dir exports --checkpoint run.safetensors; echo EXIT=$?; stty -a > after.txt")
        try wait("the app's first frame", timeout: 60) { $0.first?.contains("RUNNING") == true }
        appPID = try findApp()
        started = DispatchTime.now().uptimeNanoseconds
        try sampleMemory(force: true)
    }

    /// The convscope process: the pane's shell's child.
    private func findApp() throws -> pid_t {
        let shell = try tmux.paneFormat("#{pane_pid}")
        let children = (try? String(contentsOfFile: "/proc/\(shell)/task/\(shell)/children", encoding: .utf8)) ?? ""
        for child in children.split(separator: " ") {
            let name = (try? String(contentsOfFile: "/proc/\(child)/comm", encoding: .utf8)) ?? ""
            if name.hasPrefix("convscope"), let pid = pid_t(child) { return pid }
        }
        throw SoakFailure("could not find the convscope process under the shell \(shell)")
    }

    private func quitAndCheckTheTerminal() throws {
        lastAction = "the final quit"
        if size != (100, 30) { try perform(.resize(width: 100, height: 30)) }
        try ensureRunning()
        let quitStart = DispatchTime.now().uptimeNanoseconds
        try tmux.press(["q"])
        // Running training always asks; a run that cannot run (finished, say) quits at once when saved.
        let asked = try wait("the quit dialog or the end", timeout: SoakSettings.hangLimit, appMayExit: true) { screen in
            screen.contains { $0.contains(SoakRun.quitDialogMarker) || $0.hasPrefix("EXIT=") }
        }
        if asked.contains(where: { $0.contains(SoakRun.quitDialogMarker) }) { try tmux.press(["y"]) }
        let screen = try wait("the app to save and exit", timeout: 60, appMayExit: true) { $0.contains { $0.hasPrefix("EXIT=") } }
        report.quitSeconds = seconds(since: quitStart)
        let status = screen.first { $0.hasPrefix("EXIT=") } ?? ""
        if status != "EXIT=0" { report.failures.append("the app exited with \(status) after q, y (expected EXIT=0)") }
        if let complaint = screen.first(where: { $0.hasPrefix("convscope:") }) {
            report.failures.append("the app said on exit: \(complaint)")
        }
        try wait("the shell's prompt", timeout: 10, appMayExit: true) { $0.last { !$0.isEmpty } == TmuxDriver.prompt }

        report.terminalAfter = try terminalFlags()
        if report.terminalAfter != report.terminalBefore {
            report.failures.append("tmux's view of the terminal changed: before \(report.terminalBefore), after \(report.terminalAfter)")
        }
        let before = (try? String(contentsOfFile: tmux.folder + "/before.txt", encoding: .utf8)) ?? ""
        let after = (try? String(contentsOfFile: tmux.folder + "/after.txt", encoding: .utf8)) ?? "(missing)"
        if before.isEmpty || before != after { report.failures.append("stty -a changed:\n\(before)\n---\n\(after)") }
        report.terminalRestored = report.terminalAfter == report.terminalBefore && before == after && !before.isEmpty
    }

    /// The pane's modes as tmux tracks them: the alternate screen, the cursor's visibility, keypad
    /// and mouse modes. All must be as before the app started.
    private func terminalFlags() throws -> String {
        try tmux.paneFormat(
            "alternate_on=#{alternate_on} cursor_flag=#{cursor_flag} keypad_flag=#{keypad_flag} "
                + "keypad_cursor_flag=#{keypad_cursor_flag} insert_flag=#{insert_flag} origin_flag=#{origin_flag} "
                + "wrap_flag=#{wrap_flag} mouse_any_flag=#{mouse_any_flag}")
    }

    /// The checkpoint q, y saved loads; every export decodes; nothing else (a stray temporary) is left.
    private func checkFilesWritten() throws {
        do {
            let loaded = try RunCheckpoint.load(tmux.folder + "/run.safetensors")
            report.checkpointStep = Int(loaded.metadata[RunCheckpoint.stepKey] ?? "")
        } catch {
            report.failures.append("the checkpoint saved on quit does not load: \(error)")
        }
        let exports = tmux.folder + "/exports"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: exports)) ?? [] {
            let path = exports + "/" + name
            do {
                if name.hasSuffix(".png") {
                    _ = try PNG.read(contentsOf: path)
                    report.pngFiles += 1
                } else if name.hasSuffix(".safetensors") {
                    _ = try Classifier.load(path)  // float or int8, as `convscope eval` reads them
                    report.compressedModels += 1
                } else {
                    report.failures.append("an unexpected file in the export folder: \(name)")
                }
            } catch {
                report.failures.append("export \(name) does not read back: \(error)")
            }
        }
    }

    // MARK: - Actions

    private func perform(_ action: SoakKeyStream.Action) throws {
        lastAction = "action \(actionIndex) \(action)"
        switch action {
        case .keys(let keys):
            try type(keys, kind: keys.count == 1 ? keys[0] : "burst")
        case .compression(let key):
            try type(["6", key], kind: "6 " + key)
        case let .quitDialog(ignored, cancel):
            try visitQuitDialog(ignored: ignored, cancel: cancel)
        case let .resize(width, height):
            let start = DispatchTime.now().uptimeNanoseconds
            try tmux.resize(width: width, height: height)
            size = (width, height)
            report.resizes += 1
            if isTooSmall(size) {
                try expect("the too-small message at \(width)x\(height)", kind: "resize", from: start) {
                    $0.contains { $0.contains("Terminal too small: \(width)x\(height),") }
                }
            } else {
                try expect("a frame at \(width)x\(height)", kind: "resize", from: start) { screen in
                    screen.count >= height && screen[0].hasPrefix(" ConvScope")
                        && screen[height - 1].hasSuffix("? help  q quit") && screen[height - 1].count == width - 1
                }
                try probe(after: start, kind: "resize")
            }
        }
    }

    /// Types `keys` at once and, on a usable screen, waits for the app to show it took them.
    private func type(_ keys: [String], kind: String) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        try tmux.press(keys)
        report.count(keys)
        recentKeys = Array((recentKeys + [keys]).suffix(SoakRun.actionsThatExplainAnError))
        helpShows = SoakKeys.helpShows(after: keys, startingFrom: helpShows)
        if !isTooSmall(size) { try probe(after: start, kind: kind) }
    }

    /// Opens the help overlay (unless the keys did) and closes it, waiting for each on screen.
    private func probe(after start: UInt64, kind: String) throws {
        if !helpShows {
            try tmux.press(["?"])
            report.probeKeys += 1
        }
        try expect("the help overlay after \(kind)", kind: kind, from: start) { $0.contains { $0.contains(SoakRun.helpMarker) } }
        let closing = DispatchTime.now().uptimeNanoseconds
        try tmux.press(["Escape"])
        report.probeKeys += 1
        helpShows = false
        try expect("the help overlay to close", kind: "Escape (probe)", from: closing) {
            !$0.contains { $0.contains(SoakRun.helpMarker) } && $0.first?.hasPrefix(" ConvScope") == true
        }
    }

    /// q, keys the dialog must ignore, then a cancel: the dialog must come, stay and go, and the app live on.
    private func visitQuitDialog(ignored: [String], cancel: String) throws {
        guard !isTooSmall(size), try ensureRunning() else {
            try type(ignored, kind: "burst")
            return
        }
        let start = DispatchTime.now().uptimeNanoseconds
        try tmux.press(["q"])
        report.count(["q"])
        helpShows = false
        try expect("the quit dialog", kind: "q", from: start) { $0.contains { $0.contains(SoakRun.quitDialogMarker) } }
        if !ignored.isEmpty {
            try tmux.press(ignored)
            report.count(ignored)
        }
        let cancelling = DispatchTime.now().uptimeNanoseconds
        try tmux.press([cancel])
        report.count([cancel])
        report.quitDialogs += 1
        try expect("the quit dialog to close on \(cancel)", kind: "quit dialog " + cancel, from: cancelling) { screen in
            !screen.contains { $0.contains(SoakRun.quitDialogMarker) } && screen.first?.hasPrefix(" ConvScope") == true
        }
        try probe(after: cancelling, kind: "quit dialog " + cancel)
    }

    /// Makes sure training runs (so q asks before quitting): space when paused. False when training
    /// cannot run (finished).
    @discardableResult
    private func ensureRunning() throws -> Bool {
        var screen = try tmux.screen()
        if screen.first?.contains("STEPPING") == true {
            screen = try wait("single steps to end", timeout: SoakSettings.hangLimit) { $0.first?.contains("STEPPING") == false }
        }
        guard let header = screen.first, !header.contains("RUNNING") else { return true }
        guard header.contains("PAUSED") else { return false }
        let start = DispatchTime.now().uptimeNanoseconds
        try tmux.press(["Space"])
        report.count(["Space"])
        try expect("training to resume", kind: "Space", from: start) { $0.first?.contains("RUNNING") == true }
        return true
    }

    // MARK: - Checks

    /// Waits for `condition`; records how long the app took from `start`, and a failure past the limit.
    @discardableResult
    private func expect(_ what: String, kind: String, from start: UInt64, _ condition: ([String]) -> Bool) throws -> [String] {
        let screen = try wait(what, timeout: SoakSettings.hangLimit, condition)
        let latency = seconds(since: start)
        report.latencies.append((kind, latency))
        if latency > SoakSettings.responseLimit {
            report.failures.append(String(format: "%@: %.2f s for %@ (limit %.0f s)", lastAction, latency, what, SoakSettings.responseLimit))
        }
        return screen
    }

    /// Polls the screen until `condition` holds; throws when the app has gone or `timeout` passed.
    @discardableResult
    private func wait(_ what: String, timeout: Double, appMayExit: Bool = false, _ condition: ([String]) -> Bool) throws -> [String] {
        let start = DispatchTime.now().uptimeNanoseconds
        while true {
            let screen = try tmux.screen()
            if condition(screen) { return screen }
            if !appMayExit && appPID != 0 && !appIsAlive() {
                throw SoakFailure("the app died during \(lastAction); the screen:\n" + screen.joined(separator: "\n"))
            }
            if seconds(since: start) > timeout {
                throw SoakFailure(
                    String(format: "no answer in %.0f s (hang) waiting for %@ after %@; the screen:\n", timeout, what, lastAction)
                        + screen.joined(separator: "\n"))
            }
            usleep(15_000)
        }
    }

    /// A new error in the status row must be one the keys since the last check can cause.
    private func checkStatusLine() throws {
        let screen = try tmux.screenWithEscapes()
        guard !isTooSmall(size), screen.count >= size.height else { return }
        let row = screen[size.height - 1]
        let (text, isError) = StatusRow.parse(row)
        defer { errorShowing = isError ? text : nil }
        guard isError, text != errorShowing else { return }
        report.errorsSeen.append(text)
        // A health alarm speaks of the model, not of a failure of the app: the stream's rate keys and random
        // steps make dead units and blown-up gradients likely, and the app shows them in the alarm style by design.
        if text.hasPrefix("health alarm:") { return }
        let typed = Set(recentKeys.joined())
        guard !SoakRun.allowedErrors.contains(where: { text.hasPrefix($0.prefix) && !$0.keys.isDisjoint(with: typed) }) else { return }
        report.failures.append("\(lastAction): an error the latest keys \(recentKeys) do not explain: \(text)")
    }

    /// The app's resident memory once it has settled: typing stops, the compression view shows (at
    /// a usable size), its measurements in progress end (they hold a batch of 256 activations for
    /// seconds, which says nothing about what the app keeps), then the lowest of a few readings.
    private func settledMemory() throws -> Int {
        if isTooSmall(size) { try perform(.resize(width: 100, height: 30)) }
        lastAction = "settling to read the memory"
        try type(["6"], kind: "6")
        let settling = DispatchTime.now().uptimeNanoseconds
        try wait("the compression measurements to end", timeout: SoakSettings.measurementLimit) { screen in
            !screen.contains { $0.contains("computing…") || $0.contains("queued") }
        }
        report.settlingSeconds += seconds(since: settling)
        var readings: [Int] = []
        for _ in 0..<5 {
            try sampleMemory(force: true)
            readings.append(report.memory.last!.kilobytes)
            usleep(300_000)
        }
        return readings.min()!
    }

    private func sampleMemory(force: Bool = false) throws {
        let now = DispatchTime.now().uptimeNanoseconds
        guard force || now - lastMemorySample >= 1_000_000_000 else { return }
        lastMemorySample = now
        guard let status = try? String(contentsOfFile: "/proc/\(appPID)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Int(line.split(separator: " ")[1])
        else { throw SoakFailure("could not read the app's resident memory (/proc/\(appPID)/status) after \(lastAction)") }
        report.memory.append((seconds(since: started), kilobytes))
    }

    private func appIsAlive() -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(appPID)/stat", encoding: .utf8) else { return false }
        // The state field follows the parenthesised name; Z is a zombie (dead, not yet reaped).
        guard let close = stat.lastIndex(of: ")") else { return false }
        return !stat[stat.index(after: close)...].hasPrefix(" Z")
    }

    private func isTooSmall(_ size: (width: Int, height: Int)) -> Bool { size.width < 60 || size.height < 18 }


    private func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

    /// The global step in the header's `total N/M`.
    private func totalSteps(_ screen: [String]) -> Int? {
        guard let line = screen.first(where: { $0.contains("total ") }),
            let range = line.range(of: #"total (\d+)/"#, options: .regularExpression)
        else { return nil }
        return Int(line[range].dropFirst(6).dropLast())
    }
}

/// The status row of `tmux capture-pane -e`: its text and whether it is in the error style.
enum StatusRow {
    /// The text without escape sequences, trimmed, and whether the first cell is in reverse video
    /// (the app's error style, `AppColors.errorBar`; the ordinary status bar is not reversed).
    static func parse(_ row: String) -> (text: String, isError: Bool) {
        var text = "", reversed = false, sawText = false
        var scalars = row.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            guard scalar == "\u{1B}" else {
                sawText = true
                text.unicodeScalars.append(scalar)
                continue
            }
            guard scalars.next() == "[" else { continue }
            var parameters = ""
            while let next = scalars.next(), !("@"..."~").contains(next) { parameters.unicodeScalars.append(next) }
            if !sawText { reversed = reverse(after: parameters, from: reversed) }
        }
        return (text.trimmingCharacters(in: .whitespaces), reversed)
    }

    /// Whether reverse video is on after SGR parameters such as `1;7` when it was `current` before:
    /// 7 sets it, 0 (or none) and 27 clear it; colour arguments (`38;5;7`, `48;2;r;g;b`) are skipped
    /// so a colour number 7 is not mistaken for it.
    static func reverse(after parameters: String, from current: Bool) -> Bool {
        let numbers = parameters.split(separator: ";", omittingEmptySubsequences: false).map { Int($0) ?? 0 }
        var index = 0, reverse = current
        while index < numbers.count {
            switch numbers[index] {
            case 38, 48, 58: index += numbers.indices.contains(index + 1) && numbers[index + 1] == 2 ? 5 : 3
            case 7: reverse = true; index += 1
            case 0, 27: reverse = false; index += 1
            default: index += 1
            }
        }
        return reverse
    }
}

/// A soak failure that ends the run (a hang, a crash, a missing process).
struct SoakFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
