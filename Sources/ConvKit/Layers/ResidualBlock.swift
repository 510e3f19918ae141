import CKernels

/// A basic residual block (He et al. 2016): `relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`.
///
/// Both convolutions are 3x3 without bias; the first carries the stride. The shortcut is the input
/// itself, or a 1x1 convolution with the stride followed by batch norm when the shape changes.
/// The skip path is why deep stacks still train: the gradient reaches early layers through the
/// addition unchanged.
public final class ResidualBlock: Layer, GathersBatchNormGradientSums {
    public let name: String
    public var kind: LayerKind { .res }
    public let inputShape: FeatureShape
    public let outputShape: FeatureShape
    public let conv1: Conv2d
    public let bn1: BatchNorm2d
    public let relu1: Activation
    public let conv2: Conv2d
    public let bn2: BatchNorm2d
    /// The projection used when the shape changes: 1x1 convolution and batch norm.
    public let shortcut: (conv: Conv2d, bn: BatchNorm2d)?
    public private(set) var lastOutput: Tensor?
    public var computesInputGradient = true {
        didSet {
            conv1.computesInputGradient = computesInputGradient
            shortcut?.conv.computesInputGradient = computesInputGradient
        }
    }

    /// Sees the gradient with respect to each sublayer's output during `backward` (Grad-CAM inside blocks).
    public var gradientTap: ((Layer, Tensor) -> Void)?
    /// Guided backpropagation through both of the block's ReLUs (see `Activation.guidesBackward`).
    var guidesBackward = false {
        didSet { relu1.guidesBackward = guidesBackward }
    }

    /// Off, a training pass writes bn1's map even where conv2 could apply bn1 as it reads (`Network.normalisesOnRead`).
    var normalisesOnRead = true

    private let output = FloatBuffer()
    private let sumGradient = FloatBuffer()

    /// A block with `outChannels` outputs; `middleChannels` (default: the same) is the width of the first
    /// convolution, which filter pruning may narrow.
    public init(name: String, input: FeatureShape, outChannels: Int, stride: Int, middleChannels: Int? = nil) {
        self.name = name
        inputShape = input
        conv1 = Conv2d(
            name: name + ".conv1", input: input, outChannels: middleChannels ?? outChannels, kernel: 3, stride: stride,
            padding: 1, bias: false)
        bn1 = BatchNorm2d(name: name + ".bn1", input: conv1.outputShape)
        relu1 = Activation(name: name + ".relu1", function: .relu, input: conv1.outputShape)
        bn1.fuse(relu1)
        conv2 = Conv2d(
            name: name + ".conv2", input: conv1.outputShape, outChannels: outChannels, kernel: 3, stride: 1, padding: 1,
            bias: false)
        bn2 = BatchNorm2d(name: name + ".bn2", input: conv2.outputShape)
        outputShape = conv2.outputShape
        if stride != 1 || input.channels != outChannels {
            let conv = Conv2d(
                name: name + ".shortcut.conv", input: input, outChannels: outChannels, kernel: 1, stride: stride,
                padding: 0, bias: false)
            shortcut = (conv, BatchNorm2d(name: name + ".shortcut.bn", input: conv.outputShape))
        } else {
            shortcut = nil
        }
        conv1.gatherStatistics(for: bn1)
        conv2.gatherStatistics(for: bn2)
        conv2.gatherGradientStatistics(for: bn1)
        if let shortcut { shortcut.conv.gatherStatistics(for: shortcut.bn) }
    }

    /// The block's input gradient is written by conv1, the shortcut's gradient added first.
    func gatherGradientStatistics(for batchNorm: BatchNorm2d) { conv1.gatherGradientStatistics(for: batchNorm) }

    /// The main path, then the shortcut's layers.
    public var sublayers: [Layer] {
        var layers: [Layer] = [conv1, bn1, relu1, conv2, bn2]
        if let shortcut { layers += [shortcut.conv, shortcut.bn] }
        return layers
    }

    public var parameters: [Parameter] { sublayers.flatMap(\.parameters) }
    public var stateTensors: [StateTensor] { sublayers.flatMap(\.stateTensors) }
    public var multiplyAdds: Int { sublayers.map(\.multiplyAdds).reduce(0, +) }
    /// The receptive-field growth of the main path: two 3x3 convolutions, the first strided.
    public var geometry: SpatialGeometry { conv1.geometry }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        var main = conv1.forward(x, mode: mode)
        if mode == .training && normalisesOnRead && conv2.appliesPrologue {
            // Training reads bn1's map only in conv2, which applies bn1 and its ReLU as it reads conv1's output
            // (`ConvolutionPrologue`): the map is never written.
            let prologue = bn1.trainLeavingOutput(main)
            relu1.passThroughUnwritten()
            main = conv2.train(main, through: prologue)
        } else {
            main = bn1.forward(main, mode: mode)
            main = relu1.forward(main, mode: mode)
            main = conv2.forward(main, mode: mode)
        }
        let skip = shortcut.map { $0.bn.forward($0.conv.forward(x, mode: mode), mode: mode) } ?? x
        // Training never reads bn2's own map, so bn2 writes the block's output directly; inference
        // (what the views inspect) keeps every sublayer's map.
        let y = mode == .training
            ? bn2.trainAddingRectified(main, skip: skip, into: output)
            : rectifiedSum(bn2.forward(main, mode: mode), skip)
        lastOutput = y
        return y
    }

    /// Inference with each batch norm folded into the convolution before it, the inner ReLU applied as
    /// the first convolution writes, and the shortcut added and the sum rectified as the second one writes
    /// (`Conv2d.inferFolded`). Keeps no sublayer outputs; the result is in the second convolution's buffer.
    public func inferFolded(_ x: Tensor) -> Tensor {
        let inner = conv1.inferFolded(x, batchNorm: bn1, rectify: true)
        let skip = shortcut.map { $0.conv.inferFolded(x, batchNorm: $0.bn, rectify: false) } ?? x
        lastOutput = nil
        return conv2.inferFolded(inner, batchNorm: bn2, rectify: true, adding: skip)
    }

    /// `relu(main + skip)` into the block's output buffer: the folded pass's epilogue (`ConvolutionEpilogue`),
    /// out of place, since inference keeps bn2's own map for the views.
    private func rectifiedSum(_ main: Tensor, _ skip: Tensor) -> Tensor {
        let y = output.tensor(batch: main.batch, shape: outputShape)
        let a = main.pointer, b = skip.pointer, out = y.pointer
        Parallel.forEachChunk(y.count, minimum: 32_768) { range, _ in
            let lo = range.lowerBound
            ckernels_rectified_sum(a + lo, b + lo, 1, range.count, out + lo)
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let y = lastOutput else { preconditionFailure("\(name): backward before forward") }
        let dsum = sumGradient.tensor(batch: y.batch, shape: outputShape)
        let g = dy.pointer, out = y.pointer, ds = dsum.pointer
        let guided: Int32 = guidesBackward ? 1 : 0
        // bn2 and the shortcut's batch norm both take this gradient: their backward-pass sums are gathered
        // from each image as it is written, while it is in cache.
        let norms = [bn2] + (shortcut.map { [$0.bn] } ?? [])
        let requests = norms.map { $0.gradientStatisticsRequest(images: y.batch) }
        let perImage = outputShape.count
        Parallel.forEachRange(y.batch) { images, _ in
            for image in images {
                let lo = image * perImage
                ckernels_rectified_gradient(g + lo, out + lo, guided, perImage, ds + lo)
                for request in requests { request?.gather(dsum, image: image) }
            }
        }
        for (norm, request) in zip(norms, requests) { norm.gradientStatisticsGathered(request == nil ? nil : dsum) }
        var main = dsum
        for layer in [bn2, conv2, relu1, bn1] as [Layer] {
            gradientTap?(layer, main)
            main = layer.backward(main)
        }
        gradientTap?(conv1, main)
        var skip = dsum
        if let shortcut {
            gradientTap?(shortcut.bn, dsum)
            let beforeBatchNorm = shortcut.bn.backward(dsum)
            gradientTap?(shortcut.conv, beforeBatchNorm)
            skip = shortcut.conv.backward(beforeBatchNorm)
        }
        // The block's input gradient is conv1's with the shortcut's added as conv1 writes it (in conv1's
        // buffer), so the sum takes no pass of its own.
        return conv1.backward(main, adding: computesInputGradient ? skip : nil)
    }
}
