import Foundation
import XCTest
import ConvKit

final class BatchAssemblerTests: XCTestCase {
    private let mean: [Double] = [0.4914, 0.4822, 0.4465]
    private let std: [Double] = [0.2470, 0.2435, 0.2616]

    /// `(byte / 255 - mean) / std`, computed here in Double, independently of `Normalization`.
    private func expected(_ byte: UInt8, _ channel: Int) -> Float {
        Float((Double(byte) / 255 - mean[channel]) / std[channel])
    }

    /// Image 0: red = 8 + 7x, green = 8 + 7y, blue = 77, so every pixel tells where it came from and none
    /// is black. Image 1: random bytes. Labels 6 and 2.
    private func codedSet() -> ImageSet {
        var pixels = [UInt8](repeating: 0, count: 2 * 3072)
        for y in 0 ..< 32 {
            for x in 0 ..< 32 {
                pixels[y * 32 + x] = UInt8(8 + 7 * x)
                pixels[1024 + y * 32 + x] = UInt8(8 + 7 * y)
                pixels[2048 + y * 32 + x] = 77
            }
        }
        var random = RandomSource(seed: 99)
        for i in 3072 ..< 6144 { pixels[i] = UInt8(truncatingIfNeeded: random.next()) }
        return ImageSet(pixels: pixels, labels: [6, 2])
    }

    private func assemble(
        _ set: ImageSet, _ indices: [Int], _ augmentation: Augmentation, seed: UInt64 = 1
    ) -> (values: [Float], labels: [Int]) {
        var random = RandomSource(seed: seed)
        var labels = [Int]()
        let tensor = BatchAssembler().assemble(
            set, indices: indices, augmentation: augmentation, random: &random, into: FloatBuffer(), labels: &labels)
        XCTAssertEqual(tensor.batch, indices.count)
        XCTAssertEqual(tensor.shape, .cifarImage)
        return (tensor.array, labels)
    }

    /// Element (y, x, c) of sample n in an NHWC CIFAR batch.
    private func at(_ values: [Float], _ n: Int, _ y: Int, _ x: Int, _ c: Int) -> Float {
        values[((n * 32 + y) * 32 + x) * 3 + c]
    }

    // MARK: Normalisation

    func testKnownPixelsNormalise() {
        let n = Normalization.cifar10
        XCTAssertEqual(n.normalize(byte: 255, channel: 0), Float((1 - 0.4914) / 0.2470), accuracy: 1e-5)
        XCTAssertEqual(n.normalize(byte: 255, channel: 0), 2.05911, accuracy: 1e-4)
        XCTAssertEqual(n.normalize(byte: 0, channel: 2), -1.70680, accuracy: 1e-4)
        XCTAssertEqual(n.normalize(byte: 128, channel: 1), Float((128.0 / 255 - 0.4822) / 0.2435), accuracy: 1e-5)
        XCTAssertEqual(n.byte(fromNormalized: n.normalize(byte: 200, channel: 1), channel: 1), 200)
        // Table and arithmetic paths agree exactly.
        for c in 0 ..< 3 {
            for b in 0 ... 255 { XCTAssertEqual(n.normalize(byte: UInt8(b), channel: c), n.normalize(Float(b), channel: c)) }
        }
    }

    func testWithEverythingOffTheBatchIsThePlainNormalisedImage() {
        let set = codedSet()
        let (values, labels) = assemble(set, [1, 0, 1], .none)
        XCTAssertEqual(labels, [2, 6, 2])
        for (n, source) in [1, 0, 1].enumerated() {
            for y in 0 ..< 32 {
                for x in 0 ..< 32 {
                    for c in 0 ..< 3 {
                        let byte = set.pixels[source * 3072 + c * 1024 + y * 32 + x]
                        XCTAssertEqual(at(values, n, y, x, c), expected(byte, c), accuracy: 1e-5)
                    }
                }
            }
        }
        // A known pixel: image 0 at (x 3, y 5) is red 29, green 43, blue 77.
        XCTAssertEqual(at(values, 1, 5, 3, 0), expected(29, 0), accuracy: 1e-6)
        XCTAssertEqual(at(values, 1, 5, 3, 1), expected(43, 1), accuracy: 1e-6)
        XCTAssertEqual(at(values, 1, 5, 3, 2), expected(77, 2), accuracy: 1e-6)
    }

    func testEmptyBatch() {
        var random = RandomSource(seed: 1)
        var labels = [7]
        let tensor = BatchAssembler().assemble(ImageSet(), indices: [Int](), augmentation: .standard, random: &random,
                                               into: FloatBuffer(), labels: &labels)
        XCTAssertEqual(tensor.batch, 0)
        XCTAssertEqual(labels, [])
    }

    func testSingleImageHelpersAgreeWithTheBatch() {
        let set = codedSet()
        let plain = assemble(set, [1], .none).values
        let single = BatchAssembler().tensor(set, index: 1, into: FloatBuffer())
        XCTAssertEqual(single.batch, 1)
        XCTAssertEqual(single.array, plain)
        let fromRGB = Normalization.cifar10.tensor(interleavedRGB: set.interleavedRGB(1), into: FloatBuffer())
        XCTAssertEqual(fromRGB.array, plain)
        XCTAssertEqual(Normalization.cifar10.interleavedRGB(fromNormalized: single.pointer), set.interleavedRGB(1))
    }

    // MARK: Augmentation

    func testFlipMirrors() {
        let set = codedSet()
        let plain = assemble(set, [0, 1], .none).values
        let flipped = assemble(set, [0, 1], Augmentation(horizontalFlip: true, flipProbability: 1)).values
        for n in 0 ..< 2 {
            for y in 0 ..< 32 {
                for x in 0 ..< 32 {
                    for c in 0 ..< 3 { XCTAssertEqual(at(flipped, n, y, x, c), at(plain, n, y, 31 - x, c)) }
                }
            }
        }
        XCTAssertEqual(assemble(set, [0, 1], Augmentation(horizontalFlip: true, flipProbability: 0)).values, plain)
        // At p = 0.5 both outcomes happen.
        let half = assemble(set, [Int](repeating: 0, count: 64), Augmentation(horizontalFlip: true)).values
        let mirrored = (0 ..< 64).filter { at(half, $0, 0, 0, 0) == at(plain, 0, 0, 31, 0) }.count
        XCTAssertGreaterThan(mirrored, 10)
        XCTAssertLessThan(mirrored, 54)
    }

    func testCropShiftsContentAndPadsWithTheMeanColour() {
        let set = codedSet()
        let count = 300
        let (values, _) = assemble(set, [Int](repeating: 0, count: count), Augmentation(crop: true), seed: 7)
        var shifts = Set<[Int]>()
        for n in 0 ..< count {
            // The shift is read off the centre pixel, which is never padding (shift is at most 4).
            let red = Normalization.cifar10.byte(fromNormalized: at(values, n, 16, 16, 0), channel: 0)
            let green = Normalization.cifar10.byte(fromNormalized: at(values, n, 16, 16, 1), channel: 1)
            let dx = (Int(red) - 8) / 7 - 16, dy = (Int(green) - 8) / 7 - 16
            XCTAssertTrue((-4 ... 4).contains(dx) && (-4 ... 4).contains(dy), "shift \(dx), \(dy)")
            shifts.insert([dx, dy])
            for y in 0 ..< 32 {
                for x in 0 ..< 32 {
                    let sx = x + dx, sy = y + dy
                    for c in 0 ..< 3 {
                        let want: Float
                        if (0 ..< 32).contains(sx) && (0 ..< 32).contains(sy) {
                            want = expected(set.pixels[c * 1024 + sy * 32 + sx], c)
                        } else {
                            want = 0  // the mean colour, normalised
                        }
                        XCTAssertEqual(at(values, n, y, x, c), want, accuracy: 1e-5, "image \(n) (\(x), \(y))")
                    }
                }
            }
        }
        // Shifts cover the whole -4 ... 4 range in both directions.
        XCTAssertEqual(Set(shifts.map { $0[0] }), Set(-4 ... 4))
        XCTAssertEqual(Set(shifts.map { $0[1] }), Set(-4 ... 4))
    }

    func testReflectPaddingMirrorsTheImageAtItsBorder() {
        let set = codedSet()
        var augmentation = Augmentation(crop: true, cropPadding: 2)
        augmentation.reflectPadding = true
        XCTAssertEqual(augmentation.description, "crop(reflect)")
        let count = 100
        let (values, _) = assemble(set, [Int](repeating: 0, count: count), augmentation, seed: 5)
        func mirrored(_ i: Int) -> Int { i < 0 ? -i : i > 31 ? 62 - i : i }
        var shifts = Set<[Int]>()
        for n in 0 ..< count {
            let red = Normalization.cifar10.byte(fromNormalized: at(values, n, 16, 16, 0), channel: 0)
            let green = Normalization.cifar10.byte(fromNormalized: at(values, n, 16, 16, 1), channel: 1)
            let dx = (Int(red) - 8) / 7 - 16, dy = (Int(green) - 8) / 7 - 16
            shifts.insert([dx, dy])
            for y in 0 ..< 32 {
                for x in 0 ..< 32 {
                    let sx = mirrored(x + dx), sy = mirrored(y + dy)
                    for c in 0 ..< 3 {
                        XCTAssertEqual(at(values, n, y, x, c), expected(set.pixels[c * 1024 + sy * 32 + sx], c), accuracy: 1e-5)
                    }
                }
            }
        }
        XCTAssertEqual(Set(shifts.map { $0[0] }), Set(-2 ... 2))
        // The rotating path mirrors the same way (at angle zero it matches the byte path bit for bit).
        var rotating = augmentation
        (rotating.rotation, rotating.maxRotationDegrees, rotating.horizontalFlip) = (true, 0, true)
        var flipping = augmentation
        flipping.horizontalFlip = true
        let indices = [Int](repeating: 0, count: 16) + [1, 1, 1, 1]
        XCTAssertEqual(assemble(set, indices, rotating, seed: 4).values, assemble(set, indices, flipping, seed: 4).values)
    }

    func testRotationByZeroIsIdentity() {
        let set = codedSet()
        let plain = assemble(set, [0, 1], .none).values
        XCTAssertEqual(assemble(set, [0, 1], Augmentation(rotation: true, maxRotationDegrees: 0)).values, plain)
        // The float path with a zero angle reproduces the byte path bit for bit, crop and flip included.
        let mixed = Augmentation(crop: true, horizontalFlip: true, rotation: true, maxRotationDegrees: 0)
        let indices = [Int](repeating: 0, count: 16) + [1, 1, 1, 1]
        XCTAssertEqual(assemble(set, indices, mixed, seed: 3).values, assemble(set, indices, .standard, seed: 3).values)
    }

    func testRotationTurnsCounterClockwise() {
        let set = codedSet()
        var transform = ImageTransform(source: 0)
        transform.rotates = true
        transform.angle = .pi / 2
        var out = [Float](repeating: 0, count: 3072)
        out.withUnsafeMutableBufferPointer { BatchAssembler().render(set, transform, into: $0.baseAddress!) }
        // A quarter turn counter-clockwise: the right edge becomes the top, so output (x, y) shows
        // source (31 - y, x); its red byte encodes the source column.
        for (x, y) in [(0, 0), (10, 3), (31, 31), (20, 25)] {
            let red = Normalization.cifar10.byte(fromNormalized: out[(y * 32 + x) * 3], channel: 0)
            let green = Normalization.cifar10.byte(fromNormalized: out[(y * 32 + x) * 3 + 1], channel: 1)
            XCTAssertEqual(Int(red), 8 + 7 * (31 - y), "red at (\(x), \(y))")
            XCTAssertEqual(Int(green), 8 + 7 * x, "green at (\(x), \(y))")
        }
        // An eighth of a turn puts the corners outside the image: they show the mean colour (normalised 0).
        transform.angle = .pi / 4
        out.withUnsafeMutableBufferPointer { BatchAssembler().render(set, transform, into: $0.baseAddress!) }
        for c in 0 ..< 3 { XCTAssertEqual(out[c], 0, accuracy: 1e-5, "corner channel \(c)") }
        // Random rotations up to 15 degrees fill corners with the mean colour but keep the centre's neighbourhood.
        let rotated = assemble(set, [Int](repeating: 0, count: 32), Augmentation(rotation: true, maxRotationDegrees: 15)).values
        let plain = assemble(set, [0], .none).values
        let turned = (0 ..< 32).filter { at(rotated, $0, 0, 0, 0) != at(plain, 0, 0, 0, 0) }.count
        XCTAssertGreaterThan(turned, 28)
        for n in 0 ..< 32 { XCTAssertEqual(at(rotated, n, 16, 16, 2), expected(77, 2), accuracy: 1e-4) }
    }

    func testBrightnessScalesAndClamps() {
        let set = codedSet()
        var transform = ImageTransform(source: 1)
        transform.jitters = true
        transform.brightness = 1.5
        var out = [Float](repeating: 0, count: 3072)
        out.withUnsafeMutableBufferPointer { BatchAssembler().render(set, transform, into: $0.baseAddress!) }
        for (y, x, c) in [(0, 0, 0), (7, 9, 1), (31, 2, 2), (15, 15, 0)] {
            let byte = Double(set.pixels[3072 + c * 1024 + y * 32 + x])
            let want = Float((min(byte * 1.5, 255) / 255 - mean[c]) / std[c])
            XCTAssertEqual(out[(y * 32 + x) * 3 + c], want, accuracy: 1e-4)
        }
    }

    func testColourJitterKeepsValuesInRangeAndChangesImages() {
        let set = codedSet()
        let indices = [Int](repeating: 1, count: 40) + [Int](repeating: 0, count: 40)
        let strong = Augmentation(colorJitter: true, brightness: 0.9, contrast: 0.9, saturation: 0.9)
        let values = assemble(set, indices, strong).values
        let plain = assemble(set, indices, .none).values
        for (i, v) in values.enumerated() {
            let c = i % 3
            XCTAssertGreaterThanOrEqual(v, expected(0, c) - 1e-5)
            XCTAssertLessThanOrEqual(v, expected(255, c) + 1e-5)
        }
        for n in 0 ..< indices.count {
            let image = values[(n * 3072) ..< ((n + 1) * 3072)]
            let original = plain[(n * 3072) ..< ((n + 1) * 3072)]
            XCTAssertNotEqual(Array(image), Array(original), "image \(n) unchanged by jitter")
        }
    }

    func testSameSeedSameBatchDifferentSeedDifferentBatch() {
        let set = SyntheticDataset.images(seed: 4, split: 0, count: 50)
        let indices = Array((0 ..< 50).reversed())
        for augmentation in [Augmentation.standard, .strong] {
            let a = assemble(set, indices, augmentation, seed: 21)
            let b = assemble(set, indices, augmentation, seed: 21)
            let c = assemble(set, indices, augmentation, seed: 22)
            XCTAssertEqual(a.values, b.values, "\(augmentation)")
            XCTAssertEqual(a.labels, b.labels)
            XCTAssertEqual(a.labels, indices.map { set.label($0) })
            XCTAssertNotEqual(a.values, c.values, "\(augmentation)")
        }
        XCTAssertEqual(Augmentation.standard.description, "crop+flip")
        XCTAssertEqual(Augmentation.none.description, "none")
    }
}
