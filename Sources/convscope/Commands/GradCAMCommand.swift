import ArgumentParser
import ConvKit
import ConvRender
import Foundation

/// `convscope gradcam`: where in an image the evidence for a class lies, as a PNG or JSON, by any of
/// the CAM-family or pixel-attribution methods (docs/explanations.md).
struct GradCAMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradcam",
        abstract: "Explain one image's class score: CAM family or pixel attribution, as PNG and/or JSON.",
        discussion: """
            CAM family (read at --layer): cam, gradcam, gradcam++, layercam, hirescam, xgradcam, scorecam, \
            ablationcam, eigencam. Grad-CAM weighs each channel of a layer's output by the mean gradient of the \
            class score (the logit) and keeps the positive sum; deeper layers give coarser, more semantic maps. \
            Pixel attribution (at the input, 32x32): saliency, smoothgrad (--samples, --noise), \
            integrated-gradients (--steps, --baseline black|blur|mean; the completeness gap is reported), \
            guided-backprop, guided-gradcam (--layer), occlusion (--patch, --stride), rise (--masks, --seed). \
            JSON: CAM maps at the layer's resolution; pixel methods give `map` (32x32, channels summed, what \
            is drawn) and `attribution` (3x32x32, signed, w.r.t. the normalised input, as Captum returns it).
            """)

    @Option(name: .long, help: "The .safetensors checkpoint.")
    var checkpoint: String

    @OptionGroup var picture: ImageOptions

    @Option(name: .long, help: "Layer name (default: the last layer with a spatial output).")
    var layer: String?

    @Option(name: .customLong("class"), help: "Class name or number (default: the predicted class).")
    var targetClass: String?

    @Option(name: .long, help: "The explanation method: \(ExplanationMethod.allCases.map(\.rawValue).joined(separator: ", ")) (docs/explanations.md).")
    var method = ExplanationMethod.activation(.gradCAM)

    @OptionGroup var attribution: AttributionOptionGroup

    @Option(name: .long, help: "Output PNG.")
    var out: String?

    @Option(name: .long, help: "overlay, heatmap or strip (image | heatmap | overlay, captioned).")
    var style = HeatMapStyle.overlay

    @Option(name: .long, help: "Output size in pixels (square).")
    var size = 256

    @Option(name: .long, help: "jet, viridis or inferno (signed pixel maps always use the diverging palette).")
    var colormap = ColormapName.jet

    @Flag(name: .long, help: "Print the raw map (CAM: at layer resolution, before normalisation), logits and choices as JSON.")
    var json = false

    func validate() throws {
        _ = try attribution.options()
        guard (8...4096).contains(size) else { throw ValidationError("--size must be between 8 and 4096") }
        guard out != nil || json else { throw ValidationError("give --out FILE.png, --json, or both") }
    }

    func run() throws {
        let loaded = try RunCheckpoint.load(checkpoint)
        let picture = try self.picture.load(classNames: loaded.classNames)
        let names = picture.classNames
        let inspector = Inspector(network: loaded.network)
        let logits = inspector.run(picture.tensor)
        let classIndex = try targetClass.map { try parseClass($0, names: names) }
        let explanation = try inspector.explain(method, layer: layer, classIndex: classIndex, options: try attribution.options())
        let target = explanation.classIndex
        let probabilities = softmax(logits)
        if let out {
            let colors = colormap.colormap
            let image: RGBImage
            switch style {
            case .heatmap: image = Visualizer.overlay(image: picture.image, explanation: explanation, size: size, colormap: colors).heatmap
            case .strip:
                image = Visualizer.strip(
                    image: picture.image, explanation: explanation, className: names[target], probability: probabilities[target],
                    size: size, colormap: colors)
            case .overlay: image = Visualizer.overlay(image: picture.image, explanation: explanation, size: size, colormap: colors).overlay
            }
            try PNG.write(image, to: out)
        }
        var emptyNote = ""
        if json {
            var object: [String: Any] = [
                "class": target, "class_name": names[target], "method": method.rawValue, "family": method.family.rawValue,
                "logits": logits.map(Double.init), "probabilities": probabilities.map(Double.init),
                "predicted": inspector.predictedClass, "image": picture.name,
            ]
            switch explanation {
            case .activation(let map):
                object["layer"] = map.layer
                object["map"] = map.rows.map { $0.map(Double.init) }
                object["width"] = map.width
                object["height"] = map.height
                object["empty"] = map.isEmpty
            case .pixel(let pixels):
                if let layer = pixels.layer { object["layer"] = layer }
                object["map"] = pixels.mapRows.map { $0.map(Double.init) }
                object["attribution"] = pixels.channelsFirst.map { $0.map { $0.map(Double.init) } }
                object["width"] = pixels.width
                object["height"] = pixels.height
                object["signed"] = pixels.method.isSigned
                if let gap = pixels.completenessGap {
                    object["completeness_gap"] = Double(gap)
                    object["attribution_sum"] = pixels.attribution.reduce(0.0) { $0 + Double($1) }
                }
                object["options"] = attribution.describe(for: pixels.method)
            }
            if let label = picture.label { object["label"] = label }
            if let out { object["out"] = out }
            try printJSON(object)
        } else {
            var place = ""
            switch explanation {
            case .activation(let map):
                place = " at \(map.layer)"
                if map.isEmpty { emptyNote = " The map is all zero: no positive evidence for this class at this layer." }
            case .pixel(let pixels):
                place = pixels.layer.map { " at \($0)" } ?? ""
                if let gap = pixels.completenessGap {
                    emptyNote = String(format: " Completeness gap %.4g (sum of attributions minus the logit change).", gap)
                }
            }
            print("\(picture.name): \(method)\(place) for '\(names[target])' "
                + String(format: "(p = %.3f), predicted '%@'.", probabilities[target], names[inspector.predictedClass])
                + emptyNote + (out.map { " Wrote \($0)." } ?? ""))
        }
    }
}

/// The options of the methods that have any (`AttributionOptions`), as command-line flags.
struct AttributionOptionGroup: ParsableArguments {
    @Option(name: .long, help: "SmoothGrad: noisy samples averaged (default 25).")
    var samples: Int?

    @Option(name: .long, help: "SmoothGrad: noise standard deviation as a fraction of the image's range (default 0.15).")
    var noise: Float?

    @Option(name: .long, help: "Integrated Gradients: Gauss-Legendre steps (default 50).")
    var steps: Int?

    @Option(name: .long, help: "Integrated Gradients: the path starts at a black image, the image blurred, or the mean colour (default black).")
    var baseline: AttributionBaseline?

    @Option(name: .long, help: "Occlusion: square patch side in pixels (default 8).")
    var patch: Int?

    @Option(name: .long, help: "Occlusion: patch step in pixels (default 2).")
    var stride: Int?

    @Option(name: .long, help: "RISE: random masks (default 1000).")
    var masks: Int?

    @Option(name: .long, help: "SmoothGrad noise and RISE masks: random seed (default 0).")
    var seed: UInt64?

    func options() throws -> AttributionOptions {
        var options = AttributionOptions()
        if let samples { options.samples = samples }
        if let noise { options.noise = noise }
        if let steps { options.steps = steps }
        if let baseline { options.baseline = baseline }
        if let patch { options.patch = patch }
        if let stride { options.stride = stride }
        if let masks { options.masks = masks }
        if let seed { options.seed = seed }
        if let problem = options.problem() { throw ValidationError(problem) }
        return options
    }

    /// The options a method used, for JSON.
    func describe(for method: PixelAttributionMethod) -> [String: Any] {
        let options = (try? self.options()) ?? AttributionOptions()
        switch method {
        case .smoothGrad: return ["samples": options.samples, "noise": Double(options.noise), "seed": options.seed]
        case .integratedGradients:
            return ["steps": options.steps, "baseline": options.baseline.rawValue, "blur_sigma": Double(options.blurSigma)]
        case .occlusion: return ["patch": options.patch, "stride": options.stride]
        case .rise:
            return ["masks": options.masks, "grid": options.maskGrid, "keep": Double(options.keepProbability), "seed": options.seed]
        default: return [:]
        }
    }
}

/// A class given by name (`cat`) or number (`3`).
func parseClass(_ text: String, names: [String]) throws -> Int {
    if let number = Int(text) {
        guard names.indices.contains(number) else {
            throw ValidationError("--class \(number) is out of range: the model has \(names.count) classes (0-\(names.count - 1))")
        }
        return number
    }
    guard let index = names.firstIndex(where: { $0.lowercased() == text.lowercased() }) else {
        throw ValidationError("--class '\(text)' is not a class name; classes: \(names.joined(separator: ", "))")
    }
    return index
}
