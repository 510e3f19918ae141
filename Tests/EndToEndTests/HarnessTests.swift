import Foundation
import TestSupport
import XCTest

/// The test harness itself: the end-to-end tests refuse a stale binary, CI's strict mode fails a skip
/// whose reason is off the allow-list, the docs' links and the README's flags hold, and the shell
/// completion scripts the README tells users to install generate and complete.
final class HarnessTests: XCTestCase {
    static let root = ConvscopeBinary.packageRoot

    private var temporary: TemporaryFolder!
    private var folder: String { temporary.path }

    override func setUpWithError() throws {
        temporary = try TemporaryFolder("harness")
    }

    override func tearDown() {
        temporary = nil
    }

    // MARK: A stale binary is refused

    func testABinaryOlderThanTheSourcesIsRefusedAndACurrentOneAccepted() throws {
        let old = folder + "/convscope"
        XCTAssertTrue(FileManager.default.createFile(atPath: old, contents: Data("#!/bin/sh\n".utf8)))
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSince1970: 946_684_800), .posixPermissions: 0o755], ofItemAtPath: old)
        let problem = try XCTUnwrap(ConvscopeBinary.staleness(of: old), "a binary from 2000 is older than the sources")
        XCTAssertTrue(problem.description.contains("is older than Sources/"), problem.description)
        XCTAssertTrue(problem.description.contains("swift build -c release --product convscope"), problem.description)
        XCTAssertFalse(problem.description.contains("\n"))

        try FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: old)
        XCTAssertNil(ConvscopeBinary.staleness(of: old), "a binary built after every source is current")
        // The binary the suite drives passed the same check.
        XCTAssertNil(ConvscopeBinary.staleness(of: try ConvscopeBinary.path()))
    }

    // MARK: Strict skips

    /// Runs `tools/strict-skips sh -c SCRIPT` in strict mode (or not) and returns its status and output.
    private func strictSkips(_ script: String, strict: Bool = true) throws -> (status: Int32, output: String) {
        let result = try TestProcess.run(
            Self.root + "/tools/strict-skips", ["/bin/sh", "-c", script],
            environment: ["CONVSCOPE_STRICT_SKIPS": strict ? "1" : "0"])
        return (result.status, result.output + result.errors)
    }

    func testStrictModeFailsASkipOffTheAllowListAndPassesTheAllowedOnes() throws {
        let allowed = "echo \"/x/A.swift:3: A.testA : Test skipped - SKIPPED LOUDLY [no-cifar10]: CONVSCOPE_DATA is not set\"; "
            + "echo \"skipped t.T.test_b: SKIPPED LOUDLY [no-torch]: no torch\""
        let passing = try strictSkips(allowed)
        XCTAssertEqual(passing.status, 0, passing.output)
        XCTAssertTrue(passing.output.contains("2 skip(s) with an allowed reason"), passing.output)

        let refused = try strictSkips(allowed + "; echo \"/x/B.swift:9: B.testB : Test skipped - SKIPPED LOUDLY [no-tmux]: tmux is not installed\"")
        XCTAssertEqual(refused.status, 1, refused.output)
        XCTAssertTrue(refused.output.contains("STRICT MODE FAILED"), refused.output)
        XCTAssertTrue(refused.output.contains("B.testB"), refused.output)

        let untagged = try strictSkips("echo \"/x/C.swift:1: C.testC : Test skipped - some reason nobody tagged\"")
        XCTAssertEqual(untagged.status, 1, "a skip without a tag is off the list: \(untagged.output)")

        let failing = try strictSkips("echo 'all ran'; exit 3")
        XCTAssertEqual(failing.status, 3, "the command's own failure is kept")

        let lenient = try strictSkips("echo \"/x/B.swift:9: B.testB : Test skipped - SKIPPED LOUDLY [no-tmux]: no tmux\"", strict: false)
        XCTAssertEqual(lenient.status, 0, "outside strict mode a skip is a skip")
    }

    func testTheScriptsAllowListIsTheSkipReasonsAllowedInStrictMode() throws {
        let script = try String(contentsOfFile: Self.root + "/tools/strict-skips", encoding: .utf8)
        let line = try XCTUnwrap(script.split(separator: "\n").first { $0.hasPrefix("ALLOWED_TAGS=") })
        let tags = line.dropFirst("ALLOWED_TAGS=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        XCTAssertEqual(Set(tags.split(separator: " ").map(String.init)),
                       Set(SkipReason.allCases.filter(\.isAllowedInStrictMode).map(\.rawValue)))
    }

    // MARK: Documentation

    func testTheDocsLinksAndTheFlagsTheREADMENamesExist() throws {
        guard let python = PythonFinder.python(importing: ["argparse"]) else {
            throw skip(.noPython, "no python3, so tools/check-docs.py did not run")
        }
        let result = try TestProcess.run(python, [Self.root + "/tools/check-docs.py", "--bin", try ConvscopeBinary.path()])
        XCTAssertEqual(result.status, 0, "tools/check-docs.py found broken links or unknown flags:\n" + result.output + result.errors)
        XCTAssertTrue(result.output.contains("0 problem(s)"), result.output)
    }

    // MARK: Shell completions

    func testCompletionScriptsGenerateForBashZshAndFish() throws {
        let binary = try ConvscopeBinary.path()
        for shell in ["bash", "zsh", "fish"] {
            let result = try TestProcess.run(binary, ["--generate-completion-script", shell])
            XCTAssertEqual(result.status, 0, "\(shell): \(result.errors)")
            for command in ["train", "eval", "gradcam", "export", "prune", "quantize", "distill", "bench", "download"] {
                XCTAssertTrue(result.output.contains(command), "the \(shell) script completes \(command)")
            }
            XCTAssertTrue(result.output.contains("recipe"), "the \(shell) script completes --recipe")
            // The shell's own parser reads the script, where the shell is installed (bash always is; zsh and
            // fish are not part of make deps, so without them only the generation above is checked).
            let parser = "/usr/bin/\(shell)"
            guard FileManager.default.isExecutableFile(atPath: parser) else {
                print("note: \(parser) is not installed, so its parser did not read the \(shell) script")
                continue
            }
            let script = folder + "/convscope.\(shell)"
            try result.output.write(toFile: script, atomically: true, encoding: .utf8)
            let parsed = try TestProcess.run(parser, ["-n", script])
            XCTAssertEqual(parsed.status, 0, "\(shell) -n rejects the script: \(parsed.errors)")
        }
    }

    func testTheBashScriptCompletesSubcommandsAndFlags() throws {
        let script = folder + "/convscope.bash"
        let generated = try TestProcess.run(try ConvscopeBinary.path(), ["--generate-completion-script", "bash"])
        try generated.output.write(toFile: script, atomically: true, encoding: .utf8)
        // What bash does on <tab>: fill COMP_* and call the function `complete -F` registered.
        func complete(_ words: [String]) throws -> [String] {
            let line = words.joined(separator: " ")
            let quoted = words.map { "'\($0)'" }.joined(separator: " ")
            let program = """
            source '\(script)'
            COMP_WORDS=(\(quoted)); COMP_CWORD=\(words.count - 1); COMP_LINE='\(line)'; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
            _convscope convscope '\(words.last!)' '\(words[words.count - 2])'
            printf '%s\\n' "${COMPREPLY[@]}"
            """
            let result = try TestProcess.run("/bin/bash", ["-c", program])
            XCTAssertEqual(result.status, 0, result.errors)
            return result.output.split(separator: "\n").map(String.init)
        }
        XCTAssertEqual(try complete(["convscope", "gra"]), ["gradcam"])
        XCTAssertTrue(try complete(["convscope", "train", "--rec"]).contains("--recipe"))
    }
}
