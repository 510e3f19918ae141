/// A batch of samples: a view of a `FloatBuffer` with a batch size and a per-sample `FeatureShape`.
///
/// Element `(n, y, x, c)` of a spatial tensor is at `((n * height + y) * width + x) * channels + c`.
/// A tensor does not own its memory exclusively: a layer's output tensor stays valid until that layer
/// runs forward again, which is what lets the next layer keep its input for the backward pass
/// without copying it.
public struct Tensor {
    public let batch: Int
    public let shape: FeatureShape
    public let storage: FloatBuffer

    public init(batch: Int, shape: FeatureShape, storage: FloatBuffer) {
        precondition(storage.capacity >= batch * shape.count, "tensor larger than its storage")
        self.batch = batch
        self.shape = shape
        self.storage = storage
    }

    /// A new zero-filled tensor with its own storage.
    public init(zeros batch: Int, _ shape: FeatureShape) {
        self.init(batch: batch, shape: shape, storage: FloatBuffer(capacity: batch * shape.count))
    }

    /// A new tensor holding `values` (NHWC order).
    public init(batch: Int, shape: FeatureShape, values: [Float]) {
        precondition(values.count == batch * shape.count, "value count does not match the shape")
        self.init(batch: batch, shape: shape, storage: FloatBuffer(values))
    }

    /// Total elements.
    public var count: Int { batch * shape.count }
    /// The first element.
    @inline(__always) public var pointer: UnsafeMutablePointer<Float> { storage.base }
    /// All elements as a buffer pointer.
    @inline(__always) public var elements: UnsafeMutableBufferPointer<Float> { storage.prefix(count) }
    /// A copy of the elements (NHWC order).
    public var array: [Float] { storage.array(count) }

    /// The same memory seen with another per-sample shape of equal size (used by `flatten`).
    public func reshaped(_ newShape: FeatureShape) -> Tensor {
        precondition(newShape.count == shape.count, "reshape must keep the element count")
        return Tensor(batch: batch, shape: newShape, storage: storage)
    }

    /// Sample `n` as a pointer to its first element.
    @inline(__always) public func sample(_ n: Int) -> UnsafeMutablePointer<Float> {
        pointer + n * shape.count
    }
}

extension FloatBuffer {
    /// Grows the buffer when needed and returns a tensor of the given size viewing it.
    @inline(__always)
    public func tensor(batch: Int, shape: FeatureShape) -> Tensor {
        reserve(batch * shape.count)
        return Tensor(batch: batch, shape: shape, storage: self)
    }
}
