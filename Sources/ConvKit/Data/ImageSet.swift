/// A set of 32 x 32 colour images kept as the bytes they came in, with one class label each.
///
/// Image `i` occupies `pixels[i * 3072 ..< (i + 1) * 3072]` in CIFAR-10's planar order: 1024 red bytes,
/// then 1024 green, then 1024 blue, each plane 32 rows of 32 pixels, top row first. Keeping bytes (not
/// floats) costs a quarter of the memory; `BatchAssembler` converts only the images a step needs.
public struct ImageSet: Sendable, Equatable {
    /// Image side in pixels.
    public static let side = 32
    /// Pixels in one colour plane.
    public static let planeSize = side * side
    /// Bytes per image: three planes.
    public static let bytesPerImage = 3 * planeSize

    /// `count * bytesPerImage` bytes, image after image, each planar RGB.
    public let pixels: [UInt8]
    /// One class index per image.
    public let labels: [UInt8]

    /// An image set over `pixels` and `labels`; the sizes must match (`pixels.count == labels.count * 3072`).
    public init(pixels: [UInt8], labels: [UInt8]) {
        precondition(
            pixels.count == labels.count * ImageSet.bytesPerImage,
            "ImageSet: \(pixels.count) pixel bytes do not make \(labels.count) images of \(ImageSet.bytesPerImage) bytes")
        self.pixels = pixels
        self.labels = labels
    }

    /// An empty set.
    public init() { self.init(pixels: [], labels: []) }

    /// Number of images.
    public var count: Int { labels.count }

    /// Whether the set holds no images.
    public var isEmpty: Bool { labels.isEmpty }

    /// The class of image `index`.
    public func label(_ index: Int) -> Int { Int(labels[index]) }

    /// The planar bytes of image `index`.
    public func image(_ index: Int) -> ArraySlice<UInt8> {
        pixels[index * ImageSet.bytesPerImage ..< (index + 1) * ImageSet.bytesPerImage]
    }

    /// The first `n` images (all of them when `n >= count`).
    public func subset(first n: Int) -> ImageSet {
        let kept = max(0, min(n, count))
        if kept == count { return self }
        return ImageSet(
            pixels: Array(pixels[0 ..< kept * ImageSet.bytesPerImage]), labels: Array(labels[0 ..< kept]))
    }

    /// The images at `indices`, in that order (an index may repeat).
    public func subset<Indices: Collection>(_ indices: Indices) -> ImageSet where Indices.Element == Int {
        let n = indices.count, size = ImageSet.bytesPerImage
        var newLabels = [UInt8]()
        newLabels.reserveCapacity(n)
        let newPixels = [UInt8](unsafeUninitializedCapacity: n * size) { destination, initialized in
            pixels.withUnsafeBufferPointer { source in
                var at = 0
                for index in indices {
                    precondition(index >= 0 && index < count, "ImageSet.subset: index \(index) outside 0..<\(count)")
                    UnsafeMutableRawPointer(destination.baseAddress! + at)
                        .copyMemory(from: source.baseAddress! + index * size, byteCount: size)
                    newLabels.append(labels[index])
                    at += size
                }
            }
            initialized = n * size
        }
        return ImageSet(pixels: newPixels, labels: newLabels)
    }

    /// How many images each class has: element `c` counts label `c`, for `c` in `0..<classes`.
    /// Labels at or above `classes` are not counted.
    public func classCounts(classes: Int = 10) -> [Int] {
        var counts = [Int](repeating: 0, count: classes)
        for label in labels where Int(label) < classes { counts[Int(label)] += 1 }
        return counts
    }

    /// Image `index` as interleaved RGB bytes (R, G, B of the top-left pixel first, row by row), the
    /// order PNG writers and terminal renderers want. Not normalised.
    public func interleavedRGB(_ index: Int) -> [UInt8] {
        let plane = ImageSet.planeSize
        return [UInt8](unsafeUninitializedCapacity: ImageSet.bytesPerImage) { out, initialized in
            pixels.withUnsafeBufferPointer { all in
                let src = all.baseAddress! + index * ImageSet.bytesPerImage
                for p in 0 ..< plane {
                    out[3 * p] = src[p]
                    out[3 * p + 1] = src[plane + p]
                    out[3 * p + 2] = src[2 * plane + p]
                }
            }
            initialized = ImageSet.bytesPerImage
        }
    }
}

extension ImageSet {
    /// A set of unlabelled (label 0) 32x32 images given as interleaved RGB bytes, one image after another
    /// (for example a photo the user supplied, resized to 32x32).
    public init(interleavedRGB bytes: [UInt8]) {
        precondition(bytes.count % ImageSet.bytesPerImage == 0, "interleaved images must be 32x32x3 bytes each")
        let count = bytes.count / ImageSet.bytesPerImage
        var planar = [UInt8](repeating: 0, count: bytes.count)
        for image in 0..<count {
            let base = image * ImageSet.bytesPerImage
            for p in 0..<ImageSet.planeSize {
                for c in 0..<3 { planar[base + c * ImageSet.planeSize + p] = bytes[base + p * 3 + c] }
            }
        }
        self.init(pixels: planar, labels: [UInt8](repeating: 0, count: count))
    }
}
