import ArgumentParser
import ConvKit
import Foundation

/// `convscope gradcam`: where in an image the evidence for a class lies, as a PNG or JSON.
struct GradCAMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradcam",
        abstract: "Class-activation map (CAM, Grad-CAM, Grad-CAM++, LayerCAM) of one image, as PNG and/or JSON.",
        discussion: """
            Grad-CAM weighs each channel of a layer's output by the mean gradient of the class score (the logit, \
            before softmax) and keeps the positive sum: ReLU(sum_k alpha_k A_k). It works at any layer with a \
            spatial output; deeper layers give coarser, more semantic maps. CAM reads the fc weights directly and \
            needs a gap+fc head. LayerCAM keeps detail in early layers.
            """)

    @Option(name: .long, help: "The .safetensors checkpoint.")
    var checkpoint: String

    @OptionGroup var picture: ImageOptions

    @Option(name: .long, help: "Layer name (default: the last layer with a spatial output).")
    var layer: String?

    @Option(name: .customLong("class"), help: "Class name or number (default: the predicted class).")
    var targetClass: String?

    @Option(name: .long, help: "cam, gradcam, gradcam++ or layercam.")
    var method = ActivationMapMethod.gradCAM

    @Option(name: .long, help: "Output PNG.")
    var out: String?

    @Option(name: .long, help: "overlay, heatmap or strip (image | heatmap | overlay, captioned).")
    var style = HeatMapStyle.overlay

    @Option(name: .long, help: "Output size in pixels (square).")
    var size = 256

    @Option(name: .long, help: "jet, viridis or inferno.")
    var colormap = ColormapName.jet

    @Flag(name: .long, help: "Print the raw map (at layer resolution, before normalisation), logits and choices as JSON.")
    var json = false

    func validate() throws {
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
        let map = try inspector.activationMap(layer: layer, classIndex: classIndex, method: method)
        let probabilities = softmax(logits)
        if let out {
            let colors = colormap.colormap
            let image: RGBImage
            switch style {
            case .heatmap: image = Visualizer.overlay(image: picture.image, map: map, size: size, colormap: colors).heatmap
            case .strip:
                image = Visualizer.strip(
                    image: picture.image, map: map, className: names[map.classIndex], probability: probabilities[map.classIndex],
                    size: size, colormap: colors)
            case .overlay: image = Visualizer.overlay(image: picture.image, map: map, size: size, colormap: colors).overlay
            }
            try PNG.write(image, to: out)
        }
        if json {
            var object: [String: Any] = [
                "layer": map.layer, "class": map.classIndex, "class_name": names[map.classIndex], "method": map.method.rawValue,
                "map": map.rows.map { $0.map(Double.init) }, "width": map.width, "height": map.height,
                "logits": logits.map(Double.init), "probabilities": probabilities.map(Double.init),
                "predicted": inspector.predictedClass, "empty": map.isEmpty, "image": picture.name,
            ]
            if let label = picture.label { object["label"] = label }
            if let out { object["out"] = out }
            try printJSON(object)
        } else {
            let emptyNote = map.isEmpty ? " The map is all zero: no positive evidence for this class at this layer." : ""
            print("\(picture.name): \(map.method) at \(map.layer) for '\(names[map.classIndex])' "
                + String(format: "(p = %.3f), predicted '%@'.", probabilities[map.classIndex], names[inspector.predictedClass])
                + emptyNote + (out.map { " Wrote \($0)." } ?? ""))
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
