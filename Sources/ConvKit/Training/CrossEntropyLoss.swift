import Foundation

/// Softmax cross-entropy over class scores, optionally with label smoothing (PyTorch's `cross_entropy`).
///
/// With smoothing `e` over `K` classes the target is `(1 - e) * onehot + e / K`; the loss is the batch
/// mean of `-sum_k target_k * log softmax(logits)_k`, and its gradient `(softmax - target) / N`.
public struct CrossEntropyLoss: Sendable {
    public var labelSmoothing: Float

    public init(labelSmoothing: Float = 0) {
        self.labelSmoothing = labelSmoothing
    }

    /// The outcome of scoring one batch.
    public struct Result: Sendable {
        /// Mean loss over the batch.
        public var loss: Float
        /// How many samples had the right class ranked first.
        public var correct: Int
    }

    /// Scores `logits` against `labels`; when `gradient` is given, writes d(loss)/d(logits) into it.
    @discardableResult
    public func evaluate(logits: Tensor, labels: [Int], gradient: Tensor? = nil) -> Result {
        let n = logits.batch, k = logits.shape.count
        precondition(labels.count >= n, "fewer labels than samples")
        var total = 0.0, correct = 0
        let off = labelSmoothing / Float(k), on = 1 - labelSmoothing + off
        var probabilities = [Float](repeating: 0, count: k)
        for i in 0..<n {
            let row = logits.sample(i)
            var best = 0, largest = row[0]
            for c in 1..<k where row[c] > largest {
                largest = row[c]
                best = c
            }
            if best == labels[i] { correct += 1 }
            var sum: Float = 0
            for c in 0..<k {
                probabilities[c] = exp(row[c] - largest)
                sum += probabilities[c]
            }
            let logSum = log(sum)
            var sampleLoss: Float = 0
            for c in 0..<k {
                let target = c == labels[i] ? on : off
                sampleLoss -= target * (row[c] - largest - logSum)
            }
            total += Double(sampleLoss)
            if let gradient {
                let g = gradient.sample(i)
                for c in 0..<k {
                    let target = c == labels[i] ? on : off
                    g[c] = (probabilities[c] / sum - target) / Float(n)
                }
            }
        }
        return Result(loss: Float(total / Double(max(n, 1))), correct: correct)
    }
}

/// Softmax of one row of class scores.
public func softmax(_ logits: [Float]) -> [Float] {
    guard let largest = logits.max() else { return [] }
    let e = logits.map { exp($0 - largest) }
    let sum = e.reduce(0, +)
    return e.map { $0 / sum }
}
