/// What a run has measured so far: a point per training step and a record per epoch.
public struct TrainingHistory: Sendable, Equatable {
    /// One optimiser step.
    public struct Step: Sendable, Equatable {
        public var step: Int
        public var loss: Float
        public var accuracy: Float
        public var learningRate: Float
    }

    /// One finished epoch, with the test-set evaluation that followed it.
    public struct Epoch: Sendable, Equatable {
        public var epoch: Int
        public var trainLoss: Float
        public var trainAccuracy: Float
        public var testLoss: Float
        public var testAccuracy: Float
        public var learningRate: Float
        /// Wall time of the training part of the epoch, and the total since the run started.
        public var seconds: Double
        public var elapsedSeconds: Double
        public var imagesPerSecond: Double
    }

    public var steps: [Step] = []
    public var epochs: [Epoch] = []

    public init() {}
}

/// Accuracy and loss of a network on a set of images, with the confusion matrix.
public struct Evaluation: Sendable, Equatable {
    public var loss: Float
    public var accuracy: Float
    /// `confusion[truth][predicted]` counts.
    public var confusion: [[Int]]
    /// The predicted class of every image, in set order.
    public var predictions: [UInt8]

    public init(loss: Float, accuracy: Float, confusion: [[Int]], predictions: [UInt8]) {
        (self.loss, self.accuracy, self.confusion, self.predictions) = (loss, accuracy, confusion, predictions)
    }

    /// Images whose prediction differs from `labels`, in set order.
    public func misclassified(labels: [UInt8]) -> [Int] {
        zip(predictions, labels).enumerated().compactMap { $0.element.0 == $0.element.1 ? nil : $0.offset }
    }

    /// Fraction of each class's images that were classified correctly.
    public var perClassAccuracy: [Float] {
        confusion.enumerated().map { label, row in
            let total = row.reduce(0, +)
            return total == 0 ? 0 : Float(row[label]) / Float(total)
        }
    }
}
