/// A layer that can write its output and its input gradient into buffers its network lends it, so that
/// values a training step does not need to keep share memory instead of each layer holding its own copy
/// for the whole batch.
///
/// In a training step `Network` keeps a layer's output in its own buffer only when a backward pass
/// reads it and it cannot be had again for a little arithmetic. An output nobody reads later (a
/// convolution's output that a max pool reduces: the pool keeps only its winners' positions) and the
/// output of a pointwise layer (batch norm, GELU), which is computed again from its kept input when the
/// backward pass gets there, live in shared buffers; so does every gradient between layers (each is read
/// once, by the layer below). `Network.infer` lends every output. Layers that are not `BufferSharing`
/// keep their own buffers. Recomputing runs the very loop the forward pass ran, on the same values, so
/// the numbers are the same bit for bit: only where they live changes.
protocol BufferSharing: Layer {
    /// Where `forward` writes its output, when set; otherwise the layer's own buffer.
    var lentOutput: FloatBuffer? { get set }
    /// Floats the layer's own output buffer holds (room a training step already made for it).
    var ownOutputCapacity: Int { get }
    /// Where `backward` writes the input gradient, when set; otherwise the layer's own buffer.
    var lentInputGradient: FloatBuffer? { get set }
    /// The input the latest forward pass was given, which `backward` differentiates at; the network
    /// points it at a recomputed copy when the original was not kept.
    var input: Tensor? { get set }
    /// Whether `backward` reads the values (not just the batch size) of the input `forward` was given.
    var backwardReadsInput: Bool { get }
    /// Whether `backward` reads the values of the output `forward` returned.
    var backwardReadsOutput: Bool { get }
    /// Whether the latest training pass's output can be computed again, bit for bit, from its input
    /// alone and without changing any state (pointwise layers).
    var recomputesOutput: Bool { get }
    /// Whether `forward` in training returns its input itself as its output (a ReLU that the batch norm
    /// before it applied), so that the output is only as safe as the input.
    var passesInputThrough: Bool { get }
    /// The latest training pass's output again, from `x` (equal to that pass's input), into `buffer`.
    func recomputeOutput(from x: Tensor, into buffer: FloatBuffer) -> Tensor
}

extension BufferSharing {
    var recomputesOutput: Bool { false }
    var passesInputThrough: Bool { false }
    func recomputeOutput(from x: Tensor, into buffer: FloatBuffer) -> Tensor {
        preconditionFailure("\(name) cannot recompute its output")
    }
}

/// The buffers a network lends its layers. Going forward and back, each borrower gets the one of two
/// that does not hold the tensor it reads (its input, its output gradient), so a layer never writes over
/// what it reads; recomputed outputs go to two more, one per step of a chain (batch norm, then GELU).
final class SharedBuffers {
    private let first = FloatBuffer(), second = FloatBuffer()
    let recomputed = (FloatBuffer(), FloatBuffer())

    /// The buffer of the pair that does not hold `tensor`.
    func spare(besides tensor: Tensor) -> FloatBuffer { tensor.storage === first ? second : first }

    /// Bytes held.
    var byteCount: Int {
        [first, second, recomputed.0, recomputed.1].reduce(0) { $0 + $1.capacity * MemoryLayout<Float>.stride }
    }
}

/// What decides where a training step keeps a sharing layer's output, alike for a built layer and a
/// planned one, so that `MemoryEstimate` counts exactly the buffers `Network` keeps.
struct BufferTraits: Equatable {
    var readsInput: Bool
    var readsOutput: Bool
    var recomputes: Bool
    var passesThrough: Bool
}

extension BufferSharing {
    var traits: BufferTraits {
        BufferTraits(
            readsInput: backwardReadsInput, readsOutput: backwardReadsOutput, recomputes: recomputesOutput,
            passesThrough: passesInputThrough)
    }
}

extension BufferTraits {
    /// The traits the layer of `operation` will have in training (nil for a layer that keeps its own
    /// buffers); `afterBatchNorm`: the token before it is a batch norm, which absorbs a ReLU.
    init?(_ operation: ModelSpec.Operation, afterBatchNorm: Bool) {
        switch operation {
        case .conv: self.init(readsInput: true, readsOutput: false, recomputes: false, passesThrough: false)
        case .batchNorm: self.init(readsInput: true, readsOutput: false, recomputes: true, passesThrough: false)
        case .maxPool: self.init(readsInput: false, readsOutput: false, recomputes: false, passesThrough: false)
        case .activation(let function):
            let fused = function == .relu && afterBatchNorm
            let readsInput: Bool, readsOutput: Bool
            switch function {
            case .relu, .sigmoid, .tanh: readsInput = fused
            default: readsInput = true
            }
            switch function {
            case .relu, .elu, .sigmoid, .tanh: readsOutput = true
            default: readsOutput = false
            }
            self.init(readsInput: readsInput, readsOutput: readsOutput, recomputes: true, passesThrough: fused)
        default: return nil
        }
    }
}
