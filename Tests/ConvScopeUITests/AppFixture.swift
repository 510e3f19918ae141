import ConvKit
import ConvScopeUI
import Foundation
import XCTest

/// A real training session on a small synthetic set with the tiny model, driven a few steps so that
/// there is history, an evaluation and an insight to render: the UI is tested on the engine's own
/// values, through its public API.
final class AppFixture {
    let session: TrainingSession
    let worker: InsightWorker
    let dataset: Dataset
    let layers: [ModelSummary.Row]

    /// 256 training images in batches of 64 (4 steps an epoch, 2 epochs), 40 test images.
    init(model: String = "tiny", checkpointPath: String = "/nonexistent/unused.safetensors") throws {
        dataset = SyntheticDataset.generate(seed: 3, trainCount: 256, testCount: 40)
        let trainer = try Trainer(config: TrainingConfig(model: model, epochs: 2, batchSize: 64, learningRate: 0.05), dataset: dataset)
        layers = ModelSummary(trainer.network).rows
        session = TrainingSession(trainer: trainer, paused: true, checkpointPath: checkpointPath)
        worker = InsightWorker(session: session, images: dataset.test)
    }

    deinit { session.stop() }

    /// Takes `count` steps and waits until the snapshot shows them.
    func train(steps count: Int, file: StaticString = #filePath, line: UInt = #line) {
        let target = session.snapshot.globalStep + count
        session.step(count)
        waitFor(file: file, line: line) { self.session.snapshot.globalStep >= target && self.session.snapshot.state == .paused }
    }

    func waitFor(timeout: Double = 30, file: StaticString = #filePath, line: UInt = #line, _ condition: () -> Bool) {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            if Date() > deadline { XCTFail("timed out", file: file, line: line); return }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }

    func makeModel() -> AppModel {
        var model = AppModel(layers: layers, classNames: dataset.classNames, testLabels: dataset.test.labels)
        _ = model.observe(session.snapshot)
        return model
    }

    func insight(for model: AppModel) -> Insight { worker.computeNow(model.insightRequest) }
}
