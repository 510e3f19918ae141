/// A copy of some state tensors in buffers allocated once: taken before a training step, put back when
/// the step turns out to diverge, so the run stands where it stood before.
final class StateCopy {
    private let tensors: [StateTensor]
    private let floats: [FloatBuffer]
    private var counters: [Int64]

    /// Room for copies of `tensors` (nothing is copied yet).
    init(of tensors: [StateTensor]) {
        self.tensors = tensors
        floats = tensors.map { tensor in
            guard case let .float(_, layout) = tensor.content else { return FloatBuffer() }
            return FloatBuffer(capacity: layout.count)
        }
        counters = [Int64](repeating: 0, count: tensors.count)
    }

    /// Copies the tensors' current values in.
    func capture() {
        for (index, tensor) in tensors.enumerated() {
            switch tensor.content {
            case let .float(buffer, layout): floats[index].base.update(from: buffer.base, count: layout.count)
            case let .int64(counter): counters[index] = counter.value
            }
        }
    }

    /// Writes the copied values back into the tensors.
    func restore() {
        for (index, tensor) in tensors.enumerated() {
            switch tensor.content {
            case let .float(buffer, layout): buffer.base.update(from: floats[index].base, count: layout.count)
            case let .int64(counter): counter.value = counters[index]
            }
        }
    }
}
