import Dispatch

/// Assembles the next training batch on a second queue while the current step computes, so the step
/// never waits for its images.
///
/// Two slots take turns: the step reads the batch in one while the other is being filled. A batch is
/// asked for by its `Key` (where in the run it belongs); a prefetched batch is used only when its key
/// matches, so a run that jumps (a divergence going back, a resumed position) assembles that batch on
/// the spot instead. The images and labels are the same either way: the transforms are drawn by the
/// caller from the step's own random stream, and rendering a transform is deterministic.
public final class BatchPrefetcher {
    /// Where a batch belongs in the run.
    public struct Key: Equatable, Sendable {
        public var epoch: Int
        public var stepInEpoch: Int
        public var globalStep: Int

        public init(epoch: Int, stepInEpoch: Int, globalStep: Int) {
            (self.epoch, self.stepInEpoch, self.globalStep) = (epoch, stepInEpoch, globalStep)
        }
    }

    /// A batch buffer and its labels.
    ///
    /// `@unchecked Sendable` because a slot is handed between threads by hand: the background work item
    /// that fills a slot is the only code touching it until `wait()` has returned on the work item's
    /// group (which orders its writes before the trainer's reads), and the trainer never starts filling
    /// the slot whose batch the current step is reading.
    private final class Slot: @unchecked Sendable {
        let buffer = FloatBuffer()
        var labels: [Int] = []
        var key: Key?
        var tensor: Tensor?
    }

    private let slots = [Slot(), Slot()]
    /// The slot the current step reads.
    private var current = 0
    /// The fill in flight, if any: which slot, and the group to wait on.
    private var pending: DispatchGroup?
    private let queue = DispatchQueue(label: "convscope.batch-prefetch", qos: .userInitiated)
    private let assembler: BatchAssembler

    public init(assembler: BatchAssembler = BatchAssembler()) {
        self.assembler = assembler
    }

    deinit { pending?.wait() }

    /// The batch for `key`: the prefetched one when it was started for that key, or else the images of
    /// `transforms()` assembled now (on all cores). The tensor stays valid until the next call.
    public func batch(_ key: Key, of set: ImageSet, transforms: () -> [ImageTransform]) -> (images: Tensor, labels: [Int]) {
        waitForPending()
        let other = 1 - current
        if slots[other].key == key && slots[other].tensor != nil {
            current = other
        } else {
            let slot = slots[current]
            slot.key = nil
            slot.tensor = assembler.assemble(set, transforms: transforms(), into: slot.buffer, labels: &slot.labels)
            slot.key = key
        }
        slots[1 - current].key = nil
        let slot = slots[current]
        return (slot.tensor!, slot.labels)
    }

    /// Starts assembling the batch for `key` (the images of `transforms`) in the slot the current
    /// step is not reading, on one background thread.
    public func prefetch(_ key: Key, of set: ImageSet, transforms: [ImageTransform]) {
        waitForPending()
        let slot = slots[1 - current], assembler = assembler
        slot.key = nil
        let group = DispatchGroup()
        queue.async(group: group) {
            slot.tensor = assembler.assemble(set, transforms: transforms, into: slot.buffer, labels: &slot.labels, parallel: false)
            slot.key = key
        }
        pending = group
    }

    private func waitForPending() {
        pending?.wait()
        pending = nil
    }
}
