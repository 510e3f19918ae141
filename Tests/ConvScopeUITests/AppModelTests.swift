import ConvKit
import ConvScopeUI
import XCTest

/// Key handling is pure: a key gives a new state and effects, without a terminal or a session.
final class AppModelTests: XCTestCase {
    private let layout = ScreenLayout(width: 80, height: 24)

    private func makeModel(testCount: Int = 20) throws -> AppModel {
        let layers = ModelSummary(try Network("tiny")).rows
        let labels = (0..<testCount).map { UInt8($0 % 10) }
        return AppModel(layers: layers, classNames: Dataset.classNames, testLabels: labels)
    }

    func testSpaceStepAndLearningRateBecomeSessionCommands() throws {
        var model = try makeModel()
        model.runState = .running
        XCTAssertEqual(model.handle(.character(" "), layout: layout), [.togglePause])
        XCTAssertEqual(model.handle(.character("n"), layout: layout), [], "no single step while running")
        XCTAssertEqual(model.status?.text.contains("space"), true)
        model.runState = .paused
        XCTAssertEqual(model.handle(.character("n"), layout: layout), [.step])
        XCTAssertEqual(model.handle(.character("+"), layout: layout), [.scaleLearningRate(1.25)])
        XCTAssertEqual(model.handle(.character("-"), layout: layout), [.scaleLearningRate(0.8)])
        model.runState = .finished
        XCTAssertEqual(model.handle(.character(" "), layout: layout), [])
        XCTAssertEqual(model.handle(.character("n"), layout: layout), [])
    }

    func testExportSaveAndRepaintKeys() throws {
        var model = try makeModel()
        XCTAssertEqual(model.handle(.character("e"), layout: layout), [.export(.heatmap)])
        XCTAssertEqual(model.handle(.character("E"), layout: layout), [.export(.grid)])
        XCTAssertEqual(model.handle(.character("s"), layout: layout), [.save])
        XCTAssertEqual(model.handle(.character("\u{0C}"), layout: layout), [.repaint])
    }

    func testLayerKeysMoveTheSelectionAndTheRequestFollows() throws {
        var model = try makeModel()
        XCTAssertEqual(model.insightRequest.layer, "conv1")
        _ = model.handle(.character("j"), layout: layout)
        _ = model.handle(.down, layout: layout)
        XCTAssertEqual(model.selectedLayer.name, "maxpool1")
        XCTAssertEqual(model.insightRequest.layer, "maxpool1")
        _ = model.handle(.character("k"), layout: layout)
        XCTAssertEqual(model.selectedLayer.name, "relu1")
        _ = model.handle(.character("G"), layout: layout)
        XCTAssertEqual(model.selectedLayer.name, "fc1")
        _ = model.handle(.up, layout: layout)
        XCTAssertEqual(model.selectedLayer.name, "gap1")
    }

    func testImagePickerWrapsAndRandomStaysInTheTestSet() throws {
        var model = try makeModel(testCount: 20)
        _ = model.handle(.left, layout: layout)
        XCTAssertEqual(model.imageIndex, 19)
        _ = model.handle(.right, layout: layout)
        _ = model.handle(.right, layout: layout)
        XCTAssertEqual(model.imageIndex, 1)
        for _ in 0..<50 {
            _ = model.handle(.character("r"), layout: layout)
            XCTAssertTrue((0..<20).contains(model.imageIndex))
        }
        XCTAssertEqual(model.insightRequest.imageIndex, model.imageIndex)
    }

    func testMisclassifiedJumpUsesTheEvaluation() throws {
        var model = try makeModel(testCount: 40)
        _ = model.handle(.character("x"), layout: layout)
        XCTAssertEqual(model.imageIndex, 0)
        XCTAssertEqual(model.status?.text.contains("first epoch"), true)

        let test = SyntheticDataset.generate(seed: 1, trainCount: 0, testCount: 40).test
        let evaluation = Evaluator.evaluate(try Network("tiny"), on: test)
        let wrong = evaluation.misclassified(labels: model.testLabels)
        XCTAssertGreaterThan(wrong.count, 1, "an untrained network gets most wrong")
        model.evaluation = evaluation
        _ = model.handle(.character("x"), layout: layout)
        XCTAssertEqual(model.imageIndex, wrong[0] > 0 ? wrong[0] : wrong[1])
        let first = model.imageIndex
        _ = model.handle(.character("x"), layout: layout)
        XCTAssertGreaterThan(model.imageIndex, first)
    }

    func testClassMethodScopeAndLogScaleCycle() throws {
        var model = try makeModel()
        XCTAssertNil(model.classIndex)
        for expected in 0..<10 {
            _ = model.handle(.character("c"), layout: layout)
            XCTAssertEqual(model.classIndex, expected)
        }
        _ = model.handle(.character("c"), layout: layout)
        XCTAssertNil(model.classIndex, "after the last class: back to the predicted one")
        _ = model.handle(.character("c"), layout: layout)
        _ = model.handle(.character("C"), layout: layout)
        XCTAssertNil(model.classIndex)

        XCTAssertEqual(model.method, .gradCAM)
        var methods: [ActivationMapMethod] = []
        for _ in 0..<9 {
            _ = model.handle(.character("m"), layout: layout)
            methods.append(model.method)
        }
        XCTAssertEqual(methods, [.gradCAMPlusPlus, .layerCAM, .hiResCAM, .xGradCAM, .scoreCAM, .ablationCAM, .eigenCAM, .cam, .gradCAM])
        XCTAssertEqual(model.insightRequest.method, .gradCAM)

        _ = model.handle(.character("v"), layout: layout)
        XCTAssertEqual(model.scaleScope, .layer)
        _ = model.handle(.character("v"), layout: layout)
        XCTAssertEqual(model.scaleScope, .global)
        _ = model.handle(.character("l"), layout: layout)
        XCTAssertTrue(model.logScale)
    }

    func testTabsAndNumberKeysFollowTheLayout() throws {
        var model = try makeModel()
        _ = model.handle(.tab, layout: layout)
        XCTAssertEqual(model.selectedTab, .layers)
        _ = model.handle(.backTab, layout: layout)
        _ = model.handle(.backTab, layout: layout)
        XCTAssertEqual(model.selectedTab, .explain)
        _ = model.handle(.character("4"), layout: layout)
        XCTAssertEqual(model.selectedTab, .gradCAM)
        _ = model.handle(.character("7"), layout: layout)
        XCTAssertEqual(model.selectedTab, .health)
        _ = model.handle(.character("8"), layout: layout)
        XCTAssertEqual(model.selectedTab, .explain)
        // Beside the layer list (100x30) the tabs skip the layer panel.
        let sidebar = ScreenLayout(width: 100, height: 30)
        _ = model.handle(.character("1"), layout: sidebar)
        _ = model.handle(.tab, layout: sidebar)
        XCTAssertEqual(model.selectedTab, .features)
    }

    func testHelpOpensAndAnyKeyClosesIt() throws {
        var model = try makeModel()
        _ = model.handle(.character("?"), layout: layout)
        XCTAssertTrue(model.showsHelp)
        XCTAssertEqual(model.handle(.escape, layout: layout), [])
        XCTAssertFalse(model.showsHelp)
        _ = model.handle(.character("?"), layout: layout)
        XCTAssertEqual(model.handle(.character("e"), layout: layout), [.export(.heatmap)], "other keys close the help and act")
        XCTAssertFalse(model.showsHelp)
    }

    func testQuitAsksOnlyWhenTrainingIsUnsaved() throws {
        var model = try makeModel()
        XCTAssertEqual(model.handle(.character("q"), layout: layout), [.quit])
        XCTAssertEqual(model.handle(.interrupt, layout: layout), [.quit])
        model.runState = .running
        XCTAssertEqual(model.handle(.character("q"), layout: layout), [], "running: steps may be landing, so ask")
        XCTAssertEqual(model.quitPrompt, .asking)
        _ = model.handle(.escape, layout: layout)
        model.runState = .paused

        model.unsavedSteps = 12
        XCTAssertEqual(model.handle(.character("q"), layout: layout), [])
        XCTAssertEqual(model.quitPrompt, .asking)
        XCTAssertEqual(model.handle(.character("j"), layout: layout), [], "other keys wait for an answer")
        XCTAssertEqual(model.selectedLayer.name, "conv1")
        XCTAssertEqual(model.handle(.character("c"), layout: layout), [])
        XCTAssertNil(model.quitPrompt, "c cancels")

        _ = model.handle(.character("q"), layout: layout)
        XCTAssertEqual(model.handle(.character("n"), layout: layout), [.quit], "n quits without saving")
        XCTAssertEqual(model.handle(.interrupt, layout: layout), [.quit])
    }

    func testYesSavesThenQuitsWhenTheSessionConfirms() throws {
        let fixture = try AppFixture(checkpointPath: NSTemporaryDirectory() + "/convscope-quit-\(getpid()).safetensors")
        defer { try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "/convscope-quit-\(getpid()).safetensors") }
        fixture.train(steps: 2)
        var model = fixture.makeModel()
        XCTAssertEqual(model.unsavedSteps, 2)
        _ = model.handle(.character("q"), layout: layout)
        XCTAssertEqual(model.handle(.character("y"), layout: layout), [.saveAndQuit])
        XCTAssertEqual(model.observe(fixture.session.snapshot), [], "nothing new from the session yet")
        fixture.session.pause()
        fixture.session.save()
        var effects: [AppEffect] = []
        fixture.waitFor { effects = model.observe(fixture.session.snapshot); return !effects.isEmpty }
        XCTAssertEqual(effects, [.quit])
        XCTAssertEqual(model.status?.text.hasPrefix("saved checkpoint"), true)
    }

    func testAFailedSaveKeepsTheAppOpenAndSaysWhy() throws {
        let fixture = try AppFixture(checkpointPath: "/dev/null/cannot/save.safetensors")
        fixture.train(steps: 1)
        var model = fixture.makeModel()
        _ = model.handle(.character("q"), layout: layout)
        _ = model.handle(.character("y"), layout: layout)
        fixture.session.save()
        fixture.waitFor { _ = model.observe(fixture.session.snapshot); return model.quitPrompt == nil }
        XCTAssertEqual(model.status?.isError, true)
        XCTAssertEqual(model.status?.text.contains("save failed"), true)
    }

    func testEveryHelpKeyIsHandled() throws {
        // Every single-character key the help lists does something (changes the state or returns
        // an effect); a key the model ignored would be a lie in the help.
        let keys: [Key] = [" ", "n", "+", "-", "1", "j", "k", "r", "x", "c", "C", "m", "v", "l", "h", "H", "L", "e", "E", "s", "?", "q", "[", "]", "\\", "t"]
            .map { .character(Character($0)) } + [.tab, .backTab, .up, .down, .left, .right]
        for key in keys {
            var model = try makeModel()
            model.runState = .paused
            model.unsavedSteps = 1
            model.imageIndex = 5
            model.classIndex = 3
            model.selectedTab = .confusion
            model.layerSelection.select(3)
            let before = String(describing: model)
            let effects = model.handle(key, layout: layout)
            XCTAssertTrue(!effects.isEmpty || String(describing: model) != before, "\(key) did nothing")
        }
    }
}
