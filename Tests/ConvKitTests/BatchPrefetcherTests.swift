import Foundation
import XCTest
import ConvKit

/// The trainer assembles the next batch on a second queue while a step runs (`BatchPrefetcher`). These
/// tests check that what a step gets is exactly the batch it asked for, prefetched or not.
final class BatchPrefetcherTests: XCTestCase {
    private let set = SyntheticDataset.generate(seed: 11, trainCount: 300, testCount: 10).train

    /// Crops and flips chosen at random for images `indices`.
    private func transforms(_ indices: Range<Int>, seed: UInt64) -> [ImageTransform] {
        var random = RandomSource(seed: seed)
        return indices.map { index in
            var transform = ImageTransform(source: index)
            (transform.shiftX, transform.shiftY) = (random.below(9) - 4, random.below(9) - 4)
            transform.flip = random.uniform() < 0.5
            return transform
        }
    }

    /// The batch `transforms` give when assembled directly, on all cores.
    private func direct(_ transforms: [ImageTransform]) -> (values: [Float], labels: [Int]) {
        var labels: [Int] = []
        let tensor = BatchAssembler().assemble(set, transforms: transforms, into: FloatBuffer(), labels: &labels)
        return (tensor.array, labels)
    }

    private func key(_ step: Int) -> BatchPrefetcher.Key {
        BatchPrefetcher.Key(epoch: 0, stepInEpoch: step, globalStep: step)
    }

    func testPrefetchedBatchesAreTheBatchesAskedFor() {
        let prefetcher = BatchPrefetcher()
        let steps = (0..<5).map { transforms(($0 * 40)..<($0 * 40 + 40), seed: UInt64($0)) }
        var asked: [Int] = []
        for step in steps.indices {
            let batch = prefetcher.batch(key(step), of: set) {
                asked.append(step)
                return steps[step]
            }
            let expected = direct(steps[step])
            // Read before the next prefetch starts, then again after it: the step's batch must not change
            // while the next one is being filled.
            XCTAssertEqual(batch.images.array, expected.values, "step \(step)")
            XCTAssertEqual(batch.labels, expected.labels, "step \(step)")
            if step + 1 < steps.count { prefetcher.prefetch(key(step + 1), of: set, transforms: steps[step + 1]) }
            XCTAssertEqual(batch.images.array, expected.values, "step \(step) while the next batch is prefetched")
        }
        XCTAssertEqual(asked, [0], "only the first batch is assembled on the spot; the others were prefetched")
    }

    /// A run that jumps (a divergence going back, a resumed position) asks for a batch other than the
    /// prefetched one: it gets its own images, not the prefetched ones.
    func testABatchOtherThanThePrefetchedOneIsAssembledFromItsOwnTransforms() {
        let prefetcher = BatchPrefetcher()
        let first = transforms(0..<32, seed: 1), prefetched = transforms(32..<64, seed: 2), wanted = transforms(64..<96, seed: 3)
        _ = prefetcher.batch(key(0), of: set) { first }
        prefetcher.prefetch(key(1), of: set, transforms: prefetched)
        var assembled = false
        let batch = prefetcher.batch(BatchPrefetcher.Key(epoch: 0, stepInEpoch: 1, globalStep: 7), of: set) {
            assembled = true
            return wanted
        }
        XCTAssertTrue(assembled)
        XCTAssertEqual(batch.images.array, direct(wanted).values)
        XCTAssertEqual(batch.labels, direct(wanted).labels)
        // The stale prefetch is dropped: asking again for its key assembles it.
        var again = false
        let stale = prefetcher.batch(key(1), of: set) {
            again = true
            return prefetched
        }
        XCTAssertTrue(again)
        XCTAssertEqual(stale.images.array, direct(prefetched).values)
    }

    /// The trainer's batches come from the prefetcher: a run gives the same steps, weights and epochs as
    /// a run whose every batch is assembled on the spot.
    func testTrainingWithPrefetchEqualsTrainingWithout() throws {
        let dataset = SyntheticDataset.generate(seed: 4, trainCount: 320, testCount: 64)
        let config = TrainingConfig(
            model: "conv8,bn,relu,maxpool,conv8,relu,gap,fc10", epochs: 2, batchSize: 32, augmentation: .strong, seed: 5)
        func run(prefetching: Bool) throws -> Trainer {
            let trainer = try Trainer(config: config, dataset: dataset)
            trainer.prefetchesBatches = prefetching
            while !trainer.isFinished { trainer.step() }
            return trainer
        }
        let prefetched = try run(prefetching: true), onTheSpot = try run(prefetching: false)
        XCTAssertEqual(prefetched.history.steps.map(\.loss), onTheSpot.history.steps.map(\.loss))
        XCTAssertEqual(prefetched.history.epochs.map(\.testLoss), onTheSpot.history.epochs.map(\.testLoss))
        XCTAssertEqual(prefetched.network.parameters.map { Array($0.values) }, onTheSpot.network.parameters.map { Array($0.values) })
    }
}
