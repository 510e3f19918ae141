import Foundation
import TestSupport
import XCTest
@testable import ConvKit

/// Every explanation method against the reference implementations on the same weights: pytorch-grad-cam
/// for the CAM family, Captum for pixel attribution (docs/explanations.md states the tolerances).
///
/// `Fixtures/<model>-attribution.{json,safetensors}` hold the references' answers for the committed
/// checkpoints of `PyTorchEqualityTests`, made by `Fixtures/attribution_reference.py`; the live test
/// remakes them whenever a Python with torch, grad-cam and captum is available (and refreshes the
/// fixtures with `CONVSCOPE_UPDATE_FIXTURES=1`).
final class AttributionReferenceTests: XCTestCase {
    static let models = ["residual", "flatten"]
    static let fixtures = PyTorchEqualityTests.fixtures

    /// Largest error allowed, relative to the reference's largest magnitude (or, for CAM maps whose sums
    /// cancel, to the size of the terms summed). Measured worst cases are in docs/explanations.md.
    static let camTolerance = 1e-4
    static let pixelTolerance = 1e-4
    /// Integrated Gradients with the black baseline and 50 steps: Captum's own float32 answer is 4.7e-3
    /// away from its float64 answer on the flatten model's image 1 (measured), so float32 rounding, not
    /// the method, sets this bound.
    static let integratedGradientsTolerance = 1e-2

    func testCommittedReferences() throws {
        for model in Self.models {
            let base = Self.fixtures.appendingPathComponent(model).path
            try compare(checkpoint: base + ".safetensors", inputs: base + "-inputs.safetensors", expected: base + "-attribution")
        }
    }

    func testLiveReferences() throws {
        guard let python = PythonFinder.torch() else {
            throw skip(.noTorch, "no Python with torch (tried \(PythonFinder.candidates()); set CONVSCOPE_PYTHON); the committed references still ran")
        }
        let script = Self.fixtures.appendingPathComponent("attribution_reference.py").path
        guard run(python, [script, "--check"]) == 0 else {
            throw skip(.noTorch, "\(python) lacks grad-cam or captum (pip install grad-cam==1.5.7 captum==0.9.0 ttach opencv-python-headless scikit-learn); the committed references still ran")
        }
        let folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("convscope-attribution-\(getpid())")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for model in Self.models {
            let base = Self.fixtures.appendingPathComponent(model).path
            let out = (folder as NSString).appendingPathComponent(model + "-attribution")
            XCTAssertEqual(run(python, [script, base + ".safetensors", base + "-inputs.safetensors", out]), 0, "attribution_reference.py failed for \(model)")
            try compare(checkpoint: base + ".safetensors", inputs: base + "-inputs.safetensors", expected: out)
            if ProcessInfo.processInfo.environment["CONVSCOPE_UPDATE_FIXTURES"] != nil {
                for suffix in [".json", ".safetensors"] {
                    let target = base + "-attribution" + suffix
                    try? FileManager.default.removeItem(atPath: target)
                    try FileManager.default.copyItem(atPath: out + suffix, toPath: target)
                }
            }
        }
    }

    private func run(_ executable: String, _ arguments: [String]) -> Int32 {
        (try? TestProcess.run(executable, arguments))?.status ?? -1
    }

    /// NCHW floats of one image to the engine's channels-last layout.
    private func channelsLast(_ chw: ArraySlice<Float>, channels: Int = 3, pixels: Int = 1024) -> [Float] {
        let start = chw.startIndex
        var out = [Float](repeating: 0, count: channels * pixels)
        for c in 0..<channels { for p in 0..<pixels { out[p * channels + c] = chw[start + c * pixels + p] } }
        return out
    }

    private func compare(checkpoint: String, inputs: String, expected: String) throws {
        let loaded = try RunCheckpoint.load(checkpoint)
        let images = try XCTUnwrap(try SafeTensors(contentsOf: inputs)["images"]?.floats)
        let tensors = try SafeTensors(contentsOf: expected + ".safetensors")
        let reference = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: expected + ".json"))) as? [String: Any])
        let cases = try XCTUnwrap(reference["cases"] as? [[String: Any]])
        XCTAssertGreaterThan(cases.count, 50)
        let inspector = Inspector(network: loaded.network)
        var worst: [String: Double] = [:]
        var current = -1
        for entry in cases {
            let index = try XCTUnwrap(entry["image"] as? Int), cls = try XCTUnwrap(entry["cls"] as? Int)
            let method = try XCTUnwrap(entry["method"] as? String)
            let theirs = try XCTUnwrap(tensors[try XCTUnwrap(entry["tensor"] as? String)]?.floats)
            if index != current {
                inspector.run(Tensor(batch: 1, shape: .cifarImage, values: channelsLast(images[(index * 3072)..<((index + 1) * 3072)])))
                current = index
            }
            let label = "\(loaded.network.spec) image \(index) \(method) \(entry["layer"] as? String ?? "") \(entry["baseline"] as? String ?? "") \(entry["steps"] as? Int ?? 0) class \(cls)"
            let ours: [Float], scale: Double
            if entry["kind"] as? String == "cam" {
                let layer = try XCTUnwrap(entry["layer"] as? String)
                let map = try inspector.activationMap(layer: layer, classIndex: cls, method: try XCTUnwrap(ActivationMapMethod(rawValue: method)))
                ours = map.values
                // Score-CAM's and Eigen-CAM's terms are activations only; a sum that cancels is judged
                // against the size of what it adds up.
                // XGrad-CAM divides by each channel's activation sum, which can cancel too: judged, as above,
                // against 1% of what the map's rounding is amplified to.
                let conditioned = method == ActivationMapMethod.xGradCAM.rawValue
                    ? try xGradCAMConditionedSize(inspector, layer: layer, classIndex: cls) : 0
                scale = max(Double(theirs.map(abs).max() ?? 0), (entry["terms"] as? Double ?? 0) * 1e-2, conditioned * 1e-2, 1e-6)
            } else {
                ours = try pixelAttribution(inspector, entry, tensors: tensors, method: method, cls: cls)
                scale = max(Double(theirs.map(abs).max() ?? 0), 1e-6)
                if let delta = entry["delta"] as? Double {
                    var options = AttributionOptions()
                    options.baseline = try XCTUnwrap(AttributionBaseline(rawValue: try XCTUnwrap(entry["baseline"] as? String)))
                    options.steps = try XCTUnwrap(entry["steps"] as? Int)
                    let gap = try XCTUnwrap(try inspector.pixelAttribution(.integratedGradients, classIndex: cls, options: options).completenessGap)
                    // The gap is a difference of logits: its rounding is relative to the logits' size.
                    XCTAssertEqual(Double(gap), delta, accuracy: 1e-4 * max(1, Double(inspector.logits.map(abs).max() ?? 0)), "\(label) completeness gap")
                }
            }
            let theirsLast = entry["kind"] as? String == "cam" ? theirs : channelsLast(theirs[...])
            XCTAssertEqual(ours.count, theirsLast.count, label)
            let error = zip(ours, theirsLast).map { abs(Double($0) - Double($1)) }.max() ?? .infinity
            let relative = error / scale
            worst[method] = max(worst[method] ?? 0, relative)
            let tolerance = entry["kind"] as? String == "cam"
                ? Self.camTolerance : method == "integrated-gradients" ? Self.integratedGradientsTolerance : Self.pixelTolerance
            XCTAssertLessThanOrEqual(relative, tolerance, "\(label): off by \(error) of \(scale)")
        }
        let summary = worst.sorted { $0.key < $1.key }.map { String(format: "%@ %.1e", $0.key, $0.value) }.joined(separator: ", ")
        print("worst relative error, \(loaded.network.spec): \(summary)")
        XCTAssertEqual(Set(worst.keys).count, 15, "every method compared: \(worst.keys.sorted())")
    }

    /// The first-order size of XGrad-CAM's rounding, `max_p sum_k |w_k A_k(p)| (1 + kappa_k + lambda_k)`:
    /// `w_k = sum g A / sum A`, and `kappa_k = sum |A_k| / |sum A_k|`, `lambda_k = sum |g_k A_k| / |sum g_k A_k|`
    /// are how much the two sums amplify relative errors in their terms. A channel whose activations sum
    /// to almost nothing (measured: 0.05 out of 23.5 on the residual model's conv2, so kappa = 458) gets a
    /// large weight that both implementations know only to float32 rounding times kappa, and the map
    /// differs by that much whatever the CPU's kernels.
    private func xGradCAMConditionedSize(_ inspector: Inspector, layer name: String, classIndex: Int) throws -> Double {
        let layer = try inspector.spatialLayer(name)
        let a = try XCTUnwrap(layer.lastOutput).array
        let g = try inspector.layerGradient(layer, classIndex: classIndex)
        let positions = layer.outputShape.spatialCount, channels = layer.outputShape.channels
        var weights = [Double](repeating: 0, count: channels), gains = [Double](repeating: 1, count: channels)
        for k in 0..<channels {
            var sum = 0.0, magnitude = 0.0, product = 0.0, productMagnitude = 0.0
            for p in 0..<positions {
                let x = Double(a[p * channels + k]), y = Double(g[p * channels + k]) * x
                sum += x; magnitude += abs(x); product += y; productMagnitude += abs(y)
            }
            guard sum != 0, product != 0 else { continue }
            weights[k] = product / sum
            gains[k] = 1 + magnitude / abs(sum) + productMagnitude / abs(product)
        }
        return (0..<positions).map { p in
            (0..<channels).reduce(0.0) { $0 + abs(weights[$1] * Double(a[p * channels + $1])) * gains[$1] }
        }.max() ?? 0
    }

    private func pixelAttribution(
        _ inspector: Inspector, _ entry: [String: Any], tensors: SafeTensors, method: String, cls: Int
    ) throws -> [Float] {
        var options = AttributionOptions()
        switch method {
        case "smoothgrad":
            let noise = try XCTUnwrap(tensors[try XCTUnwrap(entry["noise"] as? String)]?.floats)
            let samples = (0..<(noise.count / 3072)).map { channelsLast(noise[($0 * 3072)..<(($0 + 1) * 3072)]) }
            return try inspector.smoothGrad(noise: samples, classIndex: cls)
        case "rise":
            let masks = try XCTUnwrap(tensors[try XCTUnwrap(entry["masks"] as? String)]?.floats)
            let list = (0..<(masks.count / 1024)).map { Array(masks[($0 * 1024)..<(($0 + 1) * 1024)]) }
            return try inspector.rise(masks: list, keep: Float(try XCTUnwrap(entry["keep"] as? Double)), classIndex: cls)
        case "integrated-gradients":
            options.baseline = try XCTUnwrap(AttributionBaseline(rawValue: try XCTUnwrap(entry["baseline"] as? String)))
            options.steps = try XCTUnwrap(entry["steps"] as? Int)
        case "occlusion":
            options.patch = try XCTUnwrap(entry["patch"] as? Int)
            options.stride = try XCTUnwrap(entry["stride"] as? Int)
        default:
            break
        }
        let pixelMethod = try XCTUnwrap(PixelAttributionMethod(rawValue: method))
        return try inspector.pixelAttribution(pixelMethod, layer: entry["layer"] as? String, classIndex: cls, options: options).attribution
    }
}
