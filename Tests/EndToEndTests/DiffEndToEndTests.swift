import ConvKit
import Foundation
import TestSupport
import XCTest

/// `convscope diff` run as a script runs it: the table, the JSON, and the one-line errors.
final class DiffEndToEndTests: XCTestCase {
    private var temporary: TemporaryFolder!
    private var folder: String { temporary.path }

    override func setUpWithError() throws {
        temporary = try TemporaryFolder("diff-e2e")
    }

    override func tearDown() {
        temporary = nil
    }

    private func checkpointAndPrunedCopy() throws -> (String, String) { try trainedAndPrunedCheckpoints(in: folder) }

    private func json(_ run: Convscope.Result) throws -> [String: Any] {
        XCTAssertEqual(run.status, 0, run.stderr)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    }

    func testDiffTableJSONAndErrors() throws {
        let (a, b) = try checkpointAndPrunedCopy()

        // Against itself: no change, no flips.
        let same = try json(Convscope.run(["diff", a, a, "--data", "synthetic", "--json"]))
        let sameLayers = try XCTUnwrap(same["layers"] as? [[String: Any]])
        XCTAssertEqual(sameLayers.map { $0["layer"] as? String }, ["conv1", "conv2", "conv3", "fc1"])
        XCTAssertTrue(sameLayers.allSatisfy { $0["relative_change"] as? Double == 0 }, "\(sameLayers)")
        XCTAssertEqual((same["flips"] as? [String: Any])?["count"] as? Int, 0)
        XCTAssertEqual((same["a"] as? [String: Any])?["accuracy"] as? Double, (same["b"] as? [String: Any])?["accuracy"] as? Double)

        // Against the pruned copy: every layer changes, cosine below 1, half its weights zero; flips add up.
        let pruned = try json(Convscope.run(["diff", a, b, "--data", "synthetic", "--images", "500", "--json"]))
        XCTAssertEqual(pruned["images"] as? Int, 500)
        for layer in try XCTUnwrap(pruned["layers"] as? [[String: Any]]) {
            XCTAssertGreaterThan(layer["relative_change"] as? Double ?? 0, 0, "\(layer)")
            XCTAssertLessThan(layer["cosine"] as? Double ?? 1, 1, "\(layer)")
            XCTAssertEqual(layer["zero_share_b"] as? Double ?? 0, 0.5, accuracy: 0.01, "\(layer)")
        }
        let flips = try XCTUnwrap(pruned["flips"] as? [String: Any])
        let listed = try XCTUnwrap(flips["images"] as? [[String: Any]])
        XCTAssertEqual(listed.count, flips["count"] as? Int)
        XCTAssertEqual(
            (flips["right_to_wrong"] as? Int ?? -1) + (flips["wrong_to_right"] as? Int ?? -1) + (flips["wrong_to_other_wrong"] as? Int ?? -1),
            listed.count)
        for flip in listed {
            XCTAssertNotEqual((flip["a"] as? [String: Any])?["class"] as? String, (flip["b"] as? [String: Any])?["class"] as? String)
        }

        let table = try Convscope.run(["diff", a, b, "--data", "synthetic", "--images", "500"])
        XCTAssertEqual(table.status, 0, table.stderr)
        for text in ["||B-A||/||A||", "cosine", "conv1", "fc1", "50.0%", "accuracy on 500 SYNTHETIC test images: A ", "class", "flips ("] {
            XCTAssertTrue(table.stdout.contains(text), "\(text) in:\n\(table.stdout)")
        }

        // Bad input: one line naming the file or the value, non-zero exit.
        let missing = try Convscope.run(["diff", a, folder + "/absent.safetensors", "--data", "synthetic"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("absent.safetensors"), missing.stderr)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1, missing.stderr)

        var file = try SafeTensors(contentsOf: b)
        let index = try XCTUnwrap(file.tensors.firstIndex { $0.name == "conv2.weight" })
        let entry = file.tensors[index]
        var values = try XCTUnwrap(entry.floats)
        values[3] = .nan
        file.tensors[index] = SafeTensors.Entry(name: entry.name, shape: entry.shape, floats: values)
        let broken = folder + "/nan.safetensors"
        try file.write(to: broken)
        let nan = try Convscope.run(["diff", a, broken, "--data", "synthetic"])
        XCTAssertEqual(nan.status, 1)
        XCTAssertTrue(nan.stderr.contains("nan.safetensors") && nan.stderr.contains("conv2.weight"), nan.stderr)
        XCTAssertEqual(nan.stderr.split(separator: "\n").count, 1, nan.stderr)

        let other = folder + "/other.safetensors"
        let train = try Convscope.run([
            "train", "--model", "flatten,fc10", "--data", "synthetic", "--epochs", "1", "--train-limit", "64", "--checkpoint", other,
        ])
        XCTAssertEqual(train.status, 0, train.stderr)
        let convOnly = folder + "/conv.safetensors"
        let trainConv = try Convscope.run([
            "train", "--model", "conv10,gap", "--data", "synthetic", "--epochs", "1", "--train-limit", "64", "--checkpoint", convOnly,
        ])
        XCTAssertEqual(trainConv.status, 0, trainConv.stderr)
        let unrelated = try Convscope.run(["diff", other, convOnly, "--data", "synthetic"])
        XCTAssertEqual(unrelated.status, 1)
        XCTAssertTrue(unrelated.stderr.contains("share no layer"), unrelated.stderr)
        XCTAssertEqual(unrelated.stderr.split(separator: "\n").count, 1, unrelated.stderr)
        // Another architecture with the same classes compares by its predictions, and says why the weights do not.
        let student = try Convscope.run(["diff", a, other, "--data", "synthetic", "--images", "200"])
        XCTAssertEqual(student.status, 0, student.stderr)
        XCTAssertTrue(student.stdout.contains("shapes differ") && student.stdout.contains("only in A"), student.stdout)
        XCTAssertTrue(student.stdout.contains("compare by their predictions only"), student.stdout)

        let usage = try Convscope.run(["diff", a, b, "--images", "0"])
        XCTAssertEqual(usage.status, 2)
        XCTAssertTrue(usage.stderr.contains("--images"), usage.stderr)
    }
}

/// A short synthetic run in `folder` (`a.safetensors`) and its copy with half of every conv and fc weight pruned
/// (`b.safetensors`).
func trainedAndPrunedCheckpoints(in folder: String, file: StaticString = #filePath, line: UInt = #line) throws -> (String, String) {
    let a = folder + "/a.safetensors", b = folder + "/b.safetensors"
    let train = try Convscope.run([
        "train", "--model", "tiny", "--data", "synthetic", "--epochs", "1", "--batch", "64", "--train-limit", "640", "--checkpoint", a,
    ])
    XCTAssertEqual(train.status, 0, train.stderr, file: file, line: line)
    let prune = try Convscope.run(["prune", "--checkpoint", a, "--amount", "0.5", "--out", b, "--data", "synthetic"])
    XCTAssertEqual(prune.status, 0, prune.stderr, file: file, line: line)
    return (a, b)
}
