/// A per-layer table of a network: output shapes, parameters, multiply-adds and receptive fields.
///
/// The receptive field is the side of the input square that can influence one output pixel:
/// `r_out = r_in + (k - 1) * j_in` with the jump (input pixels between neighbouring outputs)
/// `j_out = j_in * s`. Two stacked 3x3 convolutions see 5x5 pixels with fewer parameters than one 5x5.
public struct ModelSummary: Sendable {
    /// One row of the table.
    public struct Row: Sendable {
        public let name: String
        public let kind: LayerKind
        /// Nesting depth: 0 for top-level layers, 1 inside a residual block.
        public let depth: Int
        public let inputShape: FeatureShape
        public let outputShape: FeatureShape
        public let geometry: SpatialGeometry
        public let parameters: Int
        public let multiplyAdds: Int
        /// Receptive field side in input pixels, and the jump between neighbouring outputs.
        public let receptiveField: Int
        public let jump: Int

        /// The output-size formula with this layer's numbers, e.g. `(32 - 3 + 2*1)/1 + 1 = 32`,
        /// or nil for layers that keep the size.
        public var formula: String? {
            switch kind {
            case .conv, .maxpool, .avgpool, .res:
                let g = geometry
                return "out = (in - k + 2p)/s + 1 = (\(inputShape.height) - \(g.kernel) + 2*\(g.padding))/\(g.stride) + 1 = \(outputShape.height)"
            default:
                return nil
            }
        }
    }

    public let spec: ModelSpec
    public let rows: [Row]
    public let inputShape: FeatureShape

    public init(_ network: Network) {
        spec = network.spec
        inputShape = network.inputShape
        var rows: [Row] = []
        var field = 1, jump = 1
        func grow(_ geometry: SpatialGeometry) {
            field += (geometry.kernel - 1) * jump
            jump *= geometry.stride
        }
        for layer in network.layers {
            let blockField = field, blockJump = jump
            if let block = layer as? ResidualBlock {
                grow(block.conv1.geometry)
                grow(block.conv2.geometry)
            } else if !layer.inputShape.isFlat {
                grow(layer.geometry)
            }
            rows.append(Row(layer: layer, depth: 0, field: field, jump: jump))
            if let block = layer as? ResidualBlock {
                var innerField = blockField, innerJump = blockJump
                for sub in block.sublayers {
                    if sub === block.shortcut?.conv { innerField = blockField; innerJump = blockJump }
                    innerField += (sub.geometry.kernel - 1) * innerJump
                    innerJump *= sub.geometry.stride
                    rows.append(Row(layer: sub, depth: 1, field: innerField, jump: innerJump))
                }
            }
        }
        self.rows = rows
    }

    /// Rows of top-level layers (block totals, not their insides).
    public var topLevelRows: [Row] { rows.filter { $0.depth == 0 } }
    public var totalParameters: Int { topLevelRows.map(\.parameters).reduce(0, +) }
    public var totalMultiplyAdds: Int { topLevelRows.map(\.multiplyAdds).reduce(0, +) }
}

extension ModelSummary.Row {
    init(layer: Layer, depth: Int, field: Int, jump: Int) {
        self.init(
            name: layer.name, kind: layer.kind, depth: depth, inputShape: layer.inputShape, outputShape: layer.outputShape,
            geometry: layer.geometry, parameters: layer.parameters.map(\.count).reduce(0, +),
            multiplyAdds: layer.multiplyAdds, receptiveField: field, jump: jump)
    }
}
