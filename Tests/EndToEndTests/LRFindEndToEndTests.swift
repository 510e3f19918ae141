import Foundation
import XCTest

/// `convscope lr-find` end to end on the synthetic set, and the app's `L` overlay.
final class LRFindEndToEndTests: XCTestCase {
    private var driver: TmuxDriver?

    override func tearDown() {
        driver?.close()
        driver = nil
    }

    func testTheCurveAndTheSuggestionAsJSONAndText() throws {
        let json = try Convscope.run([
            "lr-find", "--data", "synthetic", "--model", "tiny", "--batch", "32", "--start", "1e-5", "--end", "1e4", "--steps", "60", "--json",
        ])
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let points = try XCTUnwrap(object["points"] as? [[String: Any]])
        XCTAssertGreaterThan(points.count, 5)
        let rates = points.compactMap { $0["lr"] as? Double }
        XCTAssertEqual(rates, rates.sorted())
        XCTAssertEqual(rates.first ?? 0, 1e-5, accuracy: 1e-9)
        XCTAssertEqual(object["stopped_early"] as? Bool, true, "rates up to 1e4 blow the loss up")
        let suggested = try XCTUnwrap(object["suggested_lr"] as? Double)
        XCTAssertGreaterThan(suggested, 1e-6)
        XCTAssertLessThan(suggested, rates.last!)

        let text = try Convscope.run(["lr-find", "--data", "synthetic", "--model", "tiny", "--batch", "32", "--end", "1e4", "--steps", "40"])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("suggested learning rate"), text.stdout)
        XCTAssertTrue(text.stdout.contains("loss vs log10(learning rate)"), text.stdout)

        let bad = try Convscope.run(["lr-find", "--data", "synthetic", "--model", "tiny", "--start", "1", "--end", "0.1"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--end 0.1"), bad.stderr)
    }

    func testTheAppRunsItOnACopyAndAppliesTheSuggestion() throws {
        try TmuxDriver.requireTmux()
        let binary = try TmuxDriver.binary()
        let tmux = try TmuxDriver(width: 80, height: 24)
        driver = tmux
        try tmux.type("\(binary) --data synthetic --model tiny --epochs 30 --batch 32 --checkpoint run.safetensors; echo EXIT=$?")
        try tmux.waitFor(text: "RUNNING")
        try tmux.press("Space")
        try tmux.waitFor(text: "PAUSED")
        try tmux.press("L")
        try tmux.waitFor(text: "Learning-rate range test")
        let done = try tmux.waitFor("the test to end", timeout: 120) { screen in
            screen.contains { $0.contains("suggested learning rate") || $0.contains("no minimum") }
        }
        XCTAssertTrue(done.contains { $0.contains("PAUSED") }, "the session stays paused: the test ran on a copy")
        if done.contains(where: { $0.contains("suggested learning rate") }) {
            try tmux.press("a")
            // The header shows the factor on the schedule (the status line says so, then the session confirms).
            try tmux.waitFor("the header's scale") { $0.contains { $0.contains("lr ") && $0.contains("(x") } }
        } else {
            try tmux.press("Escape")
        }
        try tmux.press("q")
        try tmux.waitFor("the quit dialog or the shell") { $0.contains { $0.contains("save first?") || $0.contains("EXIT=") } }
        try tmux.press("n")
        try tmux.waitFor(text: "EXIT=0")
    }
}
