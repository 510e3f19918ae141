/// Scores a classifier on an image set, batch by batch, in inference mode: loss (without label
/// smoothing), accuracy, confusion matrix and each image's prediction. Each image's scores are the
/// weighted mean over the `views` of it (test-time augmentation); shifted views mirror the image at its
/// borders when `reflectingBorders` is set (as a run's crops did, `Augmentation.reflectPadding`).
///
/// One evaluator serves the trainer's epochs, `convscope eval`, the compression table and the app; with a
/// `StopSignal` it gives up between batches once the signal is raised.
public struct Evaluator: Sendable {
    public var classes: Int
    public var batchSize: Int
    public var views: TestTimeAugmentation
    public var reflectingBorders: Bool

    public init(classes: Int, batchSize: Int = 128, views: TestTimeAugmentation = .none, reflectingBorders: Bool = false) {
        self.classes = classes
        self.batchSize = batchSize
        self.views = views
        self.reflectingBorders = reflectingBorders
    }

    /// Evaluates `network` on `set` (plain images, batches of 128).
    public static func evaluate(_ network: Network, on set: ImageSet) -> Evaluation {
        Evaluator(classes: network.classCount).evaluate(set) { network.infer($0) }
    }

    /// Evaluates the classifier `forward` (normalised image batches to class scores) on `set`.
    public func evaluate(_ set: ImageSet, _ forward: (Tensor) -> Tensor) -> Evaluation {
        // Without a stop signal nothing gives up, so there is always a result.
        evaluate(set, stoppingWhen: nil, forward) ?? Evaluation(loss: 0, accuracy: 0, confusion: [], predictions: [])
    }

    /// `evaluate(_:_:)` that gives up between batches once `stop` is raised, and then returns nil.
    public func evaluate(_ set: ImageSet, stoppingWhen stop: StopSignal?, _ forward: (Tensor) -> Tensor) -> Evaluation? {
        let averaged = FloatBuffer()
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        var totalLoss = 0.0
        var predictions = [UInt8](repeating: 0, count: set.count)
        let buffer = FloatBuffer()
        var labels: [Int] = []
        let assembler = BatchAssembler(), plain = CrossEntropyLoss()
        var first = 0
        while first < set.count {
            if stop?.isRaised == true { return nil }
            let indices = first..<min(first + batchSize, set.count)
            let logits = averaged.tensor(batch: indices.count, shape: FeatureShape(channels: classes, height: 1, width: 1))
            logits.pointer.update(repeating: 0, count: logits.count)
            for view in views.views {
                let transforms = indices.map { index in
                    var transform = ImageTransform(source: index)
                    (transform.shiftX, transform.shiftY, transform.flip) = (view.shift, view.shift, view.flip)
                    transform.reflects = reflectingBorders
                    return transform
                }
                let scores = forward(assembler.assemble(set, transforms: transforms, into: buffer, labels: &labels))
                precondition(scores.count == logits.count, "a classifier gives \(classes) scores per image")
                for i in 0..<logits.count { logits.pointer[i] += view.weight * scores.pointer[i] }
            }
            totalLoss += Double(plain.evaluate(logits: logits, labels: labels).loss) * Double(indices.count)
            for n in 0..<indices.count {
                let row = logits.sample(n)
                var best = 0
                for c in 1..<classes where row[c] > row[best] { best = c }
                confusion[labels[n]][best] += 1
                predictions[indices.lowerBound + n] = UInt8(best)
            }
            first = indices.upperBound
        }
        let correct = (0..<classes).map { confusion[$0][$0] }.reduce(0, +)
        return Evaluation(
            loss: Float(totalLoss / Double(max(set.count, 1))), accuracy: Float(correct) / Float(max(set.count, 1)),
            confusion: confusion, predictions: predictions)
    }
}
