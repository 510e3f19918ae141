/// How conv and fc weights are drawn before training. Biases start at zero (except where PyTorch's default
/// draws them: fc layers under `he`, every layer under `torch`), batch norm at weight 1 and bias 0.
public enum Initializer: Sendable, Equatable, CustomStringConvertible {
    /// He (Kaiming) normal, std = sqrt(2 / fan_in), for convolutions: keeps activation variance steady
    /// through ReLUs. Fully connected layers keep PyTorch's default instead (weight and bias uniform in
    /// ±1/sqrt(fan_in)), as torchvision's ResNets and the reference recipe do: a classifier layer feeds
    /// no ReLU, and He's larger scale there makes the first logits needlessly big.
    case he
    /// Xavier (Glorot) uniform, bound = sqrt(6 / (fan_in + fan_out)): for tanh and sigmoid nets.
    case xavier
    /// Plain normal with the given standard deviation.
    case normal(std: Float)
    /// PyTorch's default for every conv and fc layer: weights and biases uniform in ±1/sqrt(fan_in)
    /// (`kaiming_uniform_` with a = sqrt 5), a sixth of He's variance. airbench starts from it: its
    /// identity-initialised convolutions then keep a random part that is small beside the identity.
    case torch

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
        case .torch: return "torch"
        }
    }

    /// Draws fresh weights for every conv and fc layer of `network` from `random`.
    public func initialize(_ network: Network, random: inout RandomSource) {
        let linear = network.layers.compactMap { $0 as? Linear }
        let linearWeights = Set(linear.map(\.weight.name))
        for parameter in network.parameters {
            let values = parameter.values
            guard parameter.isWeight else { continue }  // biases and batch norm keep their defaults
            let (fanIn, fanOut) = Initializer.fans(parameter.layout)
            switch self {
            case .he where linearWeights.contains(parameter.name), .torch:
                continue  // drawn below, with their biases
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
        let defaults: [(weight: Parameter, bias: Parameter?)]
        switch self {
        case .he: defaults = linear.map { ($0.weight, $0.bias) }
        case .torch:
            defaults = network.allLayers.compactMap { layer in
                if let conv = layer as? Conv2d { return (conv.weight, conv.bias) }
                return (layer as? Linear).map { ($0.weight, $0.bias) }
            }
        default: defaults = []
        }
        for (weight, bias) in defaults {
            let bound = 1 / Float(Initializer.fans(weight.layout).0).squareRoot()
            for p in [weight, bias].compactMap({ $0 }) {
                for i in 0..<p.count { p.value.base[i] = random.uniform(-bound, bound) }
            }
        }
    }

    /// Makes each convolution of `network` pass its first min(in, out) input channels straight through:
    /// filter o becomes 1 at the kernel centre of input channel o and 0 elsewhere; the other filters
    /// keep their weights (PyTorch's `dirac_` on the first filters, as airbench starts its convolutions).
    /// Each block then starts close to an identity, an implicit residual connection.
    public static func setIdentity(_ network: Network) {
        for conv in network.allLayers.compactMap({ $0 as? Conv2d }) {
            let k = conv.geometry.kernel, inC = conv.inputShape.channels, perFilter = k * k * inC
            let centre = (k / 2) * k + k / 2
            let w = conv.weight.value.base
            for o in 0..<min(inC, conv.outputShape.channels) {
                (w + o * perFilter).update(repeating: 0, count: perFilter)
                w[o * perFilter + centre * inC + o] = 1
            }
        }
    }

    /// Scales `parameter`'s values so that their standard deviation is `std` (airbench's classifier: a
    /// default draw rescaled).
    public static func rescale(_ parameter: Parameter, toStandardDeviation std: Float) {
        let values = parameter.values, n = Float(values.count)
        let mean = values.reduce(0, +) / n
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n
        guard variance > 0 else { return }
        let factor = std / variance.squareRoot()
        for i in values.indices { values[i] *= factor }
    }

    /// Fan-in and fan-out as PyTorch computes them: for conv weights [O, I, K, K],
    /// fan_in = I*K*K and fan_out = O*K*K; for linear [O, I], I and O.
    static func fans(_ layout: TensorLayout) -> (Int, Int) {
        let shape = layout.torchShape
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }
}

/// Kept as its text (`description`, read back by `init?(parsing:)`), as the command line writes it.
extension Initializer: Codable {
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let initializer = Initializer(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an initializer: '\(text)'"))
        }
        self = initializer
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension Initializer {
    /// Parses `he`, `xavier`, `torch`, `normal` (std 0.01) or `normal(0.05)` / `normal:0.05`.
    public init?(parsing text: String) {
        let lower = text.lowercased()
        switch lower {
        case "he", "kaiming": self = .he
        case "xavier", "glorot": self = .xavier
        case "torch", "pytorch": self = .torch
        case "normal": self = .normal(std: 0.01)
        default:
            // `description` writes large and small values as `normal(1e+30)`, `normal(1e-05)`.
            let digits = lower.drop { !$0.isNumber && $0 != "." && $0 != "-" }.prefix { $0.isNumber || ".e-+".contains($0) }
            guard lower.hasPrefix("normal"), let std = Float(String(digits)), std > 0, std.isFinite else { return nil }
            self = .normal(std: std)
        }
    }
}
