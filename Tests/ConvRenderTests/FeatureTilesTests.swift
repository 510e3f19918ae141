import ConvKit
import ConvRender
import XCTest

/// The feature-map and filter tiles the app's view, its export and `convscope export` share.
final class FeatureTilesTests: XCTestCase {
    private func network() throws -> (Network, Inspector) {
        let network = Network(plan: try ModelPlan(spec: try ModelSpec("conv4,relu,conv6,relu,gap,fc10")), seed: 7)
        let inspector = Inspector(network: network)
        let images = SyntheticDataset.generate(seed: 1, trainCount: 1, testCount: 1).test
        _ = inspector.run(BatchAssembler().tensor(images, index: 0, into: FloatBuffer()))
        return (network, inspector)
    }

    func testOneTilePerMapAndOneRowForAFlatLayer() throws {
        let (_, inspector) = try network()
        let maps = try inspector.featureMaps(layer: "conv2")
        let tiles = FeatureTiles.maps(maps, scope: .map, globalRange: nil)
        XCTAssertEqual(tiles.count, 6)
        XCTAssertEqual(tiles.map(\.width), Array(repeating: maps.width, count: 6))
        let flat = try inspector.featureMaps(layer: "fc1")
        XCTAssertFalse(flat.isSpatial)
        let row = FeatureTiles.maps(flat, scope: .map, globalRange: nil)
        XCTAssertEqual(row.count, 1)
        XCTAssertEqual([row[0].width, row[0].height], [10, 1])
    }

    func testFirstLayerFiltersAreColourPatchesUnlessAChannelIsAsked() throws {
        let (network, _) = try network()
        let convs = network.allLayers.compactMap { $0 as? Conv2d }
        let first = FilterBank(convs[0]), second = FilterBank(convs[1])
        let patches = FeatureTiles.filters(first, scope: .layer, globalRange: nil)
        XCTAssertEqual(patches, Visualizer.rgbFilters(first, scope: .layer))
        let channel = FeatureTiles.filters(first, channel: 2, scope: .layer, globalRange: nil)
        XCTAssertEqual(channel.count, 4)
        XCTAssertNotEqual(channel, patches, "one input channel's plane, not the RGB patch")
        let averaged = FeatureTiles.filters(second, scope: .map, globalRange: nil)
        XCTAssertEqual(averaged.count, 6)
        XCTAssertEqual(averaged, Visualizer.tiles(
            planes: (0..<6).map { second.averagePlane(out: $0) }, width: second.kernel, height: second.kernel, scope: .map))
    }
}
