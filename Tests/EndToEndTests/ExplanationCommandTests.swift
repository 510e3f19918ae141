import Foundation
import TestSupport
import XCTest
import ConvKit
import ConvRender

/// `convscope gradcam --method` for every method, and `convscope faithfulness`, as a script uses them.
final class ExplanationCommandTests: XCTestCase {
    private var temporary: TemporaryFolder!
    private var folder: String { temporary.path }

    override func setUpWithError() throws {
        temporary = try TemporaryFolder("explain")
    }

    override func tearDown() { temporary = nil }

    private func checkpoint() throws -> String {
        let path = (folder as NSString).appendingPathComponent("model.safetensors")
        let run = try Convscope.run([
            "train", "--model", "conv8,bn,relu,maxpool,conv16,bn,relu,gap,fc10", "--data", "synthetic", "--epochs", "1",
            "--batch", "64", "--train-limit", "640", "--checkpoint", path,
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        return path
    }

    func testEveryMethodGivesItsMapAndPixelMethodsTheirAttribution() throws {
        let model = try checkpoint()
        for method in ExplanationMethod.allCases {
            var arguments = ["gradcam", "--checkpoint", model, "--data", "synthetic", "--index", "3", "--method", method.rawValue, "--json"]
            if method == .pixel(.rise) { arguments += ["--masks", "64"] }
            if method == .pixel(.smoothGrad) { arguments += ["--samples", "4"] }
            let png = (folder as NSString).appendingPathComponent("\(method.rawValue).png")
            let run = try Convscope.run(arguments + ["--out", png, "--style", "strip"])
            XCTAssertEqual(run.status, 0, "\(method): \(run.stderr)")
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], method.rawValue)
            XCTAssertEqual(object["method"] as? String, method.rawValue)
            let map = try XCTUnwrap(object["map"] as? [[Double]], method.rawValue)
            switch method {
            case .activation:
                XCTAssertEqual(map.count, 16, "\(method): at relu2's 16x16")
                XCTAssertNil(object["attribution"])
            case .pixel(let pixel):
                XCTAssertEqual(map.count, 32, method.rawValue)
                XCTAssertEqual(map[0].count, 32, method.rawValue)
                let attribution = try XCTUnwrap(object["attribution"] as? [[[Double]]], method.rawValue)
                XCTAssertEqual([attribution.count, attribution[0].count, attribution[0][0].count], [3, 32, 32], method.rawValue)
                XCTAssertEqual(object["signed"] as? Bool, pixel.isSigned)
                XCTAssertTrue(map.joined().contains { $0 != 0 }, "\(method) gives a map with something in it")
                if pixel == .integratedGradients {
                    // Completeness: the attributions add up to the logit change, up to the quadrature's gap.
                    let gap = try XCTUnwrap(object["completeness_gap"] as? Double)
                    let sum = try XCTUnwrap(object["attribution_sum"] as? Double)
                    XCTAssertLessThan(abs(gap), 0.05 * max(abs(sum), 0.1), "gap \(gap) for sum \(sum)")
                }
            }
            XCTAssertEqual(try PNG.read(contentsOf: png).height > 256, true)
        }
    }

    func testBadOptionsAreOneLineErrors() throws {
        let model = try checkpoint()
        for (arguments, message) in [
            (["--method", "gradcam+++"], "The value 'gradcam+++' is invalid for '--method <method>'"),
            (["--method", "occlusion", "--patch", "40"], "--patch must be between 1 and 32"),
            (["--method", "occlusion", "--patch", "4", "--stride", "5"], "--stride must be between 1 and the patch"),
            (
                ["--method", "integrated-gradients", "--baseline", "white"],
                "The value 'white' is invalid for '--baseline <baseline>'. Please provide one of 'black', 'blur' or 'mean'"
            ),
            (["--method", "rise", "--masks", "0"], "--masks must be between"),
        ] {
            let run = try Convscope.run(["gradcam", "--checkpoint", model, "--data", "synthetic", "--index", "0", "--json"] + arguments)
            XCTAssertNotEqual(run.status, 0, arguments.joined(separator: " "))
            XCTAssertTrue(run.stderr.contains(message), run.stderr)
        }
        let inside = try Convscope.run([
            "gradcam", "--checkpoint", model, "--data", "synthetic", "--index", "0", "--json", "--method", "ablationcam", "--layer", "fc1",
        ])
        XCTAssertEqual(inside.status, 1)
        XCTAssertTrue(inside.stderr.contains("no spatial output"), inside.stderr)
    }

    func testFaithfulnessTableHasEveryMethodAndTheBaselines() throws {
        let model = try checkpoint()
        let run = try Convscope.run([
            "faithfulness", "--checkpoint", model, "--data", "synthetic", "--images", "2", "--methods", "gradcam,saliency,occlusion", "--json",
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let rows = try XCTUnwrap(object["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["method"] as? String }, ["gradcam", "saliency", "occlusion", "random (baseline)", "sobel (baseline)", "constant (baseline)"])
        for row in rows {
            let errors = try XCTUnwrap(row["standard_error"] as? [String: Double], "\(row["method"] ?? "")")
            for key in ["deletion", "insertion", "road_morf", "road_lerf", "average_drop", "increase_in_confidence"] {
                XCTAssertNotNil(row[key] as? Double, "\(row["method"] ?? "") \(key)")
                XCTAssertGreaterThanOrEqual(try XCTUnwrap(errors[key], key), 0)
            }
        }
        let bad = try Convscope.run(["faithfulness", "--checkpoint", model, "--data", "synthetic", "--methods", "gradcam,nope"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("unknown method 'nope'"), bad.stderr)
    }

    func testSanityPrintsBothCurvesAndJSON() throws {
        let model = try checkpoint()
        let run = try Convscope.run([
            "sanity", "--checkpoint", model, "--data", "synthetic", "--index", "2", "--methods", "gradcam,guided-backprop", "--json",
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let modes = try XCTUnwrap(object["modes"] as? [[String: Any]])
        XCTAssertEqual(modes.map { $0["mode"] as? String }, ["cascading", "independent"])
        for mode in modes {
            let steps = try XCTUnwrap(mode["steps"] as? [[String: Any]])
            XCTAssertEqual(steps.map { $0["layer"] as? String }, ["fc1", "conv2", "conv1"])
            for step in steps {
                for key in ["spearman", "ssim"] {
                    let values = try XCTUnwrap(step[key] as? [Double])
                    XCTAssertEqual(values.count, 2)
                    XCTAssertTrue(values.allSatisfy { (-1.0001...1.0001).contains($0) }, "\(key) \(values)")
                }
            }
        }
        let png = (folder as NSString).appendingPathComponent("sanity.png")
        let table = try Convscope.run(["sanity", "--checkpoint", model, "--data", "synthetic", "--index", "2", "--mode", "independent", "--png", png])
        XCTAssertEqual(table.status, 0, table.stderr)
        // Seven default methods, each a row of four tiles (trained, fc1, conv2, conv1) of 64 pixels.
        let picture = try PNG.read(contentsOf: png)
        XCTAssertGreaterThan(picture.width, 4 * 64)
        XCTAssertGreaterThan(picture.height, 7 * 64)
        XCTAssertTrue(table.stdout.contains("independent randomisation"), table.stdout)
        let bad = try Convscope.run(["sanity", "--checkpoint", model, "--data", "synthetic", "--mode", "sideways"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(
            bad.stderr.contains("The value 'sideways' is invalid for '--mode <mode>'. Please provide one of 'cascading', 'independent' or 'both'"),
            bad.stderr)
    }

    func testDataRandomisationTrainsOnShuffledLabelsAndComparesTheMaps() throws {
        // The shuffle keeps every class's count, breaks the image-label link, and replays from its seed.
        let images = try Dataset.load(.synthetic(seed: 0)).train.subset(first: 640)
        let shuffled = DataRandomisationTest.shuffledLabels(images, seed: 7)
        XCTAssertEqual(shuffled.pixels, images.pixels)
        XCTAssertEqual(shuffled.labels.sorted(), images.labels.sorted())
        XCTAssertLessThan(zip(shuffled.labels, images.labels).filter { $0 == $1 }.count, 640 / 4, "most labels move")
        XCTAssertEqual(DataRandomisationTest.shuffledLabels(images, seed: 7).labels, shuffled.labels)
        XCTAssertNotEqual(DataRandomisationTest.shuffledLabels(images, seed: 8).labels, shuffled.labels)

        let model = try checkpoint()
        let before = try XCTUnwrap(FileManager.default.contents(atPath: model))
        let run = try Convscope.run([
            "sanity", "--checkpoint", model, "--data", "synthetic", "--index", "2", "--data-randomisation", "--epochs", "2",
            "--train-limit", "640", "--seed", "5", "--methods", "gradcam,saliency", "--json",
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], run.stdout)
        XCTAssertEqual(object["epochs"] as? Int, 2)
        XCTAssertEqual(object["train_images"] as? Int, 640)
        let test = try XCTUnwrap(object["shuffled_labels_test_accuracy"] as? Double)
        XCTAssertTrue((0...1).contains(test), "\(test)")
        let methods = try XCTUnwrap(object["methods"] as? [[String: Any]])
        XCTAssertEqual(methods.map { $0["method"] as? String }, ["gradcam", "saliency"])
        for method in methods {
            let spearman = try XCTUnwrap(method["spearman"] as? Double), ssim = try XCTUnwrap(method["ssim"] as? Double)
            XCTAssertTrue((-1.0001...1.0001).contains(spearman) && (-1.0001...1.0001).contains(ssim), "\(method)")
            // A different network: its maps are not the checkpoint's.
            XCTAssertLessThan(spearman, 0.999, "\(method)")
        }
        XCTAssertEqual(FileManager.default.contents(atPath: model), before, "the checkpoint is only read")

        let table = try Convscope.run([
            "sanity", "--checkpoint", model, "--data", "synthetic", "--index", "2", "--data-randomisation", "--epochs", "1",
            "--train-limit", "320", "--methods", "gradcam",
        ])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.stdout.contains("with shuffled labels"), table.stdout)
        XCTAssertNotNil(table.stdout.range(of: #"gradcam +-?\d\.\d\d +-?\d\.\d\d"#, options: .regularExpression), table.stdout)

        let zero = try Convscope.run(["sanity", "--checkpoint", model, "--data", "synthetic", "--data-randomisation", "--epochs", "0"])
        XCTAssertNotEqual(zero.status, 0)
        XCTAssertTrue(zero.stderr.contains("--epochs must be between 1 and 1000, not 0"), zero.stderr)
        let alone = try Convscope.run(["sanity", "--checkpoint", model, "--data", "synthetic", "--epochs", "2"])
        XCTAssertNotEqual(alone.status, 0)
        XCTAssertTrue(alone.stderr.contains("--epochs and --train-limit go with --data-randomisation"), alone.stderr)
    }
}
