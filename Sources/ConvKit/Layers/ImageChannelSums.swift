import CKernels

/// Each image's per-channel sum and sum of squares: what a batch norm's training pass normalises with.
///
/// The convolution before the batch norm gathers them as it writes each group of images, while they are
/// still in cache (`ConvolutionEpilogue.statistics`), which saves the batch norm a read of its whole input;
/// a batch norm with no such convolution gathers them itself. Either way each image's sums are float sums
/// over blocks of rows added into doubles (`ckernels_bn_sums`), and the images are added in order: the same
/// bits whoever gathers them, however the batch is split across workers.
final class ImageChannelSums {
    let channels: Int
    private var storage: UnsafeMutablePointer<Double>
    private var capacity = 0
    /// The tensor the stored sums are of: its storage and batch (nil when none are stored).
    private var gathered: (pointer: UnsafeMutablePointer<Float>, batch: Int)?

    init(channels: Int) {
        self.channels = channels
        storage = .allocate(capacity: 0)
    }

    deinit { storage.deallocate() }

    /// Room for the sums of `images` images (2 x `channels` doubles each, image i at i * 2 * `channels`),
    /// for a convolution's epilogue to fill; forgets any sums stored.
    func reserve(images: Int) -> UnsafeMutablePointer<Double> {
        gathered = nil
        let count = images * 2 * channels
        if count > capacity {
            storage.deallocate()
            storage = .allocate(capacity: count)
            capacity = count
        }
        return storage
    }

    /// Records that the reserved room now holds the sums of `y`, or, with nil, that it holds nothing.
    func markGathered(_ y: Tensor?) {
        gathered = y.map { ($0.pointer, $0.batch) }
    }

    /// The per-channel totals over the batch of `x`: the sums gathered for it, or else gathered here.
    /// The stored sums are used once.
    func totals(of x: Tensor) -> (first: [Double], second: [Double]) {
        precondition(x.shape.channels == channels, "the sums are of \(channels) channels, not \(x.shape.channels)")
        if let gathered, gathered.pointer == x.pointer, gathered.batch == x.batch {
            self.gathered = nil
        } else {
            let sums = reserve(images: x.batch)
            Parallel.forEachRange(x.batch) { images, _ in
                for image in images { Self.gather(x, image: image, into: sums) }
            }
        }
        var first = [Double](repeating: 0, count: channels), second = first
        for image in 0..<x.batch {
            let sums = storage + image * 2 * channels
            for ch in 0..<channels {
                first[ch] += sums[ch]
                second[ch] += sums[channels + ch]
            }
        }
        return (first, second)
    }

    /// The sums of image `image` of `x` into its place in `sums`.
    static func gather(_ x: Tensor, image: Int, into sums: UnsafeMutablePointer<Double>) {
        let c = x.shape.channels
        ckernels_bn_sums(
            x.sample(image), nil, nil, nil, nil, Int32(CKERNELS_BN_SQUARES), x.shape.spatialCount, Int32(c),
            sums + image * 2 * c)
    }
}
