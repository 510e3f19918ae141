import XCTest
import ConvKit

/// The spec language, presets, output sizes, parameter counts and receptive fields.
final class ModelSpecTests: XCTestCase {
    /// conv parameters: in*out*k*k (+ out for the bias); bn: 2*channels; fc: in*out + out.
    private func conv(_ i: Int, _ o: Int, k: Int = 3, bias: Bool) -> Int { i * o * k * k + (bias ? o : 0) }
    private func bn(_ c: Int) -> Int { 2 * c }
    private func fc(_ i: Int, _ o: Int) -> Int { i * o + o }

    func testPresetParameterCountsMatchHandComputedValues() throws {
        let tiny = conv(3, 16, bias: true) + conv(16, 32, bias: true) + conv(32, 64, bias: true) + fc(64, 10)
        let simple = conv(3, 32, bias: false) + bn(32) + conv(32, 32, bias: false) + bn(32) + conv(32, 64, bias: false) + bn(64)
            + conv(64, 64, bias: false) + bn(64) + conv(64, 128, bias: false) + bn(128) + fc(128, 10)
        let vgg = conv(3, 64, bias: false) + bn(64) + conv(64, 64, bias: false) + bn(64) + conv(64, 128, bias: false) + bn(128)
            + conv(128, 128, bias: false) + bn(128) + conv(128, 256, bias: false) + bn(256) + conv(256, 256, bias: false) + bn(256)
            + fc(256 * 4 * 4, 256) + fc(256, 10)
        func block(_ i: Int, _ o: Int) -> Int {
            conv(i, o, bias: false) + bn(o) + conv(o, o, bias: false) + bn(o) + (i == o ? 0 : conv(i, o, k: 1, bias: false) + bn(o))
        }
        let resnet20 = conv(3, 16, bias: false) + bn(16) + 3 * block(16, 16) + block(16, 32) + 2 * block(32, 32)
            + block(32, 64) + 2 * block(64, 64) + fc(64, 10)
        XCTAssertEqual(try Network("tiny").parameterCount, tiny)
        XCTAssertEqual(try Network("simple").parameterCount, simple)
        XCTAssertEqual(simple, 141_034, "PyTorch's count for the same net (../shared/bench)")
        XCTAssertEqual(try Network("vgg").parameterCount, vgg)
        XCTAssertEqual(try Network("resnet20").parameterCount, resnet20)
    }

    func testOutputShapesFollowTheFormula() throws {
        let shapes = { (name: String) throws -> [String] in try Network(name).layers.map(\.outputShape.description) }
        XCTAssertEqual(
            try shapes("tiny"),
            ["16x32x32", "16x32x32", "16x16x16", "32x16x16", "32x16x16", "32x8x8", "64x8x8", "64x8x8", "64", "10"])
        let vgg = try Network("vgg")
        XCTAssertEqual(vgg.layer(named: "maxpool3")?.outputShape.description, "256x4x4")
        XCTAssertEqual(vgg.layer(named: "flatten1")?.outputShape.description, "4096")
        let resnet = try Network("resnet20")
        XCTAssertEqual(resnet.layer(named: "res4")?.outputShape.description, "32x16x16")
        XCTAssertEqual(resnet.layer(named: "res7.shortcut.conv")?.outputShape.description, "64x8x8")
        XCTAssertNil(resnet.layer(named: "res5.shortcut.conv"), "no projection when the shape is kept")
        // (32 - 5 + 2*0)/2 + 1 = 14; (14 - 3)/3 + 1 = 4 (floor).
        // airbench's geometry: a 2x2 unpadded whitening conv takes 32 to 31, and floor pooling 31 -> 15 -> 7 -> 3 -> 1.
        let airbench = try Network("airbench")
        let maps = airbench.layers.filter { $0 is Conv2d || $0 is MaxPool2d }.map(\.outputShape.description)
        XCTAssertEqual(maps, ["24x31x31", "64x31x31", "64x15x15", "64x15x15", "256x15x15", "256x7x7", "256x7x7", "256x7x7", "256x3x3", "256x3x3", "256x1x1"])
        let custom = try Network("conv8k5s2p0,maxpool3,flatten,fc10")
        XCTAssertEqual(custom.layers[0].outputShape.description, "8x14x14")
        XCTAssertEqual(custom.layers[1].outputShape.description, "8x4x4")
    }

    func testNamesCountEachKindAndBiasDependsOnBatchNorm() throws {
        let net = try Network("conv8,bn,relu,conv8,relu,res8,res16s2,gap,fc10")
        XCTAssertEqual(net.layers.map(\.name), ["conv1", "bn1", "relu1", "conv2", "relu2", "res1", "res2", "gap1", "fc1"])
        let names = net.stateTensors.map(\.name)
        XCTAssertFalse(names.contains("conv1.bias"), "conv followed by bn has no bias")
        XCTAssertTrue(names.contains("conv2.bias"))
        for name in ["res2.conv1.weight", "res2.bn2.running_var", "res2.shortcut.conv.weight", "res2.shortcut.bn.num_batches_tracked"] {
            XCTAssertTrue(names.contains(name), name)
        }
        XCTAssertFalse(names.contains("res1.shortcut.conv.weight"))
    }

    func testSummaryReportsMultiplyAddsAndReceptiveFields() throws {
        let summary = ModelSummary(try Network("simple"))
        // Two 3x3 convolutions see 5x5; the pool doubles the jump; three more 3x3 after it.
        let fields = Dictionary(uniqueKeysWithValues: summary.rows.map { ($0.name, $0.receptiveField) })
        XCTAssertEqual(fields["conv1"], 3)
        XCTAssertEqual(fields["conv2"], 5)
        XCTAssertEqual(fields["maxpool1"], 6)
        XCTAssertEqual(fields["conv3"], 10)
        XCTAssertEqual(fields["conv4"], 14)
        XCTAssertEqual(fields["maxpool2"], 16)
        XCTAssertEqual(fields["conv5"], 24)
        let convMACs = 32 * 32 * (32 * 27 + 32 * 288) + 16 * 16 * (64 * 288 + 64 * 576) + 8 * 8 * 128 * 576
        XCTAssertEqual(summary.totalMultiplyAdds, convMACs + 128 * 10)
        XCTAssertEqual(summary.rows.first { $0.name == "conv1" }?.formula, "out = (in - k + 2p)/s + 1 = (32 - 3 + 2*1)/1 + 1 = 32")
        XCTAssertEqual(summary.totalParameters, 141_034)
    }

    func testBadSpecsPointAtTheToken() {
        func message(_ spec: String) -> String {
            do {
                _ = try Network(spec)
                return "accepted"
            } catch {
                return error.description
            }
        }
        XCTAssertEqual(message("conv16,relu,pool,fc10"), message("conv16,relu,pool,fc10"))
        XCTAssertTrue(message("conv16,relu,pool,fc10").hasPrefix("bad model spec at token 3 'pool': unknown layer"))
        XCTAssertTrue(message("conv16,gap,fc").contains("token 3 'fc': fc needs an output size"))
        XCTAssertTrue(message("conv16,maxpool,maxpool,maxpool,maxpool,maxpool,maxpool,gap,fc10").contains("token 7 'maxpool'"))
        XCTAssertTrue(message("conv16,maxpool,maxpool,maxpool,maxpool,maxpool,maxpool,gap,fc10").contains("smaller than its 2x2 window"))
        XCTAssertTrue(message("conv8k3p2,gap,fc10").contains("padding 2 is more than half the kernel size 3"))
        XCTAssertTrue(message("conv8,gap,bn,fc10").contains("token 3 'bn': needs a feature map"))
        XCTAssertTrue(message("conv8,dropout1.5,gap,fc10").contains("dropout probability must be in [0, 1)"))
        XCTAssertTrue(message("conv0,gap,fc10").contains("must be at least 1"))
        XCTAssertTrue(message("conv8,gap,fc7").contains("must end in 10 class scores"))
        XCTAssertTrue(message("conv8,,gap,fc10").contains("token 2 '': empty layer"))
        XCTAssertEqual(message("tiny"), "accepted")
    }

    func testWholeNetworkGradientsThroughTheLoss() throws {
        let spec = try ModelSpec("conv4,bn,relu,maxpool,res6s2,conv5k1,tanh,dropout2d0.2,flatten,fc8,gelu,dropout0.3,fc10")
        let network = try Network(spec: spec, input: FeatureShape(channels: 3, height: 8, width: 8))
        var random = RandomSource(seed: 12)
        Initializer.he.initialize(network, random: &random)
        let x = Tensor(zeros: 4, network.inputShape)
        for i in 0..<x.count { x.pointer[i] = random.uniform(-1, 1) }
        let labels = [1, 7, 3, 3]
        let loss = CrossEntropyLoss(labelSmoothing: 0.1)
        let logits = network.forward(x, mode: .training)
        for case let dropout as Dropout in network.layers { dropout.freezesMask = true }
        let gradient = Tensor(zeros: 4, logits.shape)
        loss.evaluate(logits: logits, labels: labels, gradient: gradient)
        network.backward(gradient)
        let h: Float = 1e-3
        var checked = 0
        for parameter in network.parameters {
            for i in stride(from: 0, to: parameter.count, by: max(1, parameter.count / 5)) {
                let saved = parameter.value.base[i]
                parameter.value.base[i] = saved + h
                let plus = loss.evaluate(logits: network.forward(x, mode: .training), labels: labels).loss
                parameter.value.base[i] = saved - h
                let minus = loss.evaluate(logits: network.forward(x, mode: .training), labels: labels).loss
                parameter.value.base[i] = saved
                let numeric = (plus - minus) / (2 * h), analytic = parameter.gradient.base[i]
                XCTAssertEqual(analytic, numeric, accuracy: 2e-3 + 0.05 * abs(numeric), "\(parameter.name)[\(i)]")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 60)
    }
}
