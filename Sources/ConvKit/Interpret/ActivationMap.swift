/// The class-activation methods: where in the image the evidence for a class lies.
public enum ActivationMapMethod: String, Sendable, CaseIterable, CustomStringConvertible {
    /// CAM (Zhou et al. 2016): `M_c = sum_k w_k^c A_k` at the feature map that feeds `gap`, with the
    /// weights of the `fc` after it. Needs a `gap` + `fc` head.
    case cam
    /// Grad-CAM (Selvaraju et al. 2017): `alpha_k = mean_ij d(logit_c)/dA_k^ij`,
    /// `map = ReLU(sum_k alpha_k A_k)`. Any layer with spatial output.
    case gradCAM = "gradcam"
    /// Grad-CAM++ (Chattopadhay et al. 2018): pixel-wise weights
    /// `a_k^ij = g^2 / (2 g^2 + sum_ab A_k^ab g^3)` on the positive gradients, which separates several
    /// instances of a class better.
    case gradCAMPlusPlus = "gradcam++"
    /// LayerCAM (Jiang et al. 2021): `map = ReLU(sum_k ReLU(g_k^ij) A_k^ij)`, element-wise, so it keeps
    /// fine detail in early layers where Grad-CAM's averaged weights are coarse.
    case layerCAM = "layercam"

    public var description: String {
        switch self {
        case .cam: return "CAM"
        case .gradCAM: return "Grad-CAM"
        case .gradCAMPlusPlus: return "Grad-CAM++"
        case .layerCAM: return "LayerCAM"
        }
    }
}

/// A class-activation map for one image at one layer: raw values at the layer's resolution, after
/// the method's ReLU and before any normalisation.
public struct ActivationMap: Sendable {
    public let layer: String
    public let classIndex: Int
    public let method: ActivationMapMethod
    public let width: Int
    public let height: Int
    /// Row-major `height x width`.
    public let values: [Float]
    /// The network's raw class scores for the image.
    public let logits: [Float]

    public init(layer: String, classIndex: Int, method: ActivationMapMethod, width: Int, height: Int, values: [Float], logits: [Float]) {
        self.layer = layer
        self.classIndex = classIndex
        self.method = method
        self.width = width
        self.height = height
        self.values = values
        self.logits = logits
    }

    /// True when no position has positive evidence: the map is all zero after the ReLU. Such a map
    /// is shown as empty, never stretched into noise by normalisation.
    public var isEmpty: Bool { !values.contains { $0 > 0 } }

    /// The map scaled to [0, 1] by its minimum and maximum; all zeros when it is empty or flat.
    public var normalized: [Float] {
        guard let low = values.min(), let high = values.max(), high > low, !isEmpty else {
            return [Float](repeating: 0, count: values.count)
        }
        return values.map { ($0 - low) / (high - low) }
    }

    /// Rows of the raw map (for JSON output).
    public var rows: [[Float]] { (0..<height).map { Array(values[($0 * width)..<(($0 + 1) * width)]) } }

    /// Combines activations `a` and gradients `g` (both channels-last `positions x channels`) by `method`.
    public static func combine(
        method: ActivationMapMethod, activations a: UnsafePointer<Float>, gradients g: UnsafePointer<Float>,
        positions: Int, channels: Int
    ) -> [Float] {
        var map = [Float](repeating: 0, count: positions)
        switch method {
        case .cam, .gradCAM:
            var alpha = [Float](repeating: 0, count: channels)
            for p in 0..<positions { for k in 0..<channels { alpha[k] += g[p * channels + k] } }
            for k in 0..<channels { alpha[k] /= Float(positions) }
            for p in 0..<positions {
                var sum: Float = 0
                for k in 0..<channels { sum += alpha[k] * a[p * channels + k] }
                map[p] = sum
            }
        case .gradCAMPlusPlus:
            var activationSums = [Float](repeating: 0, count: channels)
            for p in 0..<positions { for k in 0..<channels { activationSums[k] += a[p * channels + k] } }
            var weights = [Float](repeating: 0, count: channels)
            for p in 0..<positions {
                for k in 0..<channels {
                    let grad = g[p * channels + k]
                    guard grad != 0 else { continue }
                    let g2 = grad * grad, g3 = g2 * grad
                    let denominator = 2 * g2 + activationSums[k] * g3
                    let alpha = denominator != 0 ? g2 / denominator : 0
                    weights[k] += alpha * max(grad, 0)
                }
            }
            for p in 0..<positions {
                var sum: Float = 0
                for k in 0..<channels { sum += weights[k] * a[p * channels + k] }
                map[p] = sum
            }
        case .layerCAM:
            for p in 0..<positions {
                var sum: Float = 0
                for k in 0..<channels { sum += max(g[p * channels + k], 0) * a[p * channels + k] }
                map[p] = sum
            }
        }
        return map.map { max($0, 0) }
    }
}
