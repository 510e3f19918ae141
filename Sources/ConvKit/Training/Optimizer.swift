import Foundation

/// Updates parameters from their gradients: SGD with momentum (optionally Nesterov), Adam or AdamW,
/// with PyTorch's update rules, or Muon on the convolution filters with SGD on the rest.
///
/// Weight decay applies to conv and fc weights only (`Parameter.decays`), not to biases or batch
/// norm, as in the reference recipe. SGD and Adam add it to the gradient (L2); AdamW decays the
/// weights directly (decoupled, Loshchilov & Hutter 2019). A parameter's `rateScale` multiplies its
/// learning rate and divides its decay coefficient, so its decay per step stays `rate * weightDecay`.
///
/// Muon (Jordan et al. 2024, as in airbench94_muon) steps each convolution's filter bank, seen as an
/// out x (k * k * in) matrix, along its Nesterov momentum (`filterMomentum`) orthogonalised by
/// `Orthogonalizer`, after rescaling the bank to Frobenius norm sqrt(out); with batch norm after
/// every convolution only the filters' directions matter, so the rescaling fixes the effective step
/// and the filters take no weight decay. Every other parameter takes Nesterov SGD with `momentum`.
public final class Optimizer {
    /// Which update rule.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case sgd, adam, adamw, muon
    }

    /// The optimiser's hyper-parameters.
    public struct Settings: Codable, Sendable, Equatable {
        public var kind: Kind
        public var momentum: Float
        public var nesterov: Bool
        public var weightDecay: Float
        public var beta1: Float
        public var beta2: Float
        public var epsilon: Float
        /// Muon: the momentum of the filter updates (airbench94_muon: 0.6); `momentum` is the rest's.
        public var filterMomentum: Float

        public init(
            kind: Kind = .sgd, momentum: Float = 0.9, nesterov: Bool = true, weightDecay: Float = 5e-4,
            beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, filterMomentum: Float = 0.6
        ) {
            self.kind = kind
            self.momentum = momentum
            self.nesterov = nesterov
            self.weightDecay = weightDecay
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
            self.filterMomentum = filterMomentum
        }
    }

    public let settings: Settings
    public let parameters: [Parameter]
    /// Steps taken so far (Adam's bias correction needs it; checkpoints keep it).
    public let steps = Counter()
    /// SGD: the momentum buffer. Adam/AdamW: the first moment.
    private let firstMoments: [FloatBuffer]
    /// Adam/AdamW: the second moment. Muon: the filters' orthogonalised updates (scratch, not state).
    /// Empty where unused.
    private let secondMoments: [FloatBuffer]
    /// Muon: the orthogonaliser of each filter bank (nil for the other parameters).
    private let orthogonalizers: [Orthogonalizer?]

    public init(_ settings: Settings, parameters: [Parameter]) {
        self.settings = settings
        self.parameters = parameters
        firstMoments = parameters.map { FloatBuffer(capacity: $0.count) }
        secondMoments = parameters.map { p in
            switch settings.kind {
            case .sgd: return FloatBuffer()
            case .adam, .adamw: return FloatBuffer(capacity: p.count)
            case .muon: return FloatBuffer(capacity: p.filterCount == nil ? 0 : p.count)
            }
        }
        orthogonalizers = parameters.map { p in
            guard settings.kind == .muon, let filters = p.filterCount else { return nil }
            return Orthogonalizer(rows: filters, columns: p.count / filters)
        }
    }

    /// The optimiser state a checkpoint keeps, under the `optimizer.` prefix.
    public var stateTensors: [StateTensor] {
        var state = [StateTensor(name: "optimizer.step", content: .int64(steps))]
        for (i, p) in parameters.enumerated() {
            let layout = TensorLayout.plain([p.count])
            if settings.kind == .sgd || settings.kind == .muon {
                state.append(StateTensor(name: "optimizer.\(p.name).momentum_buffer", content: .float(firstMoments[i], layout)))
            } else {
                state.append(StateTensor(name: "optimizer.\(p.name).exp_avg", content: .float(firstMoments[i], layout)))
                state.append(StateTensor(name: "optimizer.\(p.name).exp_avg_sq", content: .float(secondMoments[i], layout)))
            }
        }
        return state
    }

    /// One update of every parameter with learning rate `rate` (and, for SGD, `momentum` when the
    /// schedule cycles it).
    public func step(rate: Float, momentum: Float? = nil) {
        steps.value += 1
        let t = Float(steps.value)
        Parallel.forEach(parameters.count) { index in
            let p = parameters[index]
            guard !p.isFrozen else { return }
            let w = p.value.base, g = p.gradient.base, m = firstMoments[index].base, n = p.count
            let rate = rate * p.rateScale
            let decay = p.decays ? settings.weightDecay / p.rateScale : 0
            if let orthogonalizer = orthogonalizers[index] {
                let mu = settings.filterMomentum, update = secondMoments[index].base
                for i in 0..<n {
                    m[i] = mu * m[i] + g[i]
                    update[i] = settings.nesterov ? g[i] + mu * m[i] : m[i]
                }
                orthogonalizer.orthogonalize(update)
                var squares: Float = 0
                for i in 0..<n { squares += w[i] * w[i] }
                let norm = squares.squareRoot()
                let rescale = norm > 0 ? Float(orthogonalizer.rows).squareRoot() / norm : 1
                for i in 0..<n { w[i] = w[i] * rescale - rate * update[i] }
                p.applyMask()
                return
            }
            switch settings.kind {
            case .sgd, .muon:
                let mu = momentum ?? settings.momentum
                for i in 0..<n {
                    let grad = g[i] + decay * w[i]
                    m[i] = mu * m[i] + grad
                    w[i] -= rate * (settings.nesterov ? grad + mu * m[i] : m[i])
                }
            case .adam, .adamw:
                let v = secondMoments[index].base
                let b1 = settings.beta1, b2 = settings.beta2, eps = settings.epsilon
                let correction1 = 1 - pow(b1, t), correction2 = (1 - pow(b2, t)).squareRoot()
                let decoupled = settings.kind == .adamw
                for i in 0..<n {
                    if decoupled { w[i] *= 1 - rate * decay }
                    let grad = decoupled ? g[i] : g[i] + decay * w[i]
                    m[i] = b1 * m[i] + (1 - b1) * grad
                    v[i] = b2 * v[i] + (1 - b2) * grad * grad
                    w[i] -= rate * (m[i] / correction1) / (v[i].squareRoot() / correction2 + eps)
                }
            }
            p.applyMask()
        }
    }
}
