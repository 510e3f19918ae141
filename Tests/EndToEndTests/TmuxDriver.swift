import Foundation
import TestSupport
import XCTest

/// Runs a shell inside a private tmux server (its own socket, so tests never touch a user's tmux),
/// types into it and reads the screen back, for driving the real `convscope` binary.
final class TmuxDriver {
    let socket: String
    let folder: String
    private static let session = "app"
    /// The shell's prompt (capture-pane drops the space after it).
    static let prompt = "e2e$"

    /// The current `convscope` binary (`ConvscopeBinary`: `$CONVSCOPE_BIN`, else `.build/release/convscope`);
    /// throws when it is missing or older than the sources.
    static func binary() throws -> String {
        try ConvscopeBinary.path()
    }

    /// Skips the test (loudly) when tmux is not installed.
    static func requireTmux() throws {
        guard (try? TmuxDriver.run(["tmux", "-V"]).status) == 0 else {
            throw skip(.noTmux, "tmux is not installed: the end-to-end TUI tests need it (make deps installs it)")
        }
    }

    /// Starts a server with one `width` x `height` window running `sh` in a fresh temporary folder
    /// that is also `HOME`; `environment` adds to (or, with nil values, removes from) the shell's.
    init(width: Int, height: Int, environment: [String: String?] = [:]) throws {
        socket = "convscope-e2e-\(getpid())-\(UUID().uuidString.prefix(8))"
        folder = NSTemporaryDirectory() + "convscope-e2e-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // The test runner's own settings (swift test sets NO_COLOR) must not leak into the app.
        var settings: [String: String?] = [
            "TERM": "xterm-256color", "HOME": folder, "PS1": TmuxDriver.prompt + " ", "LANG": "C.UTF-8", "NO_COLOR": nil, "COLORTERM": nil,
        ]
        settings.merge(environment) { $1 }
        let sorted = settings.sorted { $0.key < $1.key }
        let removals = sorted.filter { $0.value == nil }.map { "-u \($0.key)" }
        let assignments = sorted.compactMap { key, value in value.map { "'\(key)=\($0)'" } }
        let shell = (["env"] + removals + assignments + ["sh"]).joined(separator: " ")
        // The server this starts keeps the client's standard streams: give it none to hold open.
        let started = try TmuxDriver.run(
            ["tmux", "-L", socket, "-f", "/dev/null", "new-session", "-d", "-s", TmuxDriver.session, "-x", "\(width)",
             "-y", "\(height)", "-c", folder, shell], detached: true)
        guard started.status == 0 else { throw DriverError("tmux could not start a session") }
        try tmux(["set-option", "-g", "window-size", "manual"])
    }

    /// Kills the server and removes the temporary folder.
    func close() {
        _ = try? tmux(["kill-server"])
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Types `line` and Enter into the shell.
    func type(_ line: String) throws {
        try tmux(["send-keys", "-t", TmuxDriver.session, "-l", line])
        try tmux(["send-keys", "-t", TmuxDriver.session, "Enter"])
    }

    /// Presses tmux key names (`j`, `Space`, `C-c`, `Left`).
    func press(_ keys: String...) throws {
        try press(contentsOf: keys)
    }

    /// Presses a list of tmux key names in one go.
    func press(contentsOf keys: [String]) throws {
        try tmux(["send-keys", "-t", TmuxDriver.session] + keys)
    }

    /// Presses a list of tmux key names in one go (`--`: a key may start with `-`).
    func press(_ keys: [String]) throws {
        try tmux(["send-keys", "-t", TmuxDriver.session, "--"] + keys)
    }

    /// The screen's text, one string per row.
    func screen() throws -> [String] {
        try tmux(["capture-pane", "-p", "-t", TmuxDriver.session]).components(separatedBy: "\n")
    }

    /// The screen with colours and attributes as SGR escape sequences, one string per row.
    func screenWithEscapes() throws -> [String] {
        try tmux(["capture-pane", "-p", "-e", "-t", TmuxDriver.session]).components(separatedBy: "\n")
    }

    /// A tmux format expanded for the pane, for example `#{cursor_flag}` or `#{pane_pid}`.
    func paneFormat(_ format: String) throws -> String {
        try tmux(["display-message", "-p", "-t", TmuxDriver.session, format]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func resize(width: Int, height: Int) throws {
        try tmux(["resize-window", "-t", TmuxDriver.session, "-x", "\(width)", "-y", "\(height)"])
    }

    /// Whether the pane is on the alternate screen (curses is active).
    func alternateScreenIsOn() throws -> Bool {
        try paneFormat("#{alternate_on}") == "1"
    }

    /// Polls the screen until `condition` holds; fails (with the screen) after `timeout` seconds.
    @discardableResult
    func waitFor(
        _ what: String, timeout: Double = 20, file: StaticString = #filePath, line: UInt = #line,
        _ condition: ([String]) -> Bool
    ) throws -> [String] {
        let deadline = Date().addingTimeInterval(timeout)
        var last: [String] = []
        while Date() < deadline {
            last = try screen()
            if condition(last) { return last }
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTFail("timed out waiting for \(what); the screen was:\n" + last.joined(separator: "\n"), file: file, line: line)
        throw DriverError("timed out waiting for \(what)")
    }

    /// Waits until some row contains `text`.
    @discardableResult
    func waitFor(text: String, timeout: Double = 20, file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        try waitFor("'\(text)'", timeout: timeout, file: file, line: line) { $0.contains { $0.contains(text) } }
    }

    @discardableResult
    private func tmux(_ arguments: [String]) throws -> String {
        let result = try TmuxDriver.run(["tmux", "-L", socket] + arguments)
        guard result.status == 0 else { throw DriverError("tmux \(arguments.joined(separator: " ")) failed: \(result.output)") }
        return result.output
    }

    /// Runs a program to completion; returns its exit status and standard output plus error
    /// (nothing when `detached`: its streams go to /dev/null, for programs that leave a daemon).
    ///
    /// posix_spawn and waitpid rather than Foundation's `Process`, whose exit monitoring hung here
    /// on tmux clients that had started a server.
    static func run(_ command: [String], input: String = "/dev/null", detached: Bool = false) throws -> (status: Int32, output: String) {
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else { throw DriverError("pipe failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, input, O_RDONLY, 0)
        if detached {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        } else {
            posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
            posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 2)
        }
        posix_spawn_file_actions_addclose(&actions, pipeEnds[0])
        posix_spawn_file_actions_addclose(&actions, pipeEnds[1])
        let arguments = command.map { strdup($0) } + [nil]
        defer { arguments.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, command[0], &actions, nil, arguments, environ)
        Glibc.close(pipeEnds[1])
        defer { Glibc.close(pipeEnds[0]) }
        guard spawned == 0 else { throw DriverError("cannot run \(command[0]): \(String(cString: strerror(spawned)))") }
        var output = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(pipeEnds[0], &buffer, buffer.count)
            if count <= 0 { break }
            output.append(contentsOf: buffer[0..<count])
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = (status & 0x7F) == 0
        return (exited ? (status >> 8) & 0xFF : 128 + (status & 0x7F), String(decoding: output, as: UTF8.self))
    }
}

/// A driver problem, with the reason.
struct DriverError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
