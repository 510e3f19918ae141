import ConvKit
import ConvRender
import Foundation
import TestSupport
import XCTest

/// Feature visualisation by optimisation end to end: `convscope visualize` on a small trained checkpoint.
final class VisualizeEndToEndTests: XCTestCase {
    private var temporary: TemporaryFolder!
    private var folder: String { temporary.path }
    private var driver: TmuxDriver?

    override func setUpWithError() throws {
        temporary = try TemporaryFolder("visualize")
    }

    override func tearDown() {
        driver?.close()
        driver = nil
        temporary = nil
    }

    private func path(_ name: String) -> String { temporary.path(name) }

    private func trainedCheckpoint() throws -> String {
        let checkpoint = path("tiny.safetensors")
        let run = try Convscope.run([
            "train", "--model", "tiny", "--data", "synthetic", "--epochs", "1", "--batch", "64", "--train-limit", "640",
            "--checkpoint", checkpoint,
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        return checkpoint
    }

    func testOneChannelAGridAClassAndTheSameSeedGivesTheSameFile() throws {
        let checkpoint = try trainedCheckpoint()
        let one = path("one.png")
        let single = try Convscope.run([
            "visualize", "--checkpoint", checkpoint, "--layer", "relu2", "--channel", "5", "--seed", "3", "--steps", "40", "--out", one, "--json",
        ])
        XCTAssertEqual(single.status, 0, single.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(single.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["layer"] as? String, "relu2")
        let entry = try XCTUnwrap((object["objectives"] as? [[String: Any]])?.first)
        XCTAssertEqual(entry["channel"] as? Int, 5)
        let end = try XCTUnwrap((entry["values"] as? [Double])?.first), start = try XCTUnwrap((entry["start_values"] as? [Double])?.first)
        XCTAssertGreaterThan(end, start, "the ascent raises the channel")
        let picture = try PNG.read(contentsOf: one)
        XCTAssertGreaterThanOrEqual(picture.width, 96)

        // The same seed writes the same bytes; another seed another picture.
        let again = path("again.png"), other = path("other.png")
        for (file, seed) in [(again, "3"), (other, "4")] {
            let run = try Convscope.run([
                "visualize", "--checkpoint", checkpoint, "--layer", "relu2", "--channel", "5", "--seed", seed, "--steps", "40", "--out", file,
            ])
            XCTAssertEqual(run.status, 0, run.stderr)
            XCTAssertTrue(run.stdout.contains("wrote \(file)"), run.stdout)
        }
        XCTAssertEqual(FileManager.default.contents(atPath: one), FileManager.default.contents(atPath: again))
        XCTAssertNotEqual(FileManager.default.contents(atPath: one), FileManager.default.contents(atPath: other))

        // Every channel of conv1 (16) as a grid, and three diverse images of one class.
        let grid = path("grid.png")
        let all = try Convscope.run([
            "visualize", "--checkpoint", checkpoint, "--layer", "conv1", "--all-channels", "--steps", "10", "--tile", "32", "--out", grid,
        ])
        XCTAssertEqual(all.status, 0, all.stderr)
        XCTAssertTrue(all.stdout.contains("16 images"), all.stdout)
        XCTAssertGreaterThan(try PNG.read(contentsOf: grid).width, 4 * 32)
        let logit = try Convscope.run([
            "visualize", "--checkpoint", checkpoint, "--class", "3", "--images", "3", "--steps", "20", "--json",
        ])
        XCTAssertEqual(logit.status, 0, logit.stderr)
        let logitObject = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(logit.stdout.utf8)) as? [String: Any])
        let logitEntry = try XCTUnwrap((logitObject["objectives"] as? [[String: Any]])?.first)
        XCTAssertEqual(logitEntry["class"] as? Int, 3)
        XCTAssertEqual((logitEntry["values"] as? [Double])?.count, 3)
    }

    func testBadRequestsGetOneLineErrorsAndWriteNothing() throws {
        let checkpoint = try trainedCheckpoint()
        let out = path("never.png")
        let cases: [([String], String)] = [
            (["--layer", "conv9", "--channel", "0"], "no layer named 'conv9'"),
            (["--layer", "conv1", "--channel", "16"], "channel 16 is out of range: layer 'conv1' has 16 channels"),
            (["--class", "12"], "--class 12 is out of range"),
            (["--class", "3", "--layer", "conv1"], "leave out --layer"),
            (["--layer", "conv1"], "give one of --channel K, --all-channels or --class C"),
            (["--layer", "conv1", "--channel", "0", "--steps", "0"], "steps must be between 1 and 100000"),
        ]
        for (arguments, message) in cases {
            let run = try Convscope.run(["visualize", "--checkpoint", checkpoint, "--out", out] + arguments)
            XCTAssertNotEqual(run.status, 0, arguments.joined(separator: " "))
            // The reason comes first, on one line (usage errors then print the usage).
            XCTAssertTrue(run.stderr.split(separator: "\n").first?.contains(message) == true, "\(arguments): \(run.stderr)")
        }
        let missing = try Convscope.run(["visualize", "--checkpoint", path("none.safetensors"), "--class", "1", "--out", out])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("none.safetensors"), missing.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    /// The app at 80x24: o on the features view fills in the selected layer's grid with progress while
    /// training runs, a layer change starts the next layer's grid, and E exports it.
    func testTheAppFillsTheGridInAndExportsIt() throws {
        try TmuxDriver.requireTmux()
        let binary = try TmuxDriver.binary()
        let tmux = try TmuxDriver(width: 80, height: 24)
        driver = tmux
        try tmux.type("\(binary) --data synthetic --model tiny --epochs 30 --batch 32 --export-dir exports --checkpoint run.safetensors; echo EXIT=$?")
        try tmux.waitFor(text: "RUNNING")
        try tmux.press("3")
        try tmux.waitFor(text: "Features: conv1")
        try tmux.press("o")
        let busy = try tmux.waitFor("the grid's progress") { $0.contains { $0.contains("optimising: ") } || $0.contains { $0.contains("done in") } }
        XCTAssertTrue(busy.contains { $0.contains("Synthesised inputs: conv1") }, busy.joined(separator: "\n"))
        XCTAssertTrue(busy.allSatisfy { $0.count <= 80 })
        // The next layer (relu1) starts its own grid.
        try tmux.press("j")
        try tmux.waitFor(text: "relu1: inputs that maximise each of 16 channels")
        let done = try tmux.waitFor("relu1's grid to finish", timeout: 120) { $0.contains { $0.contains("done in") } }
        XCTAssertGreaterThan(done.joined().filter { $0 == "▀" }.count, 16 * 4, done.joined(separator: "\n"))
        XCTAssertTrue(done.contains { $0.contains("RUNNING") }, "training goes on meanwhile")
        try tmux.press("E")
        let exported = try tmux.waitFor(text: "exported exports/visualize-relu1-seed0-step")
        let status = try XCTUnwrap(exported.last { $0.contains("exported ") })
        let name = try XCTUnwrap(status.range(of: #"visualize-\S+\.png"#, options: .regularExpression).map { String(status[$0]) })
        XCTAssertGreaterThan(try PNG.read(contentsOf: tmux.folder + "/exports/" + name).width, 4 * 64)
        // o goes back to the feature maps.
        try tmux.press("o")
        try tmux.waitFor(text: "Features: relu1")
        try tmux.press("q")
        try tmux.waitFor("the quit dialog") { $0.contains { $0.contains("save first?") } }
        try tmux.press("n")
        try tmux.waitFor(text: "EXIT=0")
    }
}
