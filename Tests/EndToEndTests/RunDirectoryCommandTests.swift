import ConvKit
import Foundation
import TestSupport
import XCTest

/// `convscope train --run-dir` as a script uses it: the layout written, a second run refused, the run
/// continued with `--resume`, and the options that do not go with it refused.
final class RunDirectoryCommandTests: XCTestCase {
    private var temporary: TemporaryFolder!
    private var folder: String { temporary.path }

    override func setUpWithError() throws {
        temporary = try TemporaryFolder("rundir")
    }

    override func tearDown() {
        temporary = nil
    }

    func testTrainWritesARunDirectoryAndResumesIt() throws {
        let run = folder + "/run"
        let common = ["--model", "tiny", "--data", "synthetic", "--batch", "64", "--train-limit", "320", "--run-dir", run]
        let first = try Convscope.run(["train", "--epochs", "1"] + common)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stderr.contains("run directory: \(run)"), first.stderr)

        let again = try Convscope.run(["train", "--epochs", "1"] + common)
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.stderr.contains("already holds a run"), again.stderr)

        let resumed = try Convscope.run(["train", "--epochs", "2", "--resume"] + common)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming \(run)/checkpoints/step-000000005.safetensors after epoch 1"), resumed.stderr)

        var reader = try RunDirectory(path: run)
        XCTAssertEqual(reader.poll().issues, [])
        XCTAssertEqual(reader.manifest?.writer, "convscope")
        XCTAssertEqual(reader.manifest?.spec, try ModelSpec("tiny").text)
        XCTAssertEqual(reader.history.history.steps.map(\.step), Array(1...10), "one line per step over both sessions")
        XCTAssertEqual(reader.history.history.epochs.map(\.epoch), [1, 2])
        XCTAssertEqual(reader.checkpoints.map(\.step), [5, 10])
        XCTAssertEqual(reader.checkpoints.map(\.epoch), [1, 2])
        let loaded = try XCTUnwrap(reader.latestCheckpoint).load()
        XCTAssertEqual(loaded.history.epochs.map(\.testAccuracy), reader.history.history.epochs.map(\.testAccuracy),
                       "the metrics file and the checkpoint tell the same story")
    }

    func testOptionsThatDoNotGoWithARunDirectoryAreRefused() throws {
        let both = try Convscope.run(["train", "--data", "synthetic", "--run-dir", folder + "/r", "--checkpoint", folder + "/c.safetensors"])
        XCTAssertEqual(both.status, 2)
        XCTAssertTrue(both.stderr.contains("--run-dir keeps its own checkpoints"), both.stderr)
        let nothing = try Convscope.run(["train", "--data", "synthetic", "--resume", "--run-dir", folder])
        XCTAssertEqual(nothing.status, 1)
        XCTAssertTrue(nothing.stderr.contains("holds no readable checkpoint"), nothing.stderr)
    }
}
