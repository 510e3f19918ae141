import ConvKit
import Foundation
import TestSupport
import XCTest

/// The app's A/B view (`convscope --checkpoint A --compare B`) in tmux, at 80x24.
final class CompareViewEndToEndTests: XCTestCase {
    private var temporary: TemporaryFolder!
    private var folder: String { temporary.path }
    private var driver: TmuxDriver?

    override func setUpWithError() throws {
        temporary = try TemporaryFolder("compare-e2e")
    }

    override func tearDown() {
        driver?.close()
        temporary = nil
    }

    func testTheAppComparesTwoCheckpointsAt80x24() throws {
        try TmuxDriver.requireTmux()
        let binary = try TmuxDriver.binary()
        let (a, b) = try trainedAndPrunedCheckpoints(in: folder)
        let tmux = try TmuxDriver(width: 80, height: 24)
        driver = tmux
        try tmux.type("\(binary) --data synthetic --checkpoint \(a) --compare \(b); echo EXIT=$?")
        let weights = try tmux.waitFor("the weights page") { screen in
            screen.contains { $0.contains("A/B: a.safetensors vs b.safetensors") } && screen.contains { $0.contains("conv3") && $0.contains("█") }
        }
        XCTAssertTrue(weights.contains { $0.contains("accuracy A ") && $0.contains("points") }, weights.joined(separator: "\n"))
        XCTAssertLessThanOrEqual(weights.map(\.count).max() ?? 0, 80)
        try tmux.press("Tab")
        try tmux.waitFor(text: "checkerboard")
        try tmux.press("Right")
        let gallery = try tmux.waitFor("the flip gallery with both maps") { screen in
            screen.contains { $0.contains("flip 1 of") } && screen.contains { $0.contains("B − A") && $0.contains("A: ") && $0.contains("B: ") }
                && screen.contains { $0.contains("Grad-CAM at") }
        }
        XCTAssertGreaterThan(gallery.filter { $0.contains("▀▀▀▀") }.count, 4, gallery.joined(separator: "\n"))
        try tmux.press("Right")
        try tmux.waitFor(text: "flip 2 of")
        try tmux.press("j")
        try tmux.waitFor(text: "Grad-CAM at relu1")
        try tmux.press("D")
        try tmux.waitFor("the usual views") { screen in !screen.contains { $0.contains("A/B:") } }
        try tmux.press("q")
        try tmux.waitFor(text: "EXIT=0")

        // B that cannot be compared: one line before the terminal is taken over.
        try tmux.type("clear; \(binary) --data synthetic --checkpoint \(a) --compare \(folder)/absent.safetensors; echo EXIT=$?")
        let refused = try tmux.waitFor(text: "EXIT=1")
        XCTAssertTrue(refused.contains { $0.contains("absent.safetensors") }, refused.joined(separator: "\n"))
    }
}
