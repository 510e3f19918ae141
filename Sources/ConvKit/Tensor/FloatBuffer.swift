/// A growable, 64-byte aligned block of `Float`s that a layer owns and reuses from step to step.
///
/// Layers keep their outputs, gradients and scratch space in these buffers so that a training step
/// allocates nothing once the first step has sized them. Growing keeps no contents: callers
/// overwrite what they use.
public final class FloatBuffer {
    /// The first element; valid for `capacity` elements.
    public private(set) var base: UnsafeMutablePointer<Float>
    /// How many elements the buffer can hold.
    public private(set) var capacity: Int

    /// A buffer of `capacity` elements, zero-filled.
    public init(capacity: Int = 0) {
        self.capacity = max(capacity, 0)
        base = FloatBuffer.allocate(self.capacity)
        base.initialize(repeating: 0, count: self.capacity)
    }

    /// A buffer holding a copy of `values`.
    public convenience init(_ values: [Float]) {
        self.init(capacity: values.count)
        values.withUnsafeBufferPointer { base.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { base.deallocate() }

    /// Makes room for at least `count` elements; the contents are undefined afterwards when it grew.
    public func reserve(_ count: Int) {
        guard count > capacity else { return }
        base.deallocate()
        base = FloatBuffer.allocate(count)
        base.initialize(repeating: 0, count: count)
        capacity = count
    }

    /// The first `count` elements as a buffer pointer.
    @inline(__always)
    public func prefix(_ count: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: base, count: count)
    }

    /// A copy of the first `count` elements.
    public func array(_ count: Int) -> [Float] { Array(prefix(count)) }

    /// Sets the first `count` elements to zero.
    @inline(__always)
    public func zero(_ count: Int) { base.update(repeating: 0, count: count) }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        return raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }
}
