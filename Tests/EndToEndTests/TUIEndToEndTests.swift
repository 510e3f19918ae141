import ConvKit
import ConvRender
import Foundation
import XCTest

/// The real `convscope` binary driven inside tmux on the synthetic set: panels, training steps,
/// layer selection, pause / single step / resume, export, resizing, quitting, Ctrl-C, and that the
/// terminal is given back in the state it was found.
final class TUIEndToEndTests: XCTestCase {
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

    private func start(width: Int = 100, height: Int = 30, environment: [String: String?] = [:]) throws -> TmuxDriver {
        let started = try TmuxDriver(width: width, height: height, environment: environment)
        driver = started
        return started
    }

    /// The command line that records the tty mode, runs the app, prints its exit status and records
    /// the tty mode again.
    private func launch(_ arguments: String, in tmux: TmuxDriver) throws {
        try tmux.type("stty -a > before.txt; \(binary) \(arguments); echo EXIT=$?; stty -a > after.txt")
    }

    /// The global step in the header's `total N/M`.
    private func totalSteps(_ screen: [String]) -> Int? {
        guard let line = screen.first(where: { $0.contains("total ") }), let range = line.range(of: #"total (\d+)/"#, options: .regularExpression)
        else { return nil }
        return Int(line[range].dropFirst(6).dropLast())
    }

    private func assertTerminalRestored(_ tmux: TmuxDriver, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertFalse(try tmux.alternateScreenIsOn(), "the alternate screen is off", file: file, line: line)
        try tmux.waitFor("the shell's prompt", file: file, line: line) { $0.last { !$0.isEmpty } == TmuxDriver.prompt }
        let before = try String(contentsOfFile: tmux.folder + "/before.txt", encoding: .utf8)
        let after = try String(contentsOfFile: tmux.folder + "/after.txt", encoding: .utf8)
        XCTAssertFalse(before.isEmpty)
        XCTAssertEqual(before, after, "stty -a is unchanged", file: file, line: line)
    }

    func testTrainPauseStepExportResizeAndQuit() throws {
        let tmux = try start()
        try launch("--data synthetic --model tiny --epochs 20 --export-dir exports --checkpoint run.safetensors", in: tmux)
        let first = try tmux.waitFor(text: "SYNTHETIC DATA (not CIFAR-10)")
        XCTAssertTrue(try tmux.alternateScreenIsOn())
        try tmux.waitFor(text: "Layers (j/k)")
        try tmux.waitFor(text: "Curves")
        XCTAssertTrue(first[0].contains("model tiny"), first[0])

        // The step counter advances while training runs.
        let early = try XCTUnwrap(totalSteps(try tmux.waitFor("a step count") { self.totalSteps($0) != nil }))
        try tmux.waitFor("the step counter to advance") { (self.totalSteps($0) ?? 0) > early + 3 }

        // Layers: j/k move the selection; the detail and the features view follow it.
        try tmux.press("3")
        try tmux.waitFor(text: "Features: conv1")
        try tmux.press("j", "j")
        try tmux.waitFor(text: "Features: maxpool1")
        try tmux.waitFor(text: "maxpool1: 16 maps of 16x16")
        try tmux.waitFor(text: "┃ maxpool1: 16x32x32 ->")
        try tmux.press("k")
        try tmux.waitFor(text: "Features: relu1")

        // Pause stops the counter; n takes exactly one step; space resumes.
        try tmux.press("Space")
        try tmux.waitFor(text: "PAUSED")
        Thread.sleep(forTimeInterval: 0.3)  // the paused frame in full, not half-written
        let stopped = try XCTUnwrap(totalSteps(try tmux.screen()))
        Thread.sleep(forTimeInterval: 0.6)
        XCTAssertEqual(totalSteps(try tmux.screen()), stopped, "no steps while paused")
        try tmux.press("n")
        try tmux.waitFor("one step") { self.totalSteps($0) == stopped + 1 }
        Thread.sleep(forTimeInterval: 0.6)
        XCTAssertEqual(totalSteps(try tmux.screen()), stopped + 1, "n takes exactly one step")
        try tmux.press("Space")
        try tmux.waitFor(text: "RUNNING")
        try tmux.waitFor("training to go on") { (self.totalSteps($0) ?? 0) > stopped + 2 }

        // e exports the heatmap and says where.
        try tmux.press("4")
        try tmux.waitFor(text: "Grad-CAM at relu1")
        try tmux.press("e")
        let exported = try tmux.waitFor(text: "exported exports/gradcam-relu1-")
        let status = try XCTUnwrap(exported.last { $0.contains("exported ") })
        let name = try XCTUnwrap(status.range(of: #"gradcam-\S+\.png"#, options: .regularExpression).map { String(status[$0]) })
        let image = try PNG.read(contentsOf: tmux.folder + "/exports/" + name)
        XCTAssertEqual(image.width, 800)
        XCTAssertGreaterThan(image.height, 256)

        // Resizing re-lays the screen out: everything at 200x60, tabs at 80x24, a message when tiny.
        try tmux.resize(width: 200, height: 60)
        // (Each wait covers the whole screen: tmux shows a frame while its bytes are still arriving.)
        let large = try tmux.waitFor("all panels") { screen in
            ["Layers (j/k)", "Curves", "Grad-CAM at", "Features:", "Confusion"].allSatisfy { title in screen.contains { $0.contains(title) } }
                && screen.count >= 60 && screen[59].contains("? help  q quit")
        }
        XCTAssertFalse(large.contains { $0.contains("1 Curves│") }, "no tab bar at 200x60")
        XCTAssertTrue(large[0].hasPrefix(" ConvScope"), large[0])
        XCTAssertTrue(large.allSatisfy { $0.count <= 200 })
        try tmux.resize(width: 80, height: 24)
        try tmux.waitFor("the tabbed layout") { screen in
            screen.contains { $0.contains("1 Curves│2 Layers│3 Features│4 Grad-CAM│5 Confusi…│6 Compres…│7 Health│8 Explain") }
                && screen.count >= 24 && screen[23].contains("? help  q quit")
        }
        try tmux.resize(width: 50, height: 15)
        try tmux.waitFor(text: "Terminal too small: 50x15")
        try tmux.resize(width: 100, height: 30)
        try tmux.waitFor(text: "Layers (j/k)")

        // q asks about the unsaved training; y saves, then the app exits 0 and gives the terminal back.
        try tmux.press("q")
        try tmux.waitFor(text: "save first?")
        try tmux.press("y")
        try tmux.waitFor(text: "EXIT=0", timeout: 30)
        XCTAssertTrue(FileManager.default.fileExists(atPath: tmux.folder + "/run.safetensors"), "y saved the checkpoint")
        try assertTerminalRestored(tmux)
    }

    func testCompressionViewMeasuresAPrunedCopyAndWritesIt() throws {
        let tmux = try start()
        try launch("--data synthetic --model tiny --epochs 20 --export-dir exports --checkpoint run.safetensors", in: tmux)
        try tmux.waitFor(text: "Layers (j/k)")
        try tmux.press("p")
        try tmux.waitFor(text: "p works in the compression view: press 6 first")
        try tmux.press("6")
        try tmux.waitFor(text: "Compression (p P i w)")
        try tmux.waitFor(text: "zero weights per layer: current weights")

        // p measures a 30% pruned copy next to the model as trained; training goes on meanwhile.
        try tmux.press("p")
        let measured = try tmux.waitFor("the pruned row's numbers", timeout: 60) { screen in
            screen.contains { $0.range(of: #"pruned 30% +\d+ +[\d,]+ +[\d,]+ .*%"#, options: .regularExpression) != nil }
        }
        XCTAssertTrue(measured.contains { $0.range(of: #"float32 +\d+ +[\d,]+ +[\d,]+ .*%"#, options: .regularExpression) != nil })
        try tmux.waitFor(text: "zero weights per layer: pruned 30%")
        let bars = try tmux.screen().filter { $0.range(of: #"conv\d +[\d,]+ .* (29|30)\.\d%"#, options: .regularExpression) != nil }
        XCTAssertEqual(bars.count, 3, "one bar per conv layer at 30%")

        // w writes the pruned model as a checkpoint that eval-style loading accepts, masks included.
        try tmux.press("w")
        let written = try tmux.waitFor(text: "wrote exports/compressed-pruned30-step")
        let status = try XCTUnwrap(written.last { $0.contains("wrote ") })
        let name = try XCTUnwrap(status.range(of: #"compressed-\S+\.safetensors"#, options: .regularExpression).map { String(status[$0]) })
        let loaded = try RunCheckpoint.load(tmux.folder + "/exports/" + name)
        let weights = loaded.network.parameters.filter(\.isWeight)
        let zeros = weights.map { $0.values.filter { $0 == 0 }.count }.reduce(0, +)
        XCTAssertEqual(Double(zeros) / Double(weights.map(\.count).reduce(0, +)), 0.3, accuracy: 0.01)

        try tmux.press("q")
        try tmux.waitFor("the quit prompt or the end") { $0.contains { $0.contains("save first?") || $0.contains("EXIT=") } }
        if try tmux.screen().contains(where: { $0.contains("save first?") }) { try tmux.press("n") }
        try tmux.waitFor(text: "EXIT=0", timeout: 30)
        try assertTerminalRestored(tmux)
    }

    func testExplainViewFillsInFollowsTheSelectionAndExports() throws {
        let tmux = try start(width: 80, height: 24)
        try launch("--data synthetic --model tiny --epochs 20 --export-dir exports --checkpoint run.safetensors", in: tmux)
        try tmux.waitFor(text: "RUNNING")
        try tmux.press("8")
        try tmux.waitFor(text: "Explain at conv1")
        // The maps and their scores fill in, then the baselines'; training goes on meanwhile.
        let progress = { (screen: [String]) -> String? in
            screen.count > 1 ? screen[1].range(of: #"epoch \d+/\d+ +│ +step \d+/"#, options: .regularExpression).map { String(screen[1][$0]) } : nil
        }
        let before = try XCTUnwrap(progress(try tmux.screen()), "the header shows epoch and step")
        let done = try tmux.waitFor(text: "done · e exports the board", timeout: 60)
        XCTAssertTrue(done.contains { $0.contains("image #0 · ") && $0.contains("CAM, gradient-weighted (M)") })
        for title in ["Grad-CAM", "XGrad-CAM", "sobel (baseline)"] {
            let row = try XCTUnwrap(done.first { $0.contains("│ \(title) ") }, title)
            XCTAssertNotNil(row.range(of: #"\d\.\d{3} +\d\.\d{3}"#, options: .regularExpression), row)
        }
        XCTAssertTrue(done.contains { $0.contains("true: ") && $0.contains("HiResCAM") })
        try tmux.waitFor("training to go on") { progress($0).map { $0 != before } ?? false }

        // The sanity curve of the selected method (m: Grad-CAM++) beside the scores: every layer
        // randomised from the classifier down to conv1, with Spearman and SSIM.
        try tmux.press("m")
        try tmux.waitFor(text: "▸Grad-CAM++")
        let curve = try tmux.waitFor("the sanity curve down to conv1", timeout: 60) { screen in
            screen.contains { $0.contains("cascade") && $0.contains("SSIM") }
                && screen.contains { $0.range(of: #"conv1 +-?\d\.\d\d +-?\d\.\d\d"#, options: .regularExpression) != nil }
        }
        XCTAssertTrue(curve.contains { $0.range(of: #"fc\w* +-?\d\.\d\d +-?\d\.\d\d"#, options: .regularExpression) != nil }, curve.joined(separator: "\n"))

        // R: the same curve with each layer randomised alone, named in the panel's title and the table's header.
        try tmux.press("R")
        try tmux.waitFor(text: "R sanity: independent")
        let alone = try tmux.waitFor("the independent curve down to conv1", timeout: 60) { screen in
            screen.contains { $0.contains("alone") && $0.contains("SSIM") }
                && screen.contains { $0.range(of: #"conv1 +-?\d\.\d\d +-?\d\.\d\d"#, options: .regularExpression) != nil }
        }
        XCTAssertFalse(alone.contains { $0.contains("cascade ") }, alone.joined(separator: "\n"))

        // The pixel-gradient group (SmoothGrad and Integrated Gradients are slow), then a new image:
        // the board starts again for it and never shows the old image's numbers as its own.
        try tmux.press("M", "M")
        try tmux.waitFor(text: "pixel gradients (M)")
        try tmux.press("Right")
        try tmux.waitFor(text: "image #1 · ")
        let second = try tmux.waitFor("the new image's board", timeout: 60) { screen in
            screen.contains { $0.contains("image #1 · ") } && screen.contains { $0.contains("done · e exports the board") }
        }
        let integrated = try XCTUnwrap(second.first { $0.contains("│ Integrated Gradients ") })
        XCTAssertNotNil(integrated.range(of: #"\d\.\d{3}"#, options: .regularExpression), integrated)
        // Its sanity curve (saliency, still independent) follows the board.
        try tmux.waitFor("the new image's curve", timeout: 60) { screen in
            screen.contains { $0.contains("alone") }
                && screen.contains { $0.range(of: #"conv1 +-?\d\.\d\d +-?\d\.\d\d"#, options: .regularExpression) != nil }
        }

        // e exports what is shown, the finished sanity curve as a chart under the maps.
        try tmux.press("e")
        let exported = try tmux.waitFor(text: "exported exports/explain-pixelGradients-conv1-img1-step")
        let status = try XCTUnwrap(exported.last { $0.contains("exported ") })
        let name = try XCTUnwrap(status.range(of: #"explain-\S+\.png"#, options: .regularExpression).map { String(status[$0]) })
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: tmux.folder + "/exports/" + name))
        XCTAssertEqual(Array(bytes.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "a PNG")
        let picture = try PNG.read(contentsOf: tmux.folder + "/exports/" + name)
        let chartRows = (picture.height - SanityChart.standardHeight)..<picture.height
        let pixels = chartRows.flatMap { y in (0..<picture.width).map { picture[$0, y] } }
        XCTAssertGreaterThan(pixels.filter { $0 == SanityChart.ssimColor }.count, 50, "the SSIM curve under the maps")
        XCTAssertGreaterThan(pixels.filter { $0 == SanityChart.spearmanColor }.count, 50, "the Spearman curve")
        XCTAssertEqual(pixels.filter { $0 == SanityChart.noteColor }.count, 0, "complete: no note")

        try tmux.press("q")
        try tmux.waitFor("the quit prompt or the end") { $0.contains { $0.contains("save first?") || $0.contains("EXIT=") } }
        if try tmux.screen().contains(where: { $0.contains("save first?") }) { try tmux.press("n") }
        try tmux.waitFor(text: "EXIT=0", timeout: 30)
        try assertTerminalRestored(tmux)
    }

    /// Paused, the app draws unprompted only once a second: a resize must be drawn at the new size at
    /// once, not by that tick (it was: the frame after a resize used the size read before it).
    func testAResizeWhilePausedIsDrawnAtOnce() throws {
        let tmux = try start()
        try launch("--data synthetic --model tiny --epochs 20 --checkpoint run.safetensors", in: tmux)
        try tmux.waitFor(text: "RUNNING")
        try tmux.press("Space")
        try tmux.waitFor(text: "PAUSED")
        var fastest = Double.infinity
        // (Back at the start's size at the end: stty -a, compared below, records it.)
        for (width, height) in [(120, 40), (100, 30), (120, 40), (100, 30), (120, 40), (100, 30)] {
            let start = Date()
            try tmux.resize(width: width, height: height)
            try tmux.waitFor("a frame at \(width)x\(height)") { screen in
                screen.count >= height && screen[height - 1].hasSuffix("? help  q quit") && screen[height - 1].count == width - 1
            }
            fastest = min(fastest, Date().timeIntervalSince(start))
        }
        // The fastest of six, so a busy machine does not fail it; the idle tick would take 1 s every time.
        XCTAssertLessThan(fastest, 0.6, "seconds from a resize to a frame at the new size, while paused")
        try tmux.press("q")
        try tmux.waitFor(text: "save first?")
        try tmux.press("n")
        try tmux.waitFor(text: "EXIT=0")
        try assertTerminalRestored(tmux)
    }

    /// tmux sends Home and End as ESC [1~ and ESC [4~ although TERM=xterm-256color's terminfo says
    /// ESC O H and ESC O F: they must select the first and last layer, not arrive as Escape, '[', '1'
    /// (the curves tab) and '~'.
    func testHomeAndEndSelectTheFirstAndLastLayerAsTmuxSendsThem() throws {
        let tmux = try start()
        try launch("--data synthetic --model tiny --epochs 20 --checkpoint run.safetensors", in: tmux)
        try tmux.waitFor(text: "Layers (j/k)")
        try tmux.press("3", "j", "j")
        try tmux.waitFor(text: "Features: maxpool1")
        try tmux.press("End")
        try tmux.waitFor(text: "Features: fc1")
        try tmux.press("Home")
        try tmux.waitFor(text: "Features: conv1")
        try tmux.press("C-c")
        try tmux.waitFor(text: "EXIT=130")
        try assertTerminalRestored(tmux)
    }

    func testCtrlCMidTrainingRestoresTheTerminal() throws {
        let tmux = try start()
        try launch("--data synthetic --model tiny", in: tmux)
        try tmux.waitFor(text: "RUNNING")
        try tmux.waitFor("training steps") { (self.totalSteps($0) ?? 0) > 2 }
        try tmux.press("C-c")
        let screen = try tmux.waitFor(text: "EXIT=130")
        XCTAssertTrue(screen.contains { $0.contains("convscope: stopped by signal 2") })
        try assertTerminalRestored(tmux)
    }

    /// An SSH session that drops closes the app's terminal. The app must end cleanly, as SIGHUP says (129), even
    /// when SIGHUP is ignored (`nohup`, or the shell here): it notices the dead terminal on its next key read
    /// instead of spinning on it, and it does not trap on the goodbye it can no longer write to standard error
    /// (it did, with SIGILL, until `printError` stopped trapping on a failed write).
    func testTheAppEndsCleanlyWhenItsTerminalHangsUpEvenWithSIGHUPIgnored() throws {
        let tmux = try start()
        let folder = NSTemporaryDirectory() + "convscope-gone-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let checkpoint = folder + "/gone.safetensors", status = folder + "/status.txt"
        // A shell of its own (not the pane's interactive one) outlives the terminal to write the status down.
        try tmux.type("sh -c 'trap \"\" HUP; \(binary) --data synthetic --model tiny --checkpoint \(checkpoint); echo $? > \(status)'")
        try tmux.waitFor("training steps") { (self.totalSteps($0) ?? 0) > 2 }
        XCTAssertEqual(try TmuxDriver.run(["tmux", "-L", tmux.socket, "kill-server"]).status, 0)
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: status) && Date() < deadline { usleep(100_000) }
        usleep(200_000)
        let code = try XCTUnwrap(try? String(contentsOfFile: status, encoding: .utf8), "the app outlived its terminal by 30 s")
        XCTAssertEqual(code.trimmingCharacters(in: .whitespacesAndNewlines), "129",
                       "exit status 128 + SIGHUP, not a trap (132 is SIGILL)")
        let left = try TmuxDriver.run(["pgrep", "-f", "^\(binary) --data synthetic --model tiny --checkpoint \(checkpoint)"])
        XCTAssertEqual(left.output.trimmingCharacters(in: .whitespacesAndNewlines), "", "no app left running")
    }

    /// At a rate of 1000 tiny diverges within a few steps: the app pauses as DIVERGED with the message in
    /// the status line, back at the start (the last good state), the views still work, and after lowering
    /// the rate (42 presses of -, down to the 1e-4 floor of the scale) space resumes training.
    func testADivergingRunPausesAsDivergedAndResumesAtALowerRate() throws {
        let tmux = try start(width: 200, height: 50)
        try launch("--data synthetic --model tiny --lr 1000 --checkpoint run.safetensors", in: tmux)
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
        try assertTerminalRestored(tmux)
    }

    func testTheAppRefusesACheckpointWithNaNWeights() throws {
        let tmux = try start(width: 160, height: 30)
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

    /// A save that cannot be written (its folder does not exist) says why in the status line; the app goes on.
    func testAFailedSaveIsShownAndTheAppGoesOn() throws {
        let tmux = try start(width: 200, height: 50)
        try launch("--data synthetic --model tiny --checkpoint missing/run.safetensors", in: tmux)
        try tmux.waitFor(text: "RUNNING")
        try tmux.press("s")
        try tmux.waitFor(
            text: "save failed: cannot write 'missing/run.safetensors': cannot create a temporary file in 'missing': No such file or directory")
        let before = try XCTUnwrap(totalSteps(try tmux.screen()))
        try tmux.waitFor("training to go on") { (self.totalSteps($0) ?? 0) > before + 3 }
        try tmux.press("3")
        try tmux.waitFor(text: "Features: conv1")
        try tmux.press("q")
        try tmux.waitFor(text: "save first?")
        try tmux.press("n")
        try tmux.waitFor(text: "EXIT=0", timeout: 30)
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmux.folder + "/missing"))
        try assertTerminalRestored(tmux)
    }

    func testWithoutDataTheSetupScreenOffersTheSyntheticSet() throws {
        let tmux = try start(environment: ["CONVSCOPE_DATA": nil])
        try launch("--model tiny --epochs 1", in: tmux)
        try tmux.waitFor(text: "CIFAR-10 was not found")
        try tmux.waitFor(text: "d  download CIFAR-10 now")
        try tmux.press("s")
        try tmux.waitFor(text: "SYNTHETIC DATA (not CIFAR-10)")
        try tmux.waitFor(text: "RUNNING")
        try tmux.press("q")
        try tmux.waitFor(text: "save first?")
        try tmux.press("n")
        try tmux.waitFor(text: "EXIT=0")
        try assertTerminalRestored(tmux)
    }

    func testWithoutATerminalItPointsToTrain() throws {
        let result = try TmuxDriver.run([binary, "--data", "synthetic"])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.output, "convscope: the TUI needs a terminal; use `convscope train` for headless runs\n")
    }
}
