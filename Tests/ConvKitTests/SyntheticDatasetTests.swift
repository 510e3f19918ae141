import Foundation
import XCTest
import ConvKit

final class SyntheticDatasetTests: XCTestCase {
    func testSameSeedSameBytesDifferentSeedDifferentBytes() {
        let a = SyntheticDataset.generate(seed: 42, trainCount: 500, testCount: 100)
        let b = SyntheticDataset.generate(seed: 42, trainCount: 500, testCount: 100)
        let c = SyntheticDataset.generate(seed: 43, trainCount: 500, testCount: 100)
        XCTAssertEqual(a.train, b.train)
        XCTAssertEqual(a.test, b.test)
        XCTAssertNotEqual(a.train.pixels, c.train.pixels)
        XCTAssertNotEqual(a.test.pixels, c.test.pixels)
        XCTAssertNotEqual(Array(a.train.pixels.prefix(100 * 3072)), a.test.pixels, "train and test are drawn separately")
        // A prefix of a larger set is the smaller set: image i depends only on the seed, split and i.
        XCTAssertEqual(SyntheticDataset.images(seed: 42, split: 0, count: 200), a.train.subset(first: 200))
    }

    func testDefaultSetIsBalancedAndLabelledLoudly() {
        let dataset = SyntheticDataset.generate(seed: 1)
        XCTAssertEqual(dataset.train.count, 10_000)
        XCTAssertEqual(dataset.test.count, 2_000)
        XCTAssertEqual(dataset.train.classCounts(), [Int](repeating: 1000, count: 10))
        XCTAssertEqual(dataset.test.classCounts(), [Int](repeating: 200, count: 10))
        XCTAssertEqual(dataset.displayName, "SYNTHETIC")
        XCTAssertTrue(dataset.isSynthetic)
        XCTAssertEqual(dataset.source, .synthetic(seed: 1))
        XCTAssertEqual(dataset.classNames, SyntheticDataset.classNames)
        XCTAssertEqual(Set(dataset.classNames).count, 10)
        XCTAssertTrue(Set(dataset.classNames).isDisjoint(with: Dataset.classNames), "synthetic classes must not pose as CIFAR-10's")
    }

    /// Images vary within a class (position, size, colour), and no two are the same.
    func testImagesVaryWithinAClass() {
        let set = SyntheticDataset.images(seed: 8, split: 0, count: 400)
        var seen = Set<[UInt8]>()
        for i in 0 ..< set.count { seen.insert(Array(set.image(i))) }
        XCTAssertEqual(seen.count, set.count)
        for shape in 0 ..< 10 {
            let members = (0 ..< set.count).filter { set.label($0) == shape }
            let meanRed = members.map { i in set.image(i).prefix(1024).reduce(0) { $0 + Int($1) } / 1024 }
            XCTAssertGreaterThan(meanRed.max()! - meanRed.min()!, 60, "class \(SyntheticDataset.classNames[shape]) colours vary")
        }
    }

    func testLoadThroughDatasetKeepsSourceAndLimit() throws {
        let dataset = try Dataset.load(.synthetic(seed: 5), trainLimit: 300)
        XCTAssertEqual(dataset.train.count, 300)
        XCTAssertEqual(dataset.test.count, SyntheticDataset.defaultTestCount)
        XCTAssertEqual(dataset.displayName, "SYNTHETIC")
        XCTAssertEqual(DataSource.synthetic(seed: 5).description, "SYNTHETIC (seed 5)")
    }
}
