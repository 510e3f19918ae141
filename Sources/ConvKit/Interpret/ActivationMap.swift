/// The class-activation methods: where in the image the evidence for a class lies, read at one layer.
///
/// Each follows its paper and pytorch-grad-cam's implementation (its numerical guards included), so
/// that maps match that library's raw `get_cam_image` output after its ReLU (docs/explanations.md).
public enum ActivationMapMethod: String, Sendable, CaseIterable, CustomStringConvertible {
    /// CAM (Zhou et al. 2016): `M_c = sum_k w_k^c A_k` at the feature map that feeds `gap`, with the
    /// weights of the `fc` after it. Needs a `gap` + `fc` head.
    case cam
    /// Grad-CAM (Selvaraju et al. 2017): `alpha_k = mean_ij d(logit_c)/dA_k^ij`,
    /// `map = ReLU(sum_k alpha_k A_k)`. Any layer with spatial output.
    case gradCAM = "gradcam"
    /// Grad-CAM++ (Chattopadhay et al. 2018): pixel-wise weights
    /// `a_k^ij = g^2 / (2 g^2 + sum_ab A_k^ab g^3 + 1e-6)` on the positive gradients, which separates
    /// several instances of a class better.
    case gradCAMPlusPlus = "gradcam++"
    /// LayerCAM (Jiang et al. 2021): `map = ReLU(sum_k ReLU(g_k^ij) A_k^ij)`, element-wise, so it keeps
    /// fine detail in early layers where Grad-CAM's averaged weights are coarse.
    case layerCAM = "layercam"
    /// HiResCAM (Draelos & Carin 2020): `ReLU(sum_k g_k^ij A_k^ij)`, the element-wise product without
    /// Grad-CAM's averaging, which provably shows the positions the score used.
    case hiResCAM = "hirescam"
    /// XGrad-CAM (Fu et al. 2020): `alpha_k = sum_ij g_k^ij A_k^ij / (sum_ij A_k^ij + 1e-7)`.
    case xGradCAM = "xgradcam"
    /// Score-CAM (Wang et al. 2020): each channel, upsampled to the image and scaled to [0, 1], masks
    /// the input; the class logits of the masked images, softmaxed over channels, weigh the channels.
    /// No gradients; one forward pass per channel.
    case scoreCAM = "scorecam"
    /// Ablation-CAM (Desai & Ramaswamy 2020): `alpha_k = (y_c - y_c^k) / y_c`, the relative drop of the
    /// class logit when channel k is ablated (set to zero, or far below the minimum when the layer has
    /// negative outputs). One forward pass of the rest of the network per channel.
    case ablationCAM = "ablationcam"
    /// Eigen-CAM (Muhammad & Yeasin 2020): the activations' projection on their first principal
    /// component. Class-agnostic: the same map for every class.
    case eigenCAM = "eigencam"

    public var description: String {
        switch self {
        case .cam: return "CAM"
        case .gradCAM: return "Grad-CAM"
        case .gradCAMPlusPlus: return "Grad-CAM++"
        case .layerCAM: return "LayerCAM"
        case .hiResCAM: return "HiResCAM"
        case .xGradCAM: return "XGrad-CAM"
        case .scoreCAM: return "Score-CAM"
        case .ablationCAM: return "Ablation-CAM"
        case .eigenCAM: return "Eigen-CAM"
        }
    }

    /// Whether the map is the activations weighted by the gradients at the layer alone (`combine`).
    public var needsGradients: Bool {
        switch self {
        case .gradCAM, .gradCAMPlusPlus, .layerCAM, .hiResCAM, .xGradCAM: return true
        case .cam, .scoreCAM, .ablationCAM, .eigenCAM: return false
        }
    }

    /// Whether one map takes a forward pass per channel (run on a worker, with progress).
    public var isSlow: Bool { self == .scoreCAM || self == .ablationCAM }
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

    /// Combines activations `a` and gradients `g` (both channels-last `positions x channels`) by one of
    /// the gradient methods (`needsGradients`), then applies the ReLU.
    public static func combine(
        method: ActivationMapMethod, activations a: UnsafePointer<Float>, gradients g: UnsafePointer<Float>,
        positions: Int, channels: Int
    ) -> [Float] {
        precondition(method.needsGradients || method == .cam, "\(method) does not combine activations and gradients")
        var weights = [Float](repeating: 0, count: channels)
        switch method {
        case .layerCAM, .hiResCAM:
            var map = [Float](repeating: 0, count: positions)
            let rectify = method == .layerCAM
            for p in 0..<positions {
                var sum: Float = 0
                for k in 0..<channels {
                    let grad = g[p * channels + k]
                    sum += (rectify ? max(grad, 0) : grad) * a[p * channels + k]
                }
                map[p] = max(sum, 0)
            }
            return map
        case .gradCAMPlusPlus:
            let activationSums = channelSums(a, positions: positions, channels: channels)
            for p in 0..<positions {
                for k in 0..<channels {
                    let grad = g[p * channels + k]
                    // pytorch-grad-cam's guard: eps 1e-6 in the denominator, alpha 0 where g is 0.
                    guard grad != 0 else { continue }
                    let g2 = grad * grad, g3 = g2 * grad
                    let alpha = g2 / (2 * g2 + activationSums[k] * g3 + 1e-6)
                    weights[k] += alpha * max(grad, 0)
                }
            }
        case .xGradCAM:
            let activationSums = channelSums(a, positions: positions, channels: channels)
            for p in 0..<positions {
                for k in 0..<channels { weights[k] += g[p * channels + k] * a[p * channels + k] / (activationSums[k] + 1e-7) }
            }
        default:
            for p in 0..<positions { for k in 0..<channels { weights[k] += g[p * channels + k] } }
            for k in 0..<channels { weights[k] /= Float(positions) }
        }
        return weighted(a, weights: weights, positions: positions, channels: channels)
    }

    /// `ReLU(sum_k w_k A_k)` at every position.
    static func weighted(_ a: UnsafePointer<Float>, weights: [Float], positions: Int, channels: Int) -> [Float] {
        (0..<positions).map { p in
            var sum: Float = 0
            for k in 0..<channels { sum += weights[k] * a[p * channels + k] }
            return max(sum, 0)
        }
    }

    private static func channelSums(_ a: UnsafePointer<Float>, positions: Int, channels: Int) -> [Float] {
        var sums = [Float](repeating: 0, count: channels)
        for p in 0..<positions { for k in 0..<channels { sums[k] += a[p * channels + k] } }
        return sums
    }
}
