import ArgumentParser
import ConvKit
import ConvRender
import Foundation

/// `convscope visualize`: the input that maximises a channel of a layer or a class logit, synthesised by
/// gradient ascent (feature visualisation by optimisation, docs/interpretation.md).
struct VisualizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "visualize",
        abstract: "Synthesise the 32x32 input that maximises a channel (or class logit), as a PNG.",
        discussion: """
            Gradient ascent (Adam) on a cosine spectrum of the image with CIFAR-10's colour correlation, random \
            shifts (--jitter) and scaling (--scale) each step, and total-variation and L2 penalties (Olah et al., \
            Distill 2017). --images N > 1 makes N images per channel and pushes them apart by the diversity \
            penalty (--diversity). --channel K: the mean over positions of channel K of --layer's output (pick \
            the relu after a conv for its post-activation channel); --all-channels: every channel of --layer, as \
            a grid; --class C: a class logit. The same --seed gives the same image.
            """)

    @Option(name: .long, help: "The .safetensors checkpoint.")
    var checkpoint: String

    @Option(name: .long, help: "Layer name (with --channel or --all-channels).")
    var layer: String?

    @Option(name: .long, help: "Channel of --layer to maximise.")
    var channel: Int?

    @Flag(name: .long, help: "Every channel of --layer, as a grid.")
    var allChannels = false

    @Option(name: .customLong("class"), help: "Class name or number whose logit to maximise.")
    var targetClass: String?

    @Option(name: .long, help: "Images per channel (1-64); more than one turns the diversity penalty on.")
    var images = 1

    @Option(name: .long, help: "Weight of the diversity penalty (with --images > 1).")
    var diversity: Float = FeatureVisualizationOptions().diversity

    @Option(name: .long, help: "Seed of the starting images and of each step's jitter.")
    var seed: UInt64 = 0

    @Option(name: .long, help: "Ascent steps.")
    var steps = FeatureVisualizationOptions().steps

    @Option(name: .long, help: "Adam's learning rate.")
    var learningRate = FeatureVisualizationOptions().learningRate

    @Option(name: .long, help: "Largest random shift per step, in pixels.")
    var jitter = FeatureVisualizationOptions().jitter

    @Option(name: .long, help: "Random scaling per step: a factor in 1-S...1+S.")
    var scale = FeatureVisualizationOptions().scale

    @Option(name: .long, help: "Weight of the total-variation penalty.")
    var tv = FeatureVisualizationOptions().totalVariation

    @Option(name: .long, help: "Output PNG (a titled grid when there are several images).")
    var out: String?

    @Option(name: .long, help: "Size of each image in the PNG, in pixels (32-512; enlarged without smoothing).")
    var tile = 96

    @Flag(name: .long, help: "Print the objectives' values (start and end), the layer and the time taken as JSON.")
    var json = false

    func validate() throws {
        let targets = (channel != nil ? 1 : 0) + (allChannels ? 1 : 0) + (targetClass != nil ? 1 : 0)
        guard targets == 1 else { throw ValidationError("give one of --channel K, --all-channels or --class C") }
        if targetClass != nil, layer != nil { throw ValidationError("--class reads the logits: leave out --layer") }
        if targetClass == nil, layer == nil { throw ValidationError(Self.layerNeeded) }
        if let channel, channel < 0 { throw ValidationError("--channel must be 0 or more, not \(channel)") }
        guard (32...512).contains(tile) else { throw ValidationError("--tile must be between 32 and 512, not \(tile)") }
        guard out != nil || json else { throw ValidationError("give --out FILE.png, --json, or both") }
        if let problem = options.problem(imageSize: 32) { throw ValidationError(problem) }
    }

    private static let layerNeeded = "--channel and --all-channels need --layer L"

    var options: FeatureVisualizationOptions {
        FeatureVisualizationOptions(
            steps: steps, learningRate: learningRate, jitter: jitter, scale: scale, totalVariation: tv, images: images,
            diversity: diversity, seed: seed)
    }

    func run() throws {
        let loaded = try RunCheckpoint.load(checkpoint)
        let names = loaded.classNames
        let visualizer = FeatureVisualizer(network: loaded.network)
        let objectives: [FeatureObjective]
        if let targetClass {
            objectives = [.classLogit(try parseClass(targetClass, names: names))]
        } else if let layer, let channel {
            objectives = [.channel(layer: layer, channel: channel)]
        } else if let layer {
            let shape = try visualizer.targetLayer(of: .channel(layer: layer, channel: 0)).outputShape
            objectives = (0..<(shape.isFlat ? shape.count : shape.channels)).map { .channel(layer: layer, channel: $0) }
        } else {
            throw ValidationError(Self.layerNeeded)  // `validate` refuses this first
        }
        let started = Date()
        let results = try visualizer.visualize(objectives, options: options)
        let seconds = Date().timeIntervalSince(started)
        if let out { try PNG.write(picture(results, names: names), to: out) }
        if json {
            var object: [String: Any] = [
                "layer": results[0].layer, "seed": seed, "steps": steps, "images": images, "seconds": seconds,
                "kernel_path": KernelPath.active.description,
                "objectives": results.map { result -> [String: Any] in
                    var entry: [String: Any] = [
                        "values": result.values.map(Double.init), "start_values": result.startValues.map(Double.init),
                    ]
                    switch result.objective {
                    case .channel(_, let channel): entry["channel"] = channel
                    case .classLogit(let index):
                        entry["class"] = index
                        entry["class_name"] = names[index]
                    }
                    return entry
                },
            ]
            if let out { object["out"] = out }
            try printJSON(object)
        } else if let out {
            let count = results.reduce(0) { $0 + $1.images.count }
            let target = targetClass != nil ? "class \(names[objectiveClass(results[0])])" : "\(results[0].layer)"
            print("wrote \(out): \(count) image\(count == 1 ? "" : "s") of \(target) in \(String(format: "%.1f", seconds)) s")
        }
    }

    private func objectiveClass(_ result: FeatureVisualization) -> Int {
        if case .classLogit(let index) = result.objective { return index }
        return 0
    }

    /// One row per channel when there are several images per channel, otherwise a square grid, under a title.
    private func picture(_ results: [FeatureVisualization], names: [String]) -> RGBImage {
        var tiles: [RGBImage] = [], labels: [String] = []
        for result in results {
            for (index, image) in result.rgbImages.enumerated() {
                tiles.append(image)
                let name: String
                switch result.objective {
                case .channel(_, let channel): name = "\(channel)"
                case .classLogit(let index): name = names[index]
                }
                labels.append(result.images.count > 1 ? "\(name)#\(index + 1)" : name)
            }
        }
        let what: String
        if case .classLogit(let index) = results[0].objective {
            what = "\(names[index]) logit"
        } else {
            what = results[0].layer
        }
        let title = "\(what) - seed \(seed), \(steps) steps"
        return Visualizer.grid(tiles, labels: labels, title: title, tile: tile, columns: images > 1 ? images : nil)
    }
}
