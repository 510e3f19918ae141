import Foundation
import XCTest
import ConvKit

/// Feature maps, filters and the CAM family.
final class InterpretTests: XCTestCase {
    private func trainedNetwork(_ spec: String, steps: Int = 8) throws -> (Network, Dataset) {
        let dataset = SyntheticDataset.generate(seed: 21, trainCount: 256, testCount: 16)
        let trainer = try Trainer(config: TrainingConfig(model: spec, epochs: 2, batchSize: 32, seed: 4), dataset: dataset)
        for _ in 0..<steps { trainer.step() }
        return (trainer.network, dataset)
    }

    private func image(_ dataset: Dataset, _ index: Int) -> Tensor {
        BatchAssembler().tensor(dataset.test, index: index, into: FloatBuffer())
    }

    func testGradCAMEqualsCAMUpToAPositiveConstantAtTheLayerFeedingGAP() throws {
        let (network, dataset) = try trainedNetwork("conv8,bn,relu,maxpool,conv16,bn,relu,gap,fc10")
        let inspector = Inspector(network: network)
        var compared = 0
        for index in 0..<6 {
            inspector.run(image(dataset, index))
            for cls in 0..<10 {
                let cam = try inspector.activationMap(classIndex: cls, method: .cam)
                let grad = try inspector.activationMap(layer: "relu2", classIndex: cls, method: .gradCAM)
                XCTAssertEqual(cam.layer, "relu2")
                guard !cam.isEmpty else {
                    XCTAssertTrue(grad.isEmpty)
                    continue
                }
                // alpha_k = w_k^c / (H W), so Grad-CAM = CAM / 256 at every one of the 16 x 16 positions.
                XCTAssertEqual(grad.width * grad.height, 256)
                for (a, b) in zip(grad.values, cam.values) { XCTAssertEqual(a * 256, b, accuracy: 1e-5 * max(1, abs(b))) }
                compared += 1
            }
        }
        XCTAssertGreaterThan(compared, 20)
    }

    func testCAMNeedsGlobalAveragePoolingAndSaysSo() throws {
        let (network, dataset) = try trainedNetwork("conv8,relu,maxpool,flatten,fc10", steps: 1)
        let inspector = Inspector(network: network)
        inspector.run(image(dataset, 0))
        XCTAssertThrowsError(try inspector.activationMap(method: .cam)) { error in
            XCTAssertEqual(error as? InterpretError, .camNeedsGlobalPooling)
            XCTAssertTrue("\(error)".contains("Grad-CAM") || "\(error)".contains("gradcam"), "\(error)")
        }
        // Grad-CAM works anywhere with a spatial output, and refuses flat layers with a reason.
        XCTAssertEqual(try inspector.activationMap(layer: "conv1").width, 32)
        XCTAssertEqual(try inspector.activationMap().layer, "maxpool1")
        XCTAssertThrowsError(try inspector.activationMap(layer: "fc1")) { XCTAssertEqual($0 as? InterpretError, .notSpatial("fc1")) }
        XCTAssertThrowsError(try inspector.activationMap(layer: "conv9")) { XCTAssertTrue("\($0)".contains("no layer named 'conv9'")) }
        XCTAssertThrowsError(try inspector.activationMap(classIndex: 12)) { XCTAssertTrue("\($0)".contains("out of range")) }
    }

    func testMethodsOnHandComputedActivationsAndGradients() {
        // Two positions, two channels (channels-last): A = [[1, 2], [3, 0]], G = [[0.5, -1], [0.5, 2]].
        let a: [Float] = [1, 2, 3, 0], g: [Float] = [0.5, -1, 0.5, 2]
        func map(_ method: ActivationMapMethod) -> [Float] {
            a.withUnsafeBufferPointer { a in
                g.withUnsafeBufferPointer { g in
                    ActivationMap.combine(method: method, activations: a.baseAddress!, gradients: g.baseAddress!, positions: 2, channels: 2)
                }
            }
        }
        // Grad-CAM: alpha = (0.5, 0.5); sums 0.5*1 + 0.5*2 = 1.5 and 0.5*3 + 0 = 1.5.
        XCTAssertEqual(map(.gradCAM), [1.5, 1.5])
        // LayerCAM: ReLU(g) * A summed per position: 0.5*1 + 0*2 = 0.5; 0.5*3 + 2*0 = 1.5.
        XCTAssertEqual(map(.layerCAM), [0.5, 1.5])
        // Grad-CAM++: channel 0: sum A = 4, g = 0.5 at both: alpha = 0.25 / (0.5 + 4*0.125) = 0.25; w0 = 2 * 0.25*0.5 = 0.25.
        // Channel 1: sum A = 2; g = -1 (negative, no weight), g = 2: alpha = 4 / (8 + 2*8) = 1/6, w1 = 2/6.
        let plusPlus = map(.gradCAMPlusPlus)
        XCTAssertEqual(plusPlus[0], 0.25 * 1 + (2.0 / 6) * 2, accuracy: 1e-6)
        XCTAssertEqual(plusPlus[1], 0.25 * 3, accuracy: 1e-6)
    }

    func testAMapWithNoPositiveEvidenceIsEmptyNotStretched() throws {
        let (network, dataset) = try trainedNetwork("conv4,relu,gap,fc10", steps: 1)
        // ReLU outputs are >= 0; make every weight of class 0 negative: no position supports class 0.
        let fc = try XCTUnwrap(network.layer(named: "fc1") as? Linear)
        for k in 0..<4 { fc.weight.value.base[k] = -1 - Float(k) }
        let inspector = Inspector(network: network)
        inspector.run(image(dataset, 3))
        for method in [ActivationMapMethod.cam, .gradCAM, .gradCAMPlusPlus] {
            let map = try inspector.activationMap(classIndex: 0, method: method)
            XCTAssertTrue(map.isEmpty, "\(method)")
            XCTAssertEqual(map.normalized, [Float](repeating: 0, count: map.values.count), "\(method): stays all zero")
        }
    }

    func testInspectingDoesNotDisturbTraining() throws {
        let (network, dataset) = try trainedNetwork("conv8,bn,relu,dropout0.5,conv8,relu,gap,fc10")
        let bn = try XCTUnwrap(network.layer(named: "bn1") as? BatchNorm2d)
        let before = (bn.runningMean.array(8), bn.runningVariance.array(8), bn.batchesTracked.value)
        let copy = network.copy()
        let inspector = Inspector(network: copy)
        let first = inspector.run(image(dataset, 2))
        _ = try inspector.activationMap(layer: "conv1", method: .layerCAM)
        let copyBN = try XCTUnwrap(copy.layer(named: "bn1") as? BatchNorm2d)
        XCTAssertEqual(copyBN.runningMean.array(8), before.0, "inference mode keeps running statistics")
        XCTAssertEqual(copyBN.batchesTracked.value, before.2)
        XCTAssertEqual(bn.runningVariance.array(8), before.1, "the original network is untouched")
        XCTAssertEqual(inspector.run(image(dataset, 2)), first, "dropout is off: the same image gives the same logits")
        let maps = try inspector.featureMaps(layer: "relu1")
        XCTAssertEqual(maps.channels, 8)
        XCTAssertEqual(maps.width, 32)
        XCTAssertEqual(maps.statistics.minimum, 0, "after a ReLU nothing is negative")
        XCTAssertEqual(maps.statistics.zeroFraction, Float(maps.values.filter { $0 == 0 }.count) / Float(maps.values.count))
    }

    func testFilterBankIsInPyTorchOrder() throws {
        let conv = Conv2d(name: "conv1", input: .cifarImage, outChannels: 2, kernel: 3, stride: 1, padding: 1, bias: true)
        for i in 0..<conv.weight.count { conv.weight.value.base[i] = Float(i) }
        let bank = FilterBank(conv)
        // Internal OHWI index of (out 1, in 2, ky 0, kx 1) is 1*27 + (0*3 + 1)*3 + 2 = 32.
        XCTAssertEqual(bank.plane(out: 1, channel: 2)[(1 * 3 + 2) * 9 + 1], 32)
        XCTAssertTrue(bank.isRGB)
        XCTAssertEqual(bank.averagePlane(out: 0)[0], (0 + 1 + 2) / 3)
    }
}
