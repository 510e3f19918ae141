import ConvKit
import Foundation
import TestSupport
import XCTest

/// The health timeline end to end: `train` records it into the checkpoint and says what it cost,
/// `health` prints it, and the app shows it live, after a save and when exploring the checkpoint, at
/// 80x24 and 200x60.
final class HealthEndToEndTests: XCTestCase {
    private var temporary: TemporaryFolder!
    private var folder: String { temporary.path }
    private var driver: TmuxDriver?

    override func setUpWithError() throws {
        temporary = try TemporaryFolder("health-e2e")
    }

    override func tearDown() {
        driver?.close()
        temporary = nil
    }

    func testTrainRecordsTheTimelineAndHealthPrintsIt() throws {
        let checkpoint = folder + "/run.safetensors"
        let train = try Convscope.run([
            "train", "--data", "synthetic", "--model", "tiny", "--epochs", "1", "--checkpoint", checkpoint, "--health-every", "4",
        ])
        XCTAssertEqual(train.status, 0, train.stderr)
        XCTAssertTrue(train.stderr.contains("health: "), train.stderr)
        XCTAssertTrue(train.stderr.contains("(every 4 steps)"), train.stderr)

        let table = try Convscope.run(["health", "--checkpoint", checkpoint])
        XCTAssertEqual(table.status, 0, table.stderr)
        for text in ["conv1", "conv3", "fc1", "update/weight", "dead units", "every 4 steps"] {
            XCTAssertTrue(table.stdout.contains(text), "\(text) in:\n\(table.stdout)")
        }
        let json = try Convscope.run(["health", "--checkpoint", checkpoint, "--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["layers"] as? [String], ["conv1", "conv2", "conv3", "fc1"])
        let records = try XCTUnwrap(object["records"] as? [[String: Any]])
        XCTAssertEqual(records.first?["step"] as? Int, 1)
        XCTAssertTrue(records.dropFirst(3).allSatisfy { ($0["step"] as? Int ?? 1) % 4 == 0 }, "steps 1, 2, then every 4")
        let layer = try XCTUnwrap((records.last?["layers"] as? [[String: Any]])?.first)
        let shares = try XCTUnwrap((layer["histograms"] as? [String: Any])?["weights"] as? [Double])
        XCTAssertEqual(shares.reduce(0, +), 1, accuracy: 0.1, "the weight histogram's shares add up to about 1")

        let off = folder + "/off.safetensors"
        let plain = try Convscope.run([
            "train", "--data", "synthetic", "--model", "tiny", "--epochs", "1", "--checkpoint", off, "--health-every", "0",
        ])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertFalse(plain.stderr.contains("health: "))
        let none = try Convscope.run(["health", "--checkpoint", off])
        XCTAssertNotEqual(none.status, 0)
        XCTAssertTrue(none.stderr.contains("has no health timeline"), none.stderr)
        let bad = try Convscope.run(["train", "--data", "synthetic", "--model", "tiny", "--health-every=-1"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--health-every -1"), bad.stderr)
    }

    func testTheAppShowsTheTimelineLiveAndFromTheCheckpointAtEverySize() throws {
        try TmuxDriver.requireTmux()
        let binary = try TmuxDriver.binary()
        let tmux = try TmuxDriver(width: 80, height: 24)
        driver = tmux
        try tmux.type("cd \(folder) && \(binary) --data synthetic --model tiny --epochs 30 --checkpoint run.safetensors; echo EXIT=$?")
        try tmux.waitFor(text: "RUNNING")
        try tmux.press("7")
        try tmux.waitFor(text: "Health (h H, j/k layer)")
        // A strip per layer fills in as training goes on.
        try tmux.waitFor("heat strips for every layer", timeout: 60) { screen in
            ["conv1", "conv2", "conv3", "fc1"].allSatisfy { name in screen.contains { $0.contains(name) && $0.contains("████") } }
        }
        try tmux.press("h")
        try tmux.waitFor(text: "h update/weight")
        try tmux.press("j", "j", "j")
        try tmux.waitFor(text: "conv2 at step")
        try tmux.press("Space")
        try tmux.waitFor(text: "PAUSED")
        try tmux.press("s")
        try tmux.waitFor(text: "saved checkpoint")
        try tmux.resize(width: 200, height: 60)
        try tmux.waitFor(text: "7 Health")
        let wide = try tmux.waitFor("the timeline at 200x60") { screen in
            screen.contains { $0.contains("conv2 at step") } && screen.contains { $0.contains("Grad-CAM") }
        }
        XCTAssertTrue(wide.contains { $0.contains("update/weight |x|") || $0.contains("gradients |x| over steps") })
        try tmux.press("q")
        try tmux.waitFor(text: "EXIT=0")

        // Exploring the checkpoint: the timeline is there before any step.
        try tmux.resize(width: 80, height: 24)
        try tmux.type("clear; \(binary) --data synthetic --model tiny --epochs 30 --checkpoint run.safetensors; echo EXIT=$?")
        try tmux.waitFor(text: "PAUSED")
        try tmux.press("7")
        let explored = try tmux.waitFor("the saved strips") { screen in
            ["conv1", "fc1"].allSatisfy { name in screen.contains { $0.contains(name) && $0.contains("████") } }
        }
        XCTAssertTrue(explored.contains { $0.contains("records, every") }, explored.joined(separator: "\n"))
        XCTAssertLessThanOrEqual(explored.map(\.count).max() ?? 0, 80)
        try tmux.press("q")
        try tmux.waitFor(text: "EXIT=0")
    }
}
