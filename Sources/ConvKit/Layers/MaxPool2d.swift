import CKernels

/// Max pooling over square windows without padding (PyTorch's `MaxPool2d(k, s)`, floor mode).
///
/// Ties go to the first maximum in window order (row by row), as in PyTorch, and the backward pass
/// routes each output's gradient to that one input.
public final class MaxPool2d: BufferSharing, GathersBatchNormGradientSums {
    public let name: String
    public var kind: LayerKind { .maxpool }
    public let inputShape: FeatureShape
    public let outputShape: FeatureShape
    public let geometry: SpatialGeometry
    public var computesInputGradient = true
    public private(set) var lastOutput: Tensor?

    private let output = FloatBuffer()
    private let inputGradient = FloatBuffer()
    var input: Tensor?
    var lentOutput: FloatBuffer?
    var ownOutputCapacity: Int { output.capacity }
    var lentInputGradient: FloatBuffer?
    /// Only the winners' positions are read, not the values.
    var backwardReadsInput: Bool { false }
    var backwardReadsOutput: Bool { false }
    /// For each output element, which tap of its window won (row-major within the window): a byte each,
    /// a quarter of what the values would take, which is why windows are limited to 256 taps.
    private var winners: [UInt8] = []
    /// The batch norm whose output gradient this layer's input gradient is, whose backward-pass sums the
    /// backward pass gathers.
    private(set) var gradientStatisticsTarget: BatchNorm2d?

    public init(name: String, input: FeatureShape, kernel: Int, stride: Int) {
        precondition(kernel * kernel <= 256, "max-pool windows are limited to 16x16")
        self.name = name
        inputShape = input
        geometry = SpatialGeometry(kernel: kernel, stride: stride, padding: 0)
        outputShape = FeatureShape(
            channels: input.channels, height: geometry.outputSize(input.height), width: geometry.outputSize(input.width))
    }

    /// Each image's sums for `batchNorm`, gathered as the image's input gradient is written.
    func gatherGradientStatistics(for batchNorm: BatchNorm2d) {
        precondition(batchNorm.outputShape == inputShape, "\(name) can only gather statistics for a batch norm of its input's shape")
        gradientStatisticsTarget = batchNorm
    }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        input = x
        let y = (lentOutput ?? output).tensor(batch: x.batch, shape: outputShape)
        if winners.count < y.count { winners = [UInt8](repeating: 0, count: y.count) }
        let c = Int32(inputShape.channels), w = Int32(inputShape.width), outCount = outputShape.count
        let oh = Int32(outputShape.height), ow = Int32(outputShape.width), k = Int32(geometry.kernel), s = Int32(geometry.stride)
        winners.withUnsafeMutableBufferPointer { winners in
            let winners = winners.baseAddress!
            Parallel.forEachRange(x.batch) { images, _ in
                for n in images {
                    ckernels_maxpool_forward(x.sample(n), w, c, k, s, oh, ow, y.sample(n), winners + n * outCount)
                }
            }
        }
        lastOutput = y
        return y
    }

    /// Routes each output's gradient to the input that won its window in the forward pass.
    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("\(name): backward before forward") }
        guard computesInputGradient else { return .empty(inputShape) }
        let dx = (lentInputGradient ?? inputGradient).tensor(batch: x.batch, shape: inputShape)
        let c = Int32(inputShape.channels), w = Int32(inputShape.width), outCount = outputShape.count
        let oh = Int32(outputShape.height), ow = Int32(outputShape.width), k = Int32(geometry.kernel), s = Int32(geometry.stride)
        let statistics = gradientStatisticsTarget?.gradientStatisticsRequest(images: x.batch)
        winners.withUnsafeBufferPointer { winners in
            let winners = winners.baseAddress!
            Parallel.forEachRange(x.batch) { images, _ in
                for n in images {
                    dx.sample(n).update(repeating: 0, count: inputShape.count)
                    ckernels_maxpool_backward(dy.sample(n), winners + n * outCount, w, c, k, s, oh, ow, dx.sample(n))
                    statistics?.gather(dx, image: n)
                }
            }
        }
        gradientStatisticsTarget?.gradientStatisticsGathered(statistics == nil ? nil : dx)
        return dx
    }
}
