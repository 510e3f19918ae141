import ArgumentParser
import ConvKit
import ConvPresent
import ConvRender
import Foundation

/// `convscope export filters|features`: a labelled PNG grid of a layer's filters or feature maps.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a labelled PNG grid of a conv layer's filters or of any layer's feature maps.",
        discussion: """
            Signed values use a diverging blue-white-red map centred on zero; non-negative ones (after ReLU) viridis. \
            --scale map stretches each tile by itself, layer shares one range across the layer, global across the net.
            """)

    enum What: String, ExpressibleByArgument, CaseIterable {
        case filters, features
    }

    @Argument(help: "filters or features.")
    var what: What

    @Option(name: .long, help: "The .safetensors checkpoint.")
    var checkpoint: String

    @Option(name: .long, help: "Layer name, e.g. conv1 or res2.conv1.")
    var layer: String

    @OptionGroup var picture: ImageOptions

    @Option(name: .long, help: "Colour-scale scope: map, layer or global.")
    var scale = ColorScaleScope.map

    @Option(name: .long, help: "Filters: show this input channel instead of the average (or RGB for the first layer).")
    var channel: Int?

    @Option(name: .long, help: "Output PNG.")
    var out: String

    func run() throws {
        let loaded = try RunCheckpoint.load(checkpoint)
        let inspector = Inspector(network: loaded.network)
        let target = try inspector.layer(named: layer)
        let scope = scale
        let image: RGBImage
        switch what {
        case .filters:
            guard let conv = target as? Conv2d else {
                throw ValidationError("--layer \(layer) is a \(target.kind.rawValue) layer; filters belong to conv layers")
            }
            let bank = FilterBank(conv)
            let allWeights = loaded.network.allLayers.compactMap { $0 as? Conv2d }.flatMap { FilterBank($0).weights }
            let global = allWeights.finiteRange
            var description = "\(conv.name) filters \(bank.outChannels)x\(bank.inChannels)x\(bank.kernel)x\(bank.kernel)"
            if bank.isRGB && channel == nil {
                description += ", RGB"
            } else {
                if let channel, !(0..<bank.inChannels).contains(channel) {
                    throw ValidationError("--channel \(channel) is out of range: \(conv.name) has \(bank.inChannels) input channels")
                }
                description += channel.map { ", input channel \($0)" } ?? ", averaged over input channels"
            }
            let tiles = FeatureTiles.filters(bank, channel: channel, scope: scope, globalRange: global)
            image = Visualizer.grid(tiles, labels: (0..<tiles.count).map { "#\($0)" }, title: description + ", scale per \(scope.rawValue)")
        case .features:
            let picture = try self.picture.load(classNames: loaded.classNames, defaultIndex: 0)
            inspector.run(picture.tensor)
            let maps = try inspector.featureMaps(layer: layer)
            guard maps.isSpatial else {
                throw ValidationError("--layer \(layer) outputs a flat vector of \(maps.channels); pick a layer with feature maps")
            }
            let global = inspector.spatialLayers.flatMap { $0.lastOutput?.array ?? [] }.finiteRange
            let tiles = FeatureTiles.maps(maps, scope: scope, globalRange: global)
            let stats = maps.statistics
            let title = String(
                format: "%@ %dx%dx%d of %@, scale per %@, zeros %.0f%%", layer, maps.channels, maps.height, maps.width,
                picture.name, scope.rawValue, stats.zeroFraction * 100)
            image = Visualizer.grid(tiles, labels: (0..<tiles.count).map { "#\($0)" }, title: title)
        }
        try PNG.write(image, to: out)
        print("wrote \(out) (\(image.width)x\(image.height))")
    }
}
