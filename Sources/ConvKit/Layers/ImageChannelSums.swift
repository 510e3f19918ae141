import CKernels

/// Each image's two per-channel sums that a batch norm's training passes need: in the forward pass the sum
/// and the sum of squares of its input, in the backward pass the sums of its output gradient and of that
/// gradient times its centred input.
///
/// The layer that writes the summed tensor gathers them as it writes each image, while it is still in cache
/// (`ConvolutionEpilogue.statistics`): in the forward pass the convolution before the batch norm, in the
/// backward pass the convolution, max pool or residual block after it (`GathersBatchNormGradientSums`) or the
/// gradient pass of the residual block it ends. That saves the batch norm a read of the whole tensor. A batch
/// norm with no such layer gathers the same sums itself. Either way each image's sums are float
/// sums over blocks of rows added into doubles (`ckernels_bn_sums`) and the images are added in order: the
/// same bits whoever gathers them, however the batch is split across workers.
final class ImageChannelSums {
    /// What to sum over each image of a tensor `y`, and where to put it (`storage`, 2 x channels doubles per
    /// image, image i at i * 2 * channels). A value the epilogue carries into the backends' workers.
    struct Request {
        fileprivate let storage: UnsafeMutablePointer<Double>
        /// `CKERNELS_BN_SQUARES`, or the products with `against`'s image (`ckernels_bn_sums`).
        fileprivate let mode: Int
        fileprivate let against: Tensor?
        fileprivate let mean, scale, shift: UnsafePointer<Float>?

        /// The sums of image `image` of `y` into their place.
        func gather(_ y: Tensor, image: Int) {
            let c = y.shape.channels
            ckernels_bn_sums(
                y.sample(image), against.map { UnsafePointer($0.sample(image)) }, mean, scale, shift, Int32(mode),
                y.shape.spatialCount, Int32(c), storage + image * 2 * c)
        }
    }

    /// Which of a batch norm's passes the sums are for. One pass's sums are used before the other's are
    /// gathered, so one storage serves both (a batch of airbench's 2000 images takes 32 KB per channel).
    enum Pass {
        case forward, backward
    }

    let channels: Int
    private var storage: UnsafeMutablePointer<Double>
    private var capacity = 0
    /// The tensor the stored sums are of: its storage and batch, and the pass (nil when none are stored).
    private var gathered: (pointer: UnsafeMutablePointer<Float>, batch: Int, pass: Pass)?

    init(channels: Int) {
        self.channels = channels
        storage = .allocate(capacity: 0)
    }

    deinit { storage.deallocate() }

    /// Room for the sums of `images` images: of squares, or with `against` (a tensor of the same shape) of
    /// products as `ckernels_bn_sums` takes them. Forgets any sums stored, of either pass.
    func request(
        images: Int, against: Tensor? = nil, mode: Int = Int(CKERNELS_BN_SQUARES), mean: UnsafePointer<Float>? = nil,
        scale: UnsafePointer<Float>? = nil, shift: UnsafePointer<Float>? = nil
    ) -> Request {
        gathered = nil
        let count = images * 2 * channels
        if count > capacity {
            storage.deallocate()
            storage = .allocate(capacity: count)
            capacity = count
        }
        return Request(storage: storage, mode: mode, against: against, mean: mean, scale: scale, shift: shift)
    }

    /// Records that the latest request now holds the `pass` sums of `y`, or, with nil, that nothing is stored.
    func markGathered(_ y: Tensor?, for pass: Pass) {
        gathered = y.map { ($0.pointer, $0.batch, pass) }
    }

    /// Forgets the `pass` sums if those are stored: what they were gathered against has changed.
    func forget(_ pass: Pass) {
        if gathered?.pass == pass { gathered = nil }
    }

    /// The per-channel totals over the batch of `y` for `pass`: the sums gathered for it, or else gathered
    /// here with `request` (called with the batch size). The stored sums are used once.
    func totals(of y: Tensor, for pass: Pass, otherwise request: (Int) -> Request) -> (first: [Double], second: [Double]) {
        precondition(y.shape.channels == channels, "the sums are of \(channels) channels, not \(y.shape.channels)")
        if let gathered, gathered.pointer == y.pointer, gathered.batch == y.batch, gathered.pass == pass {
            self.gathered = nil
        } else {
            let own = request(y.batch)
            Parallel.forEachRange(y.batch) { images, _ in
                for image in images { own.gather(y, image: image) }
            }
        }
        var first = [Double](repeating: 0, count: channels), second = first
        for image in 0..<y.batch {
            let sums = storage + image * 2 * channels
            for ch in 0..<channels {
                first[ch] += sums[ch]
                second[ch] += sums[channels + ch]
            }
        }
        return (first, second)
    }
}

/// A layer whose backward pass can gather the backward-pass sums of the batch norm before it as it writes its
/// input gradient (`Network` links them when it is built).
protocol GathersBatchNormGradientSums: AnyObject {
    /// Makes backward passes gather `batchNorm`'s sums; this layer's input gradient must be the batch norm's
    /// output gradient (a ReLU the batch norm applies may stand between them).
    func gatherGradientStatistics(for batchNorm: BatchNorm2d)
}
