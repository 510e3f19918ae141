import ArgumentParser
import ConvKit
import Foundation

/// `convscope sanity`: the model-parameter randomisation test for one image (docs/explanations.md).
struct SanityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sanity",
        abstract: "Randomise the weights layer by layer (on a copy) and see whether each method's map changes.",
        discussion: """
            Adebayo et al. 2018: a map that stays the same when the model's weights are random explains the image, \
            not the model. Cascading: layers randomised from the classifier down, cumulatively; independent: one \
            layer at a time. Each row gives, per method, the Spearman rank correlation and the SSIM between the \
            trained model's map and the randomised one (1 = unchanged; a trustworthy method falls towards 0).
            """)

    @Option(name: .long, help: "The .safetensors checkpoint.")
    var checkpoint: String

    @OptionGroup var picture: ImageOptions

    @Option(name: .long, help: "Layer for the CAM family and Guided Grad-CAM (default: the last layer with a spatial output).")
    var layer: String?

    @Option(name: .long, help: "all, or a comma-separated list of methods.")
    var methods = "gradcam,gradcam++,layercam,saliency,guided-backprop,integrated-gradients,guided-gradcam"

    @Option(name: .long, help: "cascading, independent or both.")
    var mode = "both"

    @Option(name: .long, help: "Seed of the random weights.")
    var seed: UInt64 = 0

    @OptionGroup var attribution: AttributionOptionGroup

    @Flag(name: .long, help: "Print the curves as JSON.")
    var json = false

    @Option(name: .long, help: "Write the rows of maps (one row per method, trained then each randomisation) as PNG; with --mode both, the cascading rows.")
    var png: String?

    func validate() throws {
        if case .failure(let error) = ExplanationMethod.list(methods) { throw ValidationError("--methods: \(error)") }
        guard mode == "both" || SanityCheck.Mode(rawValue: mode) != nil else {
            throw ValidationError("--mode must be cascading, independent or both, not '\(mode)'")
        }
        _ = try attribution.options()
    }

    func run() throws {
        let loaded = try RunCheckpoint.load(checkpoint)
        let picture = try self.picture.load(classNames: loaded.classNames, defaultIndex: 0)
        var chosen = try ExplanationMethod.list(methods).get()
        if methods == "all", (try? Inspector(network: loaded.network).camHead()) == nil { chosen.removeAll { $0 == .activation(.cam) } }
        let modes = mode == "both" ? SanityCheck.Mode.allCases : [SanityCheck.Mode(rawValue: mode)!]
        let options = try attribution.options()
        let checks = try modes.map { mode in
            try SanityCheck.run(
                network: loaded.network, image: picture.tensor, layer: layer, methods: chosen, mode: mode, options: options, seed: seed)
        }
        let names = picture.classNames
        if let png { try PNG.write(checks[0].picture(), to: png) }
        if json {
            let object: [String: Any] = [
                "image": picture.name, "class": checks[0].classIndex, "class_name": names[checks[0].classIndex],
                "methods": chosen.map(\.rawValue), "layer": layer ?? "",
                "modes": checks.map { check -> [String: Any] in
                    ["mode": check.mode.rawValue, "steps": check.steps.map { step -> [String: Any] in
                        ["layer": step.layer, "spearman": step.spearman, "ssim": step.ssim]
                    }]
                },
            ]
            try printJSON(object)
            return
        }
        print("\(picture.name), explaining '\(names[checks[0].classIndex])' (the trained model's prediction). "
            + "Each cell: Spearman / SSIM against the trained model's map; near 1 = the map ignores the weights.")
        for check in checks {
            print("\n\(check.mode.rawValue) randomisation" + (check.mode == .cascading ? " (this layer and every one above it)" : " (this layer alone)"))
            let width = 13
            print("layer".padding(toLength: 16, withPad: " ", startingAt: 0)
                + check.methods.map { String($0.rawValue.prefix(width - 1)).padding(toLength: width, withPad: " ", startingAt: 0) }.joined())
            for step in check.steps {
                let cells = zip(step.spearman, step.ssim).map { String(format: "%5.2f/%5.2f  ", $0, $1) }.joined()
                print(step.layer.padding(toLength: 16, withPad: " ", startingAt: 0) + cells)
            }
        }
    }
}
