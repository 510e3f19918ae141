/// How conv and fc weights are drawn before training. Biases start at zero, batch norm at weight 1
/// and bias 0.
public enum Initializer: Sendable, Equatable, CustomStringConvertible {
    /// He (Kaiming) normal, std = sqrt(2 / fan_in): keeps activation variance steady through ReLUs.
    case he
    /// Xavier (Glorot) uniform, bound = sqrt(6 / (fan_in + fan_out)): for tanh and sigmoid nets.
    case xavier
    /// Plain normal with the given standard deviation.
    case normal(std: Float)

    /// He for nets with ReLU-like activations (the usual case), Xavier for pure tanh/sigmoid nets.
    public static func automatic(for spec: ModelSpec) -> Initializer {
        let kinds = Set(spec.tokens.map(\.operation.kind))
        let squashing: Set<LayerKind> = [.sigmoid, .tanh]
        let rectifying = kinds.filter(\.isActivation).subtracting(squashing)
        return !rectifying.isEmpty || kinds.contains(.res) || kinds.intersection(squashing).isEmpty ? .he : .xavier
    }

    public var description: String {
        switch self {
        case .he: return "he"
        case .xavier: return "xavier"
        case .normal(let std): return "normal(\(std))"
        }
    }

    /// Draws fresh weights for every conv and fc layer of `network` from `random`.
    public func initialize(_ network: Network, random: inout RandomSource) {
        for parameter in network.parameters {
            let values = parameter.values
            guard parameter.decays else { continue }  // biases and batch norm keep their defaults
            let (fanIn, fanOut) = Initializer.fans(parameter.layout)
            switch self {
            case .he:
                let std = (2 / Float(fanIn)).squareRoot()
                for i in values.indices { values[i] = random.normal() * std }
            case .xavier:
                let bound = (6 / Float(fanIn + fanOut)).squareRoot()
                for i in values.indices { values[i] = random.uniform(-bound, bound) }
            case .normal(let std):
                for i in values.indices { values[i] = random.normal() * std }
            }
        }
    }

    /// Fan-in and fan-out as PyTorch computes them: for conv weights [O, I, K, K],
    /// fan_in = I*K*K and fan_out = O*K*K; for linear [O, I], I and O.
    static func fans(_ layout: TensorLayout) -> (Int, Int) {
        let shape = layout.torchShape
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }
}
