import Foundation

/// What changed between two models A and B of the same task: each conv and fc layer's weights, the
/// accuracy (overall and per class) of both on a test set, and the test images whose prediction flips.
///
/// Any two models the engine loads compare: a checkpoint and a later one of the same run, a pruned copy
/// (magnitude pruning keeps the shapes; filter pruning changes them), an int8 copy (compared with batch norm
/// folded in, `LayerWeights`), or a distilled student of another architecture, whose layers do not match
/// and which therefore compares by its predictions only. The two must classify into the same classes and
/// share at least one layer name.
///
/// Values only: `convscope diff` and the app word them.
public struct CheckpointComparison: Sendable, Equatable {
    /// How the weights were read.
    public enum WeightBasis: String, Sendable, Equatable {
        /// As stored (two float models).
        case stored
        /// With each conv's batch norm folded in, int8 weights dequantised (one side or both are int8).
        case foldedBatchNorm = "folded-batch-norm"
    }

    /// The weight change of one conv or fc layer.
    public struct LayerChange: Sendable, Equatable {
        /// Why a layer has no change figures.
        public enum Gap: String, Sendable, Equatable {
            /// Both have the layer, with different shapes (filter pruning, another architecture).
            case shapesDiffer = "shapes differ"
            /// Only A has a layer of that name.
            case onlyInA = "only in A"
            /// Only B has it.
            case onlyInB = "only in B"
            /// A's weights are all zero, so a change relative to them means nothing.
            case zeroInA = "A's weights are all zero"
        }

        /// The layer's name (`conv1`, `res2.conv1`, `fc`).
        public var layer: String
        /// PyTorch shapes, nil where the model lacks the layer.
        public var shapeA: [Int]?
        public var shapeB: [Int]?
        /// ||B - A|| / ||A|| (Euclidean norms over the whole tensor); nil when not compared.
        public var relativeChange: Double?
        /// (A . B) / (||A|| ||B||); nil when not compared or either side is all zero.
        public var cosine: Double?
        /// The share of exactly-zero weights of each side (pruning shows here).
        public var zeroShareA: Double?
        public var zeroShareB: Double?
        /// Why the change figures are missing, if they are.
        public var gap: Gap?
    }

    /// One model's score on the compared images.
    public struct Score: Sendable, Equatable {
        /// Images classified correctly, over all and per true class.
        public var correct: Int
        public var correctPerClass: [Int]
        /// Images per true class.
        public var imagesPerClass: [Int]

        public var images: Int { imagesPerClass.reduce(0, +) }
        public var accuracy: Double { Double(correct) / Double(max(images, 1)) }
        /// Per class; 0 for a class with no images.
        public var perClassAccuracy: [Double] {
            zip(correctPerClass, imagesPerClass).map { $1 == 0 ? 0 : Double($0) / Double($1) }
        }
    }

    /// A test image that A and B classify differently.
    public struct Flip: Sendable, Equatable {
        public enum Direction: String, Sendable, Equatable {
            /// A was right, B is wrong.
            case broken = "right-to-wrong"
            /// A was wrong, B is right.
            case fixed = "wrong-to-right"
            /// Both wrong, with different answers.
            case changed = "wrong-to-other-wrong"
        }

        /// The image's index in the test set.
        public var index: Int
        public var label: Int
        public var predictionA: Int
        public var predictionB: Int
        /// Softmax probability of each model's own prediction.
        public var confidenceA: Float
        public var confidenceB: Float

        public var direction: Direction {
            if predictionA == label { return .broken }
            return predictionB == label ? .fixed : .changed
        }
    }

    /// Every conv and fc layer of A, in order, then those only B has.
    public var layers: [LayerChange]
    public var basis: WeightBasis
    public var scoreA: Score
    public var scoreB: Score
    /// The images whose prediction differs, in set order.
    public var flips: [Flip]

    /// Images compared.
    public var images: Int { scoreA.images }
    /// Whether any layer's weights were compared (false for an unrelated architecture).
    public var comparedWeights: Bool { layers.contains { $0.relativeChange != nil } }
    /// Flips in one direction.
    public func count(_ direction: Flip.Direction) -> Int { flips.filter { $0.direction == direction }.count }
}

/// Why two models cannot be compared; the front end names the files.
public enum CheckpointComparisonError: Error, Equatable, CustomStringConvertible {
    /// Their predictions are over different class sets.
    case classCountsDiffer(a: Int, b: Int)
    /// No conv or fc layer name appears in both.
    case noSharedLayer(a: [String], b: [String])
    /// The test set's labels go beyond the models' classes.
    case labelsOutOfRange(classes: Int)

    public var description: String {
        switch self {
        case let .classCountsDiffer(a, b):
            return "A predicts \(a) classes and B \(b): their predictions cannot be compared"
        case let .noSharedLayer(a, b):
            return "A and B share no layer (A: \(a.joined(separator: ",")); B: \(b.joined(separator: ","))): they are not versions of one model"
        case .labelsOutOfRange(let classes):
            return "the test set has labels beyond the models' \(classes) classes"
        }
    }
}

extension CheckpointComparison {
    /// Compares the weights of `a` and `b`, then scores both on `set`. Returns nil when `stop` was raised
    /// (between batches). Throws `CheckpointComparisonError` when the two cannot be compared.
    public static func compare(
        _ a: Classifier, _ b: Classifier, on set: ImageSet, batchSize: Int = 128, stoppingWhen stop: StopSignal? = nil
    ) throws -> CheckpointComparison? {
        let (layers, basis) = try compareWeights(a, b)
        guard let (scoreA, scoreB, flips) = try comparePredictions(a, b, on: set, batchSize: batchSize, stoppingWhen: stop) else {
            return nil
        }
        return CheckpointComparison(layers: layers, basis: basis, scoreA: scoreA, scoreB: scoreB, flips: flips)
    }

    /// The per-layer weight change of B against A.
    public static func compareWeights(_ a: Classifier, _ b: Classifier) throws -> (layers: [LayerChange], basis: WeightBasis) {
        guard a.classCount == b.classCount else { throw CheckpointComparisonError.classCountsDiffer(a: a.classCount, b: b.classCount) }
        let basis: WeightBasis
        switch (a, b) {
        case (.float, .float): basis = .stored
        default: basis = .foldedBatchNorm
        }
        let folded = basis == .foldedBatchNorm
        let weightsA = LayerWeights.of(a, folded: folded), weightsB = LayerWeights.of(b, folded: folded)
        let namesB = Set(weightsB.map(\.layer))
        guard weightsA.contains(where: { namesB.contains($0.layer) }) else {
            throw CheckpointComparisonError.noSharedLayer(a: weightsA.map(\.layer), b: weightsB.map(\.layer))
        }
        let byName = Dictionary(weightsB.map { ($0.layer, $0) }, uniquingKeysWith: { first, _ in first })
        var layers = weightsA.map { wa -> LayerChange in
            var change = LayerChange(layer: wa.layer, shapeA: wa.shape, zeroShareA: zeroShare(wa.values))
            guard let wb = byName[wa.layer] else {
                change.gap = .onlyInA
                return change
            }
            change.shapeB = wb.shape
            change.zeroShareB = zeroShare(wb.values)
            guard wa.shape == wb.shape else {
                change.gap = .shapesDiffer
                return change
            }
            let (normA, normB, normDifference, dot) = sums(wa.values, wb.values)
            if normA == 0 {
                if normB == 0 { change.relativeChange = 0 } else { change.gap = .zeroInA }
            } else {
                change.relativeChange = normDifference / normA
            }
            if normA > 0 && normB > 0 { change.cosine = min(1, max(-1, dot / (normA * normB))) }
            return change
        }
        let namesA = Set(weightsA.map(\.layer))
        for wb in weightsB where !namesA.contains(wb.layer) {
            layers.append(LayerChange(layer: wb.layer, shapeB: wb.shape, zeroShareB: zeroShare(wb.values), gap: .onlyInB))
        }
        return (layers, basis)
    }

    /// Both models' scores on `set` and the images whose prediction differs; nil when `stop` was raised.
    public static func comparePredictions(
        _ a: Classifier, _ b: Classifier, on set: ImageSet, batchSize: Int = 128, stoppingWhen stop: StopSignal? = nil
    ) throws -> (a: Score, b: Score, flips: [Flip])? {
        let classes = a.classCount
        guard classes == b.classCount else { throw CheckpointComparisonError.classCountsDiffer(a: classes, b: b.classCount) }
        guard set.labels.allSatisfy({ Int($0) < classes }) else { throw CheckpointComparisonError.labelsOutOfRange(classes: classes) }
        let empty = [Int](repeating: 0, count: classes)
        var scoreA = Score(correct: 0, correctPerClass: empty, imagesPerClass: empty), scoreB = scoreA
        var flips: [Flip] = []
        let assembler = BatchAssembler(), buffer = FloatBuffer()
        var labels: [Int] = []
        var first = 0
        while first < set.count {
            if stop?.isRaised == true { return nil }
            let indices = first..<min(first + batchSize, set.count)
            let batch = assembler.assemble(set, transforms: indices.map { ImageTransform(source: $0) }, into: buffer, labels: &labels)
            // Read each model's answers before running the other: a network's output tensor is its own buffer,
            // reused by its next call.
            let answersA = answers(a.logits(batch), count: indices.count, classes: classes)
            let answersB = answers(b.logits(batch), count: indices.count, classes: classes)
            for n in 0..<indices.count {
                let label = labels[n]
                let (pa, ca) = answersA[n], (pb, cb) = answersB[n]
                scoreA.imagesPerClass[label] += 1
                scoreB.imagesPerClass[label] += 1
                if pa == label { scoreA.correct += 1; scoreA.correctPerClass[label] += 1 }
                if pb == label { scoreB.correct += 1; scoreB.correctPerClass[label] += 1 }
                if pa != pb {
                    flips.append(Flip(index: indices.lowerBound + n, label: label, predictionA: pa, predictionB: pb, confidenceA: ca, confidenceB: cb))
                }
            }
            first = indices.upperBound
        }
        return (scoreA, scoreB, flips)
    }

    /// Each image's top class and its softmax probability.
    private static func answers(_ logits: Tensor, count: Int, classes: Int) -> [(Int, Float)] {
        precondition(logits.count == count * classes, "a classifier gives \(classes) scores per image")
        return (0..<count).map { n in
            let row = logits.sample(n)
            var best = 0
            for c in 1..<classes where row[c] > row[best] { best = c }
            var total: Float = 0
            for c in 0..<classes { total += expf(row[c] - row[best]) }
            return (best, 1 / total)
        }
    }

    private static func zeroShare(_ values: [Float]) -> Double {
        Double(values.filter { $0 == 0 }.count) / Double(max(values.count, 1))
    }

    /// ||A||, ||B||, ||B - A|| and A . B, accumulated in double.
    private static func sums(_ a: [Float], _ b: [Float]) -> (Double, Double, Double, Double) {
        var aa = 0.0, bb = 0.0, dd = 0.0, ab = 0.0
        for i in a.indices {
            let x = Double(a[i]), y = Double(b[i])
            aa += x * x
            bb += y * y
            dd += (y - x) * (y - x)
            ab += x * y
        }
        return (aa.squareRoot(), bb.squareRoot(), dd.squareRoot(), ab)
    }
}
