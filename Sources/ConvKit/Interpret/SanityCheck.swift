import Foundation

/// The model-parameter randomisation test (Adebayo et al. 2018, "Sanity Checks for Saliency Maps"):
/// if a method's map hardly changes when the weights it explains are replaced by random ones, the map
/// describes the image (edges), not the model.
///
/// Runs on a copy of the network; the original (a training run's) is never touched.
public struct SanityCheck {
    public enum Mode: String, Sendable, CaseIterable, Codable {
        /// Layers randomised one after another from the top (the classifier) down, cumulatively.
        case cascading
        /// Each layer randomised alone, the rest trained.
        case independent
    }

    /// One randomisation: the layer(s) replaced and each method's similarity to the trained map.
    public struct Step: Sendable {
        /// The layer randomised in this step (with every layer above it, in cascading mode).
        public let layer: String
        /// Spearman rank correlation of the maps (absolute values for signed methods), per method.
        public let spearman: [Double]
        /// SSIM of the maps scaled to [0, 1], 7x7 windows (scikit-image's defaults), per method.
        public let ssim: [Double]
        /// The randomised model's maps, per method (input resolution; absolute values for signed methods).
        public let maps: [[Float]]
    }

    public let methods: [ExplanationMethod]
    public let mode: Mode
    public let classIndex: Int
    /// The trained model's maps, per method.
    public let referenceMaps: [[Float]]
    public let steps: [Step]

    /// The layers the test randomises, in its order: those with weights, top (the classifier) first.
    public static func randomisedLayers(of network: Network) -> [String] {
        network.allLayers.filter { $0 is Conv2d || $0 is Linear }.reversed().map(\.name)
    }

    /// Runs the test for the image `image` (normalised, a batch of 1) at `layer` (CAM family and Guided
    /// Grad-CAM), explaining `classIndex` (nil: the trained model's predicted class) throughout.
    ///
    /// `progress` hears the fraction done (the trained maps, then one share per randomised layer) as the
    /// methods report it, so that a caller can cancel within a few forward passes; `stepDone` hears each
    /// randomisation as it finishes (a live curve).
    public static func run(
        network trained: Network, image: Tensor, layer: String?, methods: [ExplanationMethod], mode: Mode,
        options: AttributionOptions = AttributionOptions(), seed: UInt64 = 0, classIndex: Int? = nil,
        progress: ExplanationProgress? = nil, stepDone: ((Step) -> Void)? = nil
    ) throws(InterpretError) -> SanityCheck {
        let copy = trained.copy()
        let inspector = Inspector(network: copy)
        inspector.run(image)
        let target = classIndex ?? inspector.predictedClass
        // Layers with weights, top (the classifier) first.
        let randomised = Array(copy.allLayers.filter { $0 is Conv2d || $0 is Linear }.reversed())
        let shares = Double(randomised.count + 1)
        func maps(part: Int) throws(InterpretError) -> [[Float]] {
            var result: [[Float]] = []
            for (m, method) in methods.enumerated() {
                let base = (Double(part) + Double(m) / Double(methods.count)) / shares
                guard progress?(base) ?? true else { throw .cancelled }
                let explanation = try inspector.explain(
                    method, layer: method.usesLayer ? layer : nil, classIndex: target, options: options,
                    progress: progress.map { report in { report(base + $0 / Double(methods.count) / shares) } })
                let map = explanation.map(width: copy.inputShape.width, height: copy.inputShape.height)
                result.append(method.isSigned ? map.map(abs) : map)
            }
            return result
        }
        let reference = try maps(part: 0)
        var random = RandomSource(seed: seed)
        var steps: [Step] = []
        for (n, layer) in randomised.enumerated() {
            guard progress?(Double(n + 1) / shares) ?? true else { throw .cancelled }
            if mode == .independent { copy.copyState(from: trained) }
            for parameter in layer.parameters where parameter.isWeight {
                let fanIn = max(1, parameter.count / max(1, parameter.layout.torchShape[0]))
                let std = (2 / Float(fanIn)).squareRoot()
                for i in 0..<parameter.count { parameter.value.base[i] = random.normal() * std }
            }
            inspector.run(image)
            let current = try maps(part: n + 1)
            steps.append(Step(
                layer: layer.name,
                spearman: zip(reference, current).map { spearman($0, $1) },
                ssim: zip(reference, current).map { ssim($0, $1, width: copy.inputShape.width, height: copy.inputShape.height) },
                maps: current))
            stepDone?(steps[steps.count - 1])
        }
        return SanityCheck(methods: methods, mode: mode, classIndex: target, referenceMaps: reference, steps: steps)
    }

    /// Spearman's rank correlation: Pearson's on the ranks, ties sharing their mean rank. 0 when either
    /// map is flat (no ranking to agree with).
    public static func spearman(_ a: [Float], _ b: [Float]) -> Double {
        pearson(ranks(a), ranks(b))
    }

    static func ranks(_ values: [Float]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var ranks = [Double](repeating: 0, count: values.count)
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && values[order[end + 1]] == values[order[start]] { end += 1 }
            let mean = Double(start + end) / 2
            for i in start...end { ranks[order[i]] = mean }
            start = end + 1
        }
        return ranks
    }

    static func pearson(_ a: [Double], _ b: [Double]) -> Double {
        let n = Double(a.count)
        let ma = a.reduce(0, +) / n, mb = b.reduce(0, +) / n
        var cov = 0.0, va = 0.0, vb = 0.0
        for i in a.indices {
            cov += (a[i] - ma) * (b[i] - mb)
            va += (a[i] - ma) * (a[i] - ma)
            vb += (b[i] - mb) * (b[i] - mb)
        }
        return va > 0 && vb > 0 ? cov / (va * vb).squareRoot() : 0
    }

    /// Mean structural similarity of two maps, each min-max scaled to [0, 1] first: 7x7 uniform windows,
    /// sample covariances, K1 = 0.01, K2 = 0.03, data range 1, averaged over the windows that fit
    /// (scikit-image's `structural_similarity` defaults).
    public static func ssim(_ a: [Float], _ b: [Float], width: Int, height: Int) -> Double {
        func scaled(_ v: [Float]) -> [Double] {
            let low = Double(v.min() ?? 0), high = Double(v.max() ?? 0)
            return v.map { high > low ? (Double($0) - low) / (high - low) : 0 }
        }
        let x = scaled(a), y = scaled(b)
        let window = 7, count = Double(window * window), norm = count / (count - 1)
        let c1 = 0.01 * 0.01, c2 = 0.03 * 0.03
        var total = 0.0, windows = 0
        for top in 0...(height - window) {
            for left in 0...(width - window) {
                var mx = 0.0, my = 0.0
                for dy in 0..<window { for dx in 0..<window {
                    let p = (top + dy) * width + left + dx
                    mx += x[p]
                    my += y[p]
                } }
                mx /= count
                my /= count
                var vx = 0.0, vy = 0.0, cxy = 0.0
                for dy in 0..<window { for dx in 0..<window {
                    let p = (top + dy) * width + left + dx
                    vx += (x[p] - mx) * (x[p] - mx)
                    vy += (y[p] - my) * (y[p] - my)
                    cxy += (x[p] - mx) * (y[p] - my)
                } }
                vx = vx / count * norm
                vy = vy / count * norm
                cxy = cxy / count * norm
                total += ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
                windows += 1
            }
        }
        return windows > 0 ? total / Double(windows) : 0
    }
}
