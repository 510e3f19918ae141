import ConvKit
import Foundation
import XCTest

/// The app off the happy path: a run that diverges, a checkpoint with NaN weights.
final class TUIReliabilityTests: XCTestCase {
    private var driver: TmuxDriver?
    private var binary = ""

    override func setUpWithError() throws {
        try TmuxDriver.requireTmux()
        binary = try TmuxDriver.binary()
    }

    override func tearDown() {
        driver?.close()
        driver = nil
    }

    /// The global step in the header's `total N/M`.
    private func totalSteps(_ screen: [String]) -> Int? {
        guard let line = screen.first(where: { $0.contains("total ") }), let range = line.range(of: #"total (\d+)/"#, options: .regularExpression)
        else { return nil }
        return Int(line[range].dropFirst(6).dropLast())
    }

    /// At a rate of 1000 tiny diverges within a few steps: the app pauses as DIVERGED with the message in
    /// the status line, back at the start (the last good state), the views still work, and after lowering
    /// the rate (42 presses of -, down to the 1e-4 floor of the scale) space resumes training.
    func testADivergingRunPausesAsDivergedAndResumesAtALowerRate() throws {
        let tmux = try TmuxDriver(width: 200, height: 50)
        driver = tmux
        try tmux.type("\(binary) --data synthetic --model tiny --lr 1000 --checkpoint run.safetensors; echo EXIT=$?")
        let diverged = try tmux.waitFor(text: "DIVERGED")
        XCTAssertTrue(diverged[0].hasSuffix(" DIVERGED"), diverged[0])
        let status = try tmux.waitFor(text: "diverged at epoch 1, step ")
        let line = try XCTUnwrap(status.last { $0.contains("diverged at epoch 1") })
        XCTAssertTrue(line.contains("(lr "), line)
        XCTAssertTrue(line.contains("back to the start of epoch 1: press - to lower the rate, space to resume"), line)
        let stoppedAt = try XCTUnwrap(totalSteps(status))
        XCTAssertEqual(stoppedAt, 0, "back at the start")

        // Every view still draws, from the last good weights.
        try tmux.press("3")
        try tmux.waitFor(text: "Features: conv1")
        try tmux.press("4")
        try tmux.waitFor(text: "Grad-CAM at")
        Thread.sleep(forTimeInterval: 0.5)
        XCTAssertEqual(totalSteps(try tmux.screen()), stoppedAt, "no steps while diverged")

        try tmux.press(contentsOf: [String](repeating: "-", count: 42))
        try tmux.waitFor(text: "(x0.0001)")
        try tmux.press("Space")
        try tmux.waitFor(text: "RUNNING")
        try tmux.waitFor("training to go on past the divergence") { (self.totalSteps($0) ?? 0) > stoppedAt + 10 }

        try tmux.press("q")
        try tmux.waitFor(text: "save first?")
        try tmux.press("n")
        try tmux.waitFor(text: "EXIT=0", timeout: 30)
    }

    func testTheAppRefusesACheckpointWithNaNWeights() throws {
        let tmux = try TmuxDriver(width: 160, height: 30)
        driver = tmux
        let network = try Network("tiny")
        var file = RunCheckpoint.safeTensors(network: network, metadata: [RunCheckpoint.datasetKey: "SYNTHETIC"])
        let index = try XCTUnwrap(file.tensors.firstIndex { $0.name == "fc1.bias" })
        var values = try XCTUnwrap(file.tensors[index].floats)
        values[2] = .infinity
        file.tensors[index] = SafeTensors.Entry(name: "fc1.bias", shape: [10], floats: values)
        try file.write(to: tmux.folder + "/bad.safetensors")
        try tmux.type("\(binary) --data synthetic --checkpoint bad.safetensors; echo EXIT=$?")
        let screen = try tmux.waitFor(text: "EXIT=1")
        XCTAssertTrue(
            screen.contains { $0.contains("convscope: error: checkpoint 'bad.safetensors': tensor 'fc1.bias' holds inf") },
            screen.joined(separator: "\n"))
        XCTAssertFalse(try tmux.alternateScreenIsOn())
    }
}
