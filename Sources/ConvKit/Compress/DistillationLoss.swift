import Foundation

/// Knowledge distillation (Hinton et al. 2015): the student learns from the teacher's softened class
/// probabilities as well as from the labels.
///
/// `loss = alpha * T^2 * KL(softmax(t / T) || softmax(s / T)) + (1 - alpha) * CE(s, labels)`, averaged
/// over the batch. The `T^2` keeps the soft term's gradient on the same scale as the hard term's as T
/// changes; its gradient is `alpha * T * (softmax(s / T) - softmax(t / T)) / N`.
public struct DistillationLoss: Sendable {
    public var temperature: Float
    public var alpha: Float
    /// The hard-label part (label smoothing applies there).
    public var hard: CrossEntropyLoss

    public init(temperature: Float = 4, alpha: Float = 0.9, hard: CrossEntropyLoss = CrossEntropyLoss()) {
        precondition(temperature > 0 && alpha >= 0 && alpha <= 1)
        self.temperature = temperature
        self.alpha = alpha
        self.hard = hard
    }

    /// Scores the student's `logits` against the teacher's and the labels; writes d(loss)/d(logits)
    /// into `gradient` (same shape as `logits`).
    public func evaluate(logits: Tensor, teacher: Tensor, labels: [Int], gradient: Tensor) -> CrossEntropyLoss.Result {
        let hardResult = hard.evaluate(logits: logits, labels: labels, gradient: gradient)
        let n = logits.batch, k = logits.shape.count, t = temperature
        var softLoss = 0.0
        for i in 0..<n {
            let s = logits.sample(i), q = teacher.sample(i), g = gradient.sample(i)
            let student = softmax((0..<k).map { s[$0] / t }), target = softmax((0..<k).map { q[$0] / t })
            for c in 0..<k {
                if target[c] > 0 { softLoss += Double(target[c]) * Double(log(target[c]) - log(max(student[c], 1e-30))) }
                g[c] = (1 - alpha) * g[c] + alpha * t * (student[c] - target[c]) / Float(n)
            }
        }
        let loss = alpha * t * t * Float(softLoss / Double(max(n, 1))) + (1 - alpha) * hardResult.loss
        return CrossEntropyLoss.Result(loss: loss, correct: hardResult.correct)
    }
}
