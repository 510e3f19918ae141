/// The training batches of a run: the epoch's order (a shuffle drawn from the seed and the epoch), each
/// image's augmentation (drawn from the seed and the step), airbench's alternating flips, and the
/// assembled, normalised batch. Deterministic in (seed, epoch, step), so a resumed run draws what the
/// uninterrupted one would.
public final class BatchSampler {
    public let images: ImageSet
    public let batchSize: Int
    public let augmentation: Augmentation
    public let seed: UInt64
    /// Assembles the batch after the current one on a second queue while the step computes.
    private let batches = BatchPrefetcher()
    private var order: [Int] = []
    /// The epoch `order` was shuffled for.
    private var orderEpoch = -1

    public init(images: ImageSet, batchSize: Int, augmentation: Augmentation, seed: UInt64) {
        self.images = images
        self.batchSize = batchSize
        self.augmentation = augmentation
        self.seed = seed
    }

    /// Full batches per epoch (the last partial batch is dropped), at least 1.
    public var stepsPerEpoch: Int { max(1, images.count / batchSize) }

    /// The batch of step `stepInEpoch` of `epoch` (0-based), the run's step `globalStep`, with its labels:
    /// the one `prefetch` started when it was for this step, else assembled now. The tensor stays valid
    /// until the next call.
    public func batch(epoch: Int, stepInEpoch: Int, globalStep: Int, labels: inout [Int]) -> Tensor {
        let key = BatchPrefetcher.Key(epoch: epoch, stepInEpoch: stepInEpoch, globalStep: globalStep)
        let batch = batches.batch(key, of: images) { transforms(epoch: epoch, stepInEpoch: stepInEpoch, globalStep: globalStep) }
        labels = batch.labels
        return batch.images
    }

    /// Starts assembling the batch of step `stepInEpoch` of `epoch` (the run's step `globalStep`) on a
    /// second queue, for the next `batch` call. The images are the same as when assembled on the spot.
    public func prefetch(epoch: Int, stepInEpoch: Int, globalStep: Int) {
        let key = BatchPrefetcher.Key(epoch: epoch, stepInEpoch: stepInEpoch, globalStep: globalStep)
        batches.prefetch(key, of: images, transforms: transforms(epoch: epoch, stepInEpoch: stepInEpoch, globalStep: globalStep))
    }

    /// Each image's augmentation for a step: drawn from the seed and the step, in the epoch's order.
    private func transforms(epoch: Int, stepInEpoch: Int, globalStep: Int) -> [ImageTransform] {
        if orderEpoch != epoch {
            var shuffle = RandomSource(seed: seed, stream: UInt64(epoch) &+ 0x5EED)
            order = shuffle.permutation(images.count)
            orderEpoch = epoch
        }
        var random = RandomSource(seed: seed, stream: 0x1_0000_0000 &+ UInt64(globalStep))
        let indices = order[(stepInEpoch * batchSize)..<min((stepInEpoch + 1) * batchSize, order.count)]
        var transforms = indices.map { augmentation.draw(source: $0, &random) }
        if augmentation.alternatingFlip {
            for i in transforms.indices {
                transforms[i].flip = BatchSampler.alternatingFlip(image: transforms[i].source, epoch: epoch, seed: seed)
            }
        }
        return transforms
    }

    /// airbench's alternating flips: whether training image `image` is mirrored in epoch `epoch`. Each
    /// image has a coin fixed by the seed and flips sides every epoch, so any two consecutive epochs show it
    /// both ways, where independent coins show a quarter of the images the same way twice.
    public static func alternatingFlip(image: Int, epoch: Int, seed: UInt64) -> Bool {
        var coin = RandomSource(seed: seed, stream: 0xF11F_0000_0000 &+ UInt64(image))
        return (coin.uniform() < 0.5) != (epoch % 2 == 1)
    }
}
