import Foundation
import TestSupport
import XCTest
import ConvKit

final class CheckpointTests: XCTestCase {
    /// A small model's state: conv (OHWI inside), batch norm with its counter, fc after a spatial input.
    /// Every float is its internal index plus `offset`, so positions can be checked by hand.
    func makeState(offset: Float = 0, convOut: Int = 2) -> [StateTensor] {
        func buffer(_ count: Int) -> FloatBuffer { FloatBuffer((0..<count).map { Float($0) + offset }) }
        let conv = TensorLayout.convolution(outChannels: convOut, inChannels: 3, kernel: 2)
        let fc = TensorLayout.linearAfterSpatial(outFeatures: 2, channels: 3, height: 2, width: 2)
        return [
            StateTensor(name: "conv1.weight", content: .float(buffer(conv.count), conv)),
            StateTensor(name: "conv1.bias", content: .float(buffer(convOut), .plain([convOut]))),
            StateTensor(name: "bn1.running_mean", content: .float(buffer(convOut), .plain([convOut]))),
            StateTensor(name: "bn1.num_batches_tracked", content: .int64(Counter(17 + Int64(offset)))),
            StateTensor(name: "fc.weight", content: .float(buffer(fc.count), fc)),
        ]
    }

    func floats(_ state: [StateTensor], _ name: String) -> [Float] {
        guard case let .float(buffer, layout)? = state.first(where: { $0.name == name })?.content else { return [] }
        return buffer.array(layout.count)
    }

    func testConvolutionWeightIsWrittenInPyTorchOIHWOrder() throws {
        let entries = StateDict.entries(from: makeState())
        let conv = try XCTUnwrap(entries.first { $0.name == "conv1.weight" })
        XCTAssertEqual(conv.shape, [2, 3, 2, 2])
        let w = try XCTUnwrap(conv.floats)
        // PyTorch index ((o * 3 + i) * 2 + ky) * 2 + kx; internal OHWI index ((o * 2 + ky) * 2 + kx) * 3 + i.
        // (o=1, i=2, ky=0, kx=1): torch 21, internal 17.
        XCTAssertEqual(w[21], 17)
        // (o=0, i=1, ky=1, kx=0): torch 6, internal 7.
        XCTAssertEqual(w[6], 7)
        // (o=0, i=0, ky=0, kx=1): torch 1, internal 3.
        XCTAssertEqual(w[1], 3)
        // (o=1, i=0, ky=1, kx=1): torch 15, internal 21.
        XCTAssertEqual(w[15], 21)

        // fc after 3x2x2: PyTorch column c*4 + y*2 + x, internal (y*2 + x)*3 + c.
        let fc = try XCTUnwrap(entries.first { $0.name == "fc.weight" })
        XCTAssertEqual(fc.shape, [2, 12])
        let f = try XCTUnwrap(fc.floats)
        XCTAssertEqual(f[1 * 12 + 2 * 4 + 1 * 2 + 0], Float(12 + (1 * 2 + 0) * 3 + 2))  // o=1, c=2, y=1, x=0
        XCTAssertEqual(f[0 * 12 + 1 * 4 + 0 * 2 + 1], Float((0 * 2 + 1) * 3 + 1))       // o=0, c=1, y=0, x=1

        let counter = try XCTUnwrap(entries.first { $0.name == "bn1.num_batches_tracked" })
        XCTAssertEqual(counter.shape, [])
        XCTAssertEqual(counter.int64s, [17])
    }

    func testSaveAndLoadRoundTripIsBitExact() throws {
        let directory = try makeTemporaryDirectory(self)
        let path = directory + "/ckpt.safetensors"
        let saved = makeState()
        // Awkward values in the conv weight.
        if case let .float(buffer, _) = saved[0].content {
            buffer.base[0] = Float(bitPattern: 0x7FC0_0ABC)
            buffer.base[1] = -0.0
            buffer.base[2] = Float(bitPattern: 0x0000_0003)
        }
        try StateDict.save(saved, metadata: ["epoch": "3"], to: path)

        let loaded = makeState(offset: 1000)
        let file = try StateDict.load(from: path, into: loaded)
        XCTAssertEqual(file.metadata, ["epoch": "3"])
        for name in ["conv1.weight", "conv1.bias", "bn1.running_mean", "fc.weight"] {
            XCTAssertEqual(floats(loaded, name).map(\.bitPattern), floats(saved, name).map(\.bitPattern), name)
        }
        guard case let .int64(counter) = loaded[3].content else { return XCTFail("counter expected") }
        XCTAssertEqual(counter.value, 17)
    }

    func testMissingTensorIsNamed() throws {
        var file = StateDict.safeTensors(from: makeState())
        file.tensors.removeAll { $0.name == "conv1.bias" }
        let target = makeState(offset: 1000)
        let error = assertThrows(CheckpointError.self) { try StateDict.load(file, into: target, source: "m.safetensors") }
        XCTAssertEqual(error?.kind, .missing)
        XCTAssertEqual(error?.tensor, "conv1.bias")
        XCTAssertEqual(error?.description, "checkpoint 'm.safetensors': tensor 'conv1.bias' is missing (expected F32 of shape [2])")
        XCTAssertEqual(floats(target, "conv1.weight").first, 1000, "nothing loaded when a check fails")
    }

    func testUnexpectedTensorIsNamedButOptimizerStateIsIgnored() throws {
        var file = StateDict.safeTensors(from: makeState())
        file.tensors.append(.init(name: "optimizer.conv1.weight.momentum", shape: [1], floats: [0]))
        XCTAssertNoThrow(try StateDict.load(file, into: makeState(offset: 5)))

        file.tensors.append(.init(name: "conv9.weight", shape: [4, 4], floats: [Float](repeating: 0, count: 16)))
        let error = assertThrows(CheckpointError.self) { try StateDict.load(file, into: makeState(offset: 5)) }
        XCTAssertEqual(error?.kind, .unexpected)
        XCTAssertEqual(error?.tensor, "conv9.weight")
        XCTAssertTrue(error?.description.contains("shape [4, 4]") ?? false, String(describing: error))
    }

    func testShapeAndDTypeMismatchesNameExpectedAndFound() throws {
        let wider = StateDict.safeTensors(from: makeState(convOut: 4))
        let target = makeState(offset: 1000)
        let error = assertThrows(CheckpointError.self) { try StateDict.load(wider, into: target, source: "wide.safetensors") }
        XCTAssertEqual(error?.kind, .shapeMismatch)
        XCTAssertEqual(error?.description,
                       "checkpoint 'wide.safetensors': tensor 'conv1.weight' has shape [4, 3, 2, 2], expected [2, 3, 2, 2] (and 2 more problems)")
        XCTAssertEqual(floats(target, "fc.weight").first, 1000, "nothing loaded when a check fails")

        var file = StateDict.safeTensors(from: makeState())
        let index = file.tensors.firstIndex { $0.name == "bn1.num_batches_tracked" }!
        file.tensors[index] = .init(name: "bn1.num_batches_tracked", shape: [], floats: [17])
        let dtype = assertThrows(CheckpointError.self) { try StateDict.load(file, into: makeState()) }
        XCTAssertEqual(dtype?.kind, .dtypeMismatch)
        XCTAssertTrue(dtype?.description.contains("has dtype F32, expected I64") ?? false, String(describing: dtype))
    }

    func testPyTorchLoadStateDictAcceptsOurCheckpoint() throws {
        guard let python = PythonFinder.torch() else {
            throw skip(.noTorch, "no Python with torch, safetensors and numpy (tried \(PythonFinder.candidates())); the PyTorch load_state_dict check did not run")
        }
        let directory = try makeTemporaryDirectory(self)
        let path = directory + "/torch.safetensors"
        try StateDict.save(makeState(), to: path)
        let script = """
        import sys, torch
        from safetensors.torch import load_file
        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = torch.nn.Conv2d(3, 2, 2)
                self.bn1 = torch.nn.BatchNorm2d(2)
                self.fc = torch.nn.Linear(12, 2, bias=False)
        net = Net()
        state = load_file(sys.argv[1])
        # The file holds only some of the batch norm's tensors: load strictly what a full model would need.
        missing, unexpected = net.load_state_dict(state, strict=False)
        assert not unexpected, unexpected
        assert sorted(missing) == ["bn1.bias", "bn1.running_var", "bn1.weight"], missing
        w = net.conv1.weight
        # OIHW element (o, i, ky, kx) was internal OHWI index ((o*2 + ky)*2 + kx)*3 + i.
        for o in range(2):
            for i in range(3):
                for ky in range(2):
                    for kx in range(2):
                        assert w[o, i, ky, kx].item() == ((o * 2 + ky) * 2 + kx) * 3 + i, (o, i, ky, kx)
        # fc column c*4 + y*2 + x was internal (y*2 + x)*3 + c (plus 12 per output row).
        for o in range(2):
            for c in range(3):
                for y in range(2):
                    for x in range(2):
                        assert net.fc.weight[o, c * 4 + y * 2 + x].item() == o * 12 + (y * 2 + x) * 3 + c
        assert net.bn1.num_batches_tracked.item() == 17 and net.bn1.num_batches_tracked.dtype == torch.int64
        assert net.bn1.running_mean.tolist() == [0.0, 1.0]
        print("ok")
        """
        let result = try PythonFinder.run(python, script: script, arguments: [path])
        XCTAssertEqual(result.status, 0, result.errors)
        XCTAssertEqual(result.output.trimmingCharacters(in: .whitespacesAndNewlines), "ok")
    }
}
