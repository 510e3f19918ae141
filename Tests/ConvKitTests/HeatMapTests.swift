import TestSupport
import XCTest
import ConvKit

final class HeatMapTests: XCTestCase {
    func testConstantAndZeroMapsAreFlatNotNoise() {
        for value: Float in [0, 3.5, -2, 1e-20] {
            let map = HeatMap(width: 4, height: 3, repeating: value)
            XCTAssertTrue(map.isFlat, "\(value)")
            XCTAssertEqual(map.normalized().values, [Float](repeating: 0, count: 12))
        }
        // Rounding noise on a constant is still flat.
        var noisy = HeatMap(width: 3, height: 1, repeating: 1000)
        noisy.values[1] = 1000.0001
        XCTAssertTrue(noisy.isFlat)
        XCTAssertEqual(noisy.normalized().values, [0, 0, 0])
        XCTAssertTrue(HeatMap(width: 2, height: 1, values: [.nan, .nan]).isFlat)
        // A bright upsample of a flat map stays flat.
        XCTAssertTrue(HeatMap(width: 2, height: 2, repeating: 5).resizedBilinear(width: 7, height: 7).isFlat)
    }

    func testNormalisationStretchesRealStructure() {
        let map = HeatMap(width: 2, height: 2, values: [2, 4, 6, 10])
        XCTAssertEqual(map.normalized().values, [0, 0.25, 0.5, 1])
        // Tiny magnitudes with real variation are not flat.
        let tiny = HeatMap(width: 2, height: 1, values: [1e-12, 3e-12])
        XCTAssertFalse(tiny.isFlat)
        XCTAssertEqual(tiny.normalized().values, [0, 1])
        let special = HeatMap(width: 4, height: 1, values: [0, .nan, .infinity, 2]).normalized()
        XCTAssertEqual(special.values, [0, 0, 1, 1])
    }

    func testSignedNormalisationPutsZeroAtTheMiddle() {
        let map = HeatMap(width: 3, height: 1, values: [-2, 0, 1])
        XCTAssertEqual(map.signedNormalized().values, [0, 0.5, 0.75])
        XCTAssertEqual(HeatMap(width: 2, height: 1, repeating: 0).signedNormalized().values, [0.5, 0.5])
    }

    func testBilinearMatchesPyTorchInterpolate() throws {
        guard let python = PythonFinder.torch() else {
            throw skip(.noTorch, "no Python with torch, safetensors and numpy (tried \(PythonFinder.candidates())); the comparison with F.interpolate did not run")
        }
        var random = RandomSource(seed: 5)
        let map = HeatMap(width: 5, height: 3, values: (0..<15).map { _ in random.uniform(-1, 1) })
        let script = """
        import sys, json, torch
        import torch.nn.functional as F
        v = torch.tensor(json.loads(sys.argv[1]), dtype=torch.float32).reshape(1, 1, 3, 5)
        out = {}
        for (h, w) in [(7, 13), (2, 3), (8, 8), (3, 5)]:
            out[f"{h}x{w}"] = F.interpolate(v, size=(h, w), mode="bilinear", align_corners=False).flatten().tolist()
        print(json.dumps(out))
        """
        let input = "[" + map.values.map { "\($0)" }.joined(separator: ",") + "]"
        let result = try PythonFinder.run(python, script: script, arguments: [input])
        XCTAssertEqual(result.status, 0, result.errors)
        let torch = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: [Double]])
        for (h, w) in [(7, 13), (2, 3), (8, 8), (3, 5)] {
            let ours = map.resizedBilinear(width: w, height: h).values
            let theirs = try XCTUnwrap(torch["\(h)x\(w)"])
            XCTAssertEqual(ours.count, theirs.count)
            for (a, b) in zip(ours, theirs) { XCTAssertEqual(Double(a), b, accuracy: 1e-6, "\(h)x\(w)") }
        }
    }
}
