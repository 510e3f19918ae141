import ArgumentParser
import ConvKit
import ConvRender
import Foundation

/// `--index N | --image photo.png`: the picture to look at, from the test set or from any PNG.
struct ImageOptions: ParsableArguments {
    @Option(name: .long, help: "A test-set image number (0-based).")
    var index: Int?

    @Option(name: .long, help: "Any PNG (resized to 32x32 by area averaging, alpha dropped).")
    var image: String?

    @OptionGroup var data: DataOptions

    func validate() throws {
        if index != nil && image != nil { throw ValidationError("give --index or --image, not both") }
        if let index, index < 0 { throw ValidationError("--index must not be negative") }
    }

    /// The chosen picture: the 32x32 RGB image, its normalised tensor, its true label if known, and
    /// the class names to use. `defaultIndex` applies when neither option was given.
    func load(classNames fallback: [String], defaultIndex: Int? = nil) throws -> Picture {
        let assembler = BatchAssembler()
        let buffer = FloatBuffer()
        if let image {
            let photo = try PNG.read(contentsOf: image)
            let small = photo.width == 32 && photo.height == 32 ? photo : photo.resized(width: 32, height: 32)
            let set = ImageSet(interleavedRGB: small.pixels)
            return Picture(
                image: small, tensor: assembler.tensor(set, index: 0, into: buffer), label: nil, classNames: fallback,
                name: (image as NSString).lastPathComponent)
        }
        guard let chosen = index ?? defaultIndex else { throw ValidationError("give --index N (test set) or --image photo.png") }
        let dataset = try data.load(trainLimit: 0)
        guard chosen < dataset.test.count else {
            throw ValidationError("--index \(chosen) is outside the test set (0-\(dataset.test.count - 1))")
        }
        let pixels = dataset.test.interleavedRGB(chosen)
        return Picture(
            image: RGBImage(width: 32, height: 32, pixels: pixels), tensor: assembler.tensor(dataset.test, index: chosen, into: buffer),
            label: dataset.test.label(chosen), classNames: dataset.classNames,
            name: "\(dataset.isSynthetic ? "synthetic" : "cifar10") test #\(chosen)")
    }
}

/// A picture ready for the network.
struct Picture {
    let image: RGBImage
    let tensor: Tensor
    let label: Int?
    let classNames: [String]
    let name: String
}


