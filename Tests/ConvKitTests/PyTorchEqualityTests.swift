import Foundation
import TestSupport
import XCTest
import ConvKit

/// Our numbers against PyTorch's on the same weights: a checkpoint loads into `specnet.py`'s model and
/// gives the same logits, and Grad-CAM maps agree to 1e-4 of the largest value or term they sum.
///
/// `Fixtures/` holds checkpoints, inputs and PyTorch's answers made by `Fixtures/torch_reference.py`
/// (regenerate with `CONVSCOPE_UPDATE_FIXTURES=1` and a Python with torch); the live test redoes the
/// comparison on freshly trained weights whenever such a Python is available.
final class PyTorchEqualityTests: XCTestCase {
    static let models = [
        ("residual", "conv8,bn,relu,res8,res16s2,maxpool,conv16,bn,relu,gap,fc10"),
        ("flatten", "conv8,bn,relu,maxpool,conv16,relu,maxpool,flatten,fc32,relu,dropout,fc10"),
    ]
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    func testCommittedPyTorchReference() throws {
        for (name, _) in Self.models {
            let base = Self.fixtures.appendingPathComponent(name).path
            try compare(checkpoint: base + ".safetensors", inputs: base + "-inputs.safetensors", expected: base + "-expected.json")
        }
    }

    func testLivePyTorch() throws {
        guard let python = PythonFinder.torch() else {
            throw skip(.noTorch, "no Python with torch, safetensors and numpy (tried \(PythonFinder.candidates()); set CONVSCOPE_PYTHON); the committed fixtures still ran")
        }
        // torch_reference.py imports specnet.py from SPECNET_DIR or the shared bench folder beside the checkout.
        let specnetFolder = ProcessInfo.processInfo.environment["SPECNET_DIR"]
            ?? Self.fixtures.appendingPathComponent("../../../../shared/bench").standardized.path
        guard FileManager.default.fileExists(atPath: (specnetFolder as NSString).appendingPathComponent("specnet.py")) else {
            throw skip(.noTorch, "no specnet.py (the PyTorch reference) in \(specnetFolder) (set SPECNET_DIR); the committed fixtures still ran")
        }
        let folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("convscope-torch-\(getpid())")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for (name, spec) in Self.models {
            let base = (folder as NSString).appendingPathComponent(name)
            try makeCheckpointAndInputs(spec: spec, checkpoint: base + ".safetensors", inputs: base + "-inputs.safetensors")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = [
                Self.fixtures.appendingPathComponent("torch_reference.py").path, base + ".safetensors",
                base + "-inputs.safetensors", base + "-expected.json",
            ]
            try process.run()
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0, "torch_reference.py failed for \(name)")
            try compare(checkpoint: base + ".safetensors", inputs: base + "-inputs.safetensors", expected: base + "-expected.json")
            if ProcessInfo.processInfo.environment["CONVSCOPE_UPDATE_FIXTURES"] != nil {
                for suffix in [".safetensors", "-inputs.safetensors", "-expected.json"] {
                    let target = Self.fixtures.appendingPathComponent(name + suffix).path
                    try? FileManager.default.removeItem(atPath: target)
                    try FileManager.default.copyItem(atPath: base + suffix, toPath: target)
                }
            }
        }
    }

    /// Trains `spec` briefly on synthetic images (so batch-norm statistics are not trivial) and writes
    /// the checkpoint and four normalised test images (NCHW, as PyTorch takes them).
    private func makeCheckpointAndInputs(spec: String, checkpoint: String, inputs: String) throws {
        let dataset = SyntheticDataset.generate(seed: 11, trainCount: 320, testCount: 8)
        let trainer = try Trainer(config: TrainingConfig(model: spec, epochs: 1, batchSize: 32, seed: 3), dataset: dataset)
        while !trainer.isFinished { trainer.step() }
        try RunCheckpoint.save(trainer, to: checkpoint)
        var nchw: [Float] = []
        let buffer = FloatBuffer()
        for i in 0..<4 {
            let x = BatchAssembler().tensor(dataset.test, index: i, into: buffer).array
            for c in 0..<3 { for p in 0..<1024 { nchw.append(x[p * 3 + c]) } }
        }
        try SafeTensors(tensors: [SafeTensors.Entry(name: "images", shape: [4, 3, 32, 32], floats: nchw)], metadata: [:]).write(to: inputs)
    }

    private func compare(checkpoint: String, inputs: String, expected: String) throws {
        let loaded = try RunCheckpoint.load(checkpoint)
        let images = try XCTUnwrap(try SafeTensors(contentsOf: inputs)["images"]?.floats)
        let reference = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: expected))) as? [String: Any])
        let logits = try XCTUnwrap(reference["logits"] as? [[Double]])
        let maps = try XCTUnwrap(reference["gradcam"] as? [[String: Any]])
        XCTAssertGreaterThan(maps.count, 8)
        let inspector = Inspector(network: loaded.network)
        for i in 0..<logits.count {
            var nhwc = [Float](repeating: 0, count: 3072)
            for c in 0..<3 { for p in 0..<1024 { nhwc[p * 3 + c] = images[i * 3072 + c * 1024 + p] } }
            let ours = inspector.run(Tensor(batch: 1, shape: .cifarImage, values: nhwc))
            for (a, b) in zip(ours, logits[i]) {
                XCTAssertEqual(Double(a), b, accuracy: 1e-4 * max(1, abs(b)), "\(loaded.network.spec) image \(i) logits")
            }
            for entry in maps where entry["image"] as? Int == i {
                let layer = try XCTUnwrap(entry["layer"] as? String), cls = try XCTUnwrap(entry["class"] as? Int)
                let theirs = try XCTUnwrap(entry["map"] as? [[Double]]).flatMap { $0 }
                let map = try inspector.activationMap(layer: layer, classIndex: cls, method: .gradCAM)
                XCTAssertEqual(map.values.count, theirs.count, layer)
                // A map with hardly any positive evidence is a sum that cancels to almost nothing; its
                // rounding error is relative to the size of the terms summed (`terms`), not to the result.
                let terms = entry["terms"] as? Double ?? 0
                let scale = max(theirs.max() ?? 0, terms, 1e-6)
                let worst = zip(map.values, theirs).map { abs(Double($0) - $1) }.max() ?? 0
                XCTAssertLessThanOrEqual(worst / scale, 1e-4, "Grad-CAM at \(layer) class \(cls) image \(i): off by \(worst) of \(scale)")
            }
        }
    }
}
