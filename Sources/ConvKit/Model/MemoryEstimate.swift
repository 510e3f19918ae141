/// How much memory a model takes to train or run on a batch, worked out from its `ModelPlan` before
/// anything is allocated, so that a model or batch far too big for the machine is refused in
/// microseconds instead of allocating for a minute and then aborting.
///
/// The estimate follows the engine's buffers: in inference every layer keeps its output for the whole
/// batch; in training a layer keeps its output only where `Network` does (see `BufferSharing`), the
/// others and the gradients between sharing layers live in the network's shared buffers, which the layer
/// needing the most is charged with, and layers that do not share keep their output and input gradient
/// (with masks and indices where they have them); a convolution adds per-worker
/// lowering scratch for a group of images and rearranged copies of its weights (direct, flipped and
/// Winograd forms, per-worker gradient parts); training adds gradients, the optimiser's moments and the
/// trainer's copy of the last good state (see `Trainer`). A whole training run (`Run`) adds its images,
/// its weight history and the program itself. `docs/reliability.md` compares it with measured peak memory.
public struct MemoryEstimate: Sendable {
    /// What the model is used for: the batch size, and the optimiser when training.
    public enum Use: Sendable, Equatable {
        case training(batch: Int, optimizer: Optimizer.Kind)
        case inference(batch: Int)

        public var batch: Int {
            switch self {
            case .training(let batch, _), .inference(let batch): return batch
            }
        }

        public var isTraining: Bool {
            if case .training = self { return true }
            return false
        }
    }

    /// One layer's share: its weights and their companions, its activations for the batch, its scratch.
    public struct Part: Sendable, Equatable {
        /// The layer's name (`conv2`), `input` for the batch of images itself, or a run's share (`the data set`, `the weight history`, `the program`).
        public let layer: String
        /// The spec token (`conv4096`), empty for the input.
        public let token: String
        public let bytes: Double
    }

    /// What a training run holds besides its steps' buffers, in bytes: its images and its weight history
    /// (`Trainer.memoryRun` works them out), and the program itself (`programBytes`).
    public struct Run: Sendable, Equatable {
        /// The training and test images in memory (pixels and labels).
        public var images: Double
        /// The weight history at its fullest over the run (the time scrubber's snapshots, within their budget).
        public var history: Double

        public init(images: Double, history: Double) {
            self.images = images
            self.history = history
        }
    }

    /// The program itself: code, the Swift runtime, OpenBLAS's buffers and the allocator's slack. A training
    /// run peaked at 31-34 MB above what the rest of the estimate counts (docs/reliability.md, "The whole run").
    public static let programBytes = 40e6

    public let plan: ModelPlan

    public init(plan: ModelPlan) { self.plan = plan }

    /// The estimate for `spec` (throws the spec's error when it does not build).
    public init(spec: ModelSpec, input: FeatureShape = .cifarImage, classes: Int = 10) throws(ModelSpecError) {
        plan = try ModelPlan(spec: spec, input: input, classes: classes)
    }

    /// Bytes for `use`, in all, and for the whole `run` when given.
    public func bytes(for use: Use, run: Run? = nil) -> Double { parts(for: use, run: run).reduce(0) { $0 + $1.bytes } }

    /// Bytes of the weights alone (what a checkpoint's model holds, 4 bytes per parameter).
    public var parameterBytes: Double { plan.layers.reduce(0) { $0 + 4 * Double($1.parameterCount) } }

    /// The layer (or, with `run`, the run's share) needing the most for `use`.
    public func largestPart(for use: Use, run: Run? = nil) -> Part {
        parts(for: use, run: run).max { $0.bytes < $1.bytes }!
    }

    /// Every layer's share for `use`, in order, after the input batch's; with `run`, then the data set's, the
    /// weight history's and the program's.
    public func parts(for use: Use, run: Run? = nil) -> [Part] {
        let layers = layerParts(for: use)
        guard let run else { return layers }
        return layers + [
            Part(layer: "the data set", token: "", bytes: run.images), Part(layer: "the weight history", token: "", bytes: run.history),
            Part(layer: "the program", token: "", bytes: MemoryEstimate.programBytes),
        ]
    }

    /// The input batch's share and every layer's for `use`.
    private func layerParts(for use: Use) -> [Part] {
        let batch = Double(max(use.batch, 1))
        let input = Part(layer: "input", token: "", bytes: 4 * batch * MemoryEstimate.count(plan.inputShape) * (use.isTraining ? 2 : 1))
        let roles = use.isTraining ? trainingRoles : nil
        var floats = plan.layers.map { layer in self.floats(layer, use: use, batch: batch, role: roles?[layer.index]) }
        if let roles {
            // The shared pair holds, per image, the largest gradient between sharing layers or output not
            // kept; the recomputing pair the largest recomputed output. Each is charged to its layer.
            var pair = (floats: 0.0, layer: 0), recomputing = pair
            for (layer, traits) in zip(plan.layers, self.traits) where traits != nil {
                let gradient = layer.index > 0 ? MemoryEstimate.count(layer.inputShape) : 0
                let output = roles[layer.index] == .kept ? 0 : MemoryEstimate.count(layer.outputShape)
                if max(gradient, output) > pair.floats { pair = (max(gradient, output), layer.index) }
                if roles[layer.index] == .recomputed && output > recomputing.floats { recomputing = (output, layer.index) }
            }
            floats[pair.layer] += 2 * batch * pair.floats
            floats[recomputing.layer] += 2 * batch * recomputing.floats
        }
        return [input] + zip(plan.layers, floats).map { layer, floats in
            Part(layer: layer.name, token: layer.token.text, bytes: 4 * floats)
        }
    }

    /// Each planned layer's `BufferTraits` (nil where it keeps its own buffers).
    private var traits: [BufferTraits?] {
        plan.layers.map { layer in
            BufferTraits(layer.token.operation, afterBatchNorm: layer.index > 0 && plan.layers[layer.index - 1].token.operation == .batchNorm)
        }
    }

    /// What a training step does with each layer's output, as `Network` decides it.
    var trainingRoles: [Network.OutputRole] { Network.outputRoles(traits) }

    /// Throws when `use` (the whole `run`, when given) needs more than `budget`; `source` names the checkpoint
    /// the model came from, if any.
    public func require(_ use: Use, run: Run? = nil, within budget: MemoryBudget = .machine(), source: String? = nil) throws(MemoryLimitError) {
        let needed = bytes(for: use, run: run)
        guard needed > budget.bytes else { return }
        throw MemoryLimitError(
            model: plan.spec.text, use: use, bytes: needed, budget: budget, largest: largestPart(for: use, run: run), source: source,
            run: run)
    }

    // MARK: - The accounting

    static let workers = Double(Parallel.workerCount)

    /// Floats per sample that a training batch norm of `channels` channels keeps for its per-image sums
    /// (`ImageChannelSums`): two sums per channel in doubles.
    static func imageSums(_ channels: Int) -> Double { 2 * 2 * Double(channels) }

    /// Elements per sample of `shape`, in `Double` (a spec's numbers can be absurd).
    static func count(_ shape: FeatureShape) -> Double { Double(shape.channels) * Double(shape.height) * Double(shape.width) }

    /// Floats of `layer` for `use` at `batch` images.
    private func floats(_ layer: ModelPlan.Layer, use: Use, batch: Double, role: Network.OutputRole?) -> Double {
        let inputs = MemoryEstimate.count(layer.inputShape), outputs = MemoryEstimate.count(layer.outputShape)
        let spatial = Double(layer.outputShape.height) * Double(layer.outputShape.width)
        let training = use.isTraining
        let first = layer.index == 0
        let activations: Double
        /// The layer's convolutions: input channels, kernel side and output channels.
        var convolutions: [(inputs: Int, kernel: Int, outputs: Int)] = []
        switch layer.token.operation {
        case let .conv(channels, kernel, _, _):
            // In training the output when kept; the input gradient is in the shared buffers.
            activations = role == nil || role == .kept ? outputs : 0
            convolutions = [(layer.inputShape.channels, kernel, channels)]
        case .maxPool:
            // The winners' taps (a byte each, a quarter of a float), and the output when kept.
            activations = outputs / 4 + (role == nil || role == .kept ? outputs : 0)
        case .dropout:
            activations = training ? 2 * outputs + inputs : outputs
        case .flatten:
            activations = 0
        case .activation(.relu) where training && layer.index > 0 && plan.layers[layer.index - 1].token.operation == .batchNorm:
            // The batch norm before it rectifies in place and masks the gradient (`BatchNorm2d.fuse`).
            activations = 0
        case .batchNorm:
            activations = (role == nil || role == .kept ? outputs : 0)
                + (training ? MemoryEstimate.imageSums(layer.outputShape.channels) : 0)
        case .activation:
            activations = role == nil || role == .kept ? outputs : 0
        case .avgPool, .globalAvgPool, .fc:
            activations = outputs + (training ? inputs : 0)
        case let .residual(channels, stride, middle):
            let inner = Double(middle) * spatial
            let shortcut = ModelPlan.hasShortcut(input: layer.inputShape, channels: channels, stride: stride)
            // Inference: conv1, bn1, relu1 (inner), conv2, bn2, the sum (outer), the shortcut's conv and bn.
            // Training writes no map of bn2's own (it writes the sum, `BatchNorm2d.trainAddingRectified`)
            // and adds each sublayer's input gradient and that of the sum; conv1's input gradient is the
            // block's (the shortcut's is added into it, `ResidualBlock.backward`). bn1's map is counted, though
            // training writes none where conv2 applies bn1 as it reads (`ConvolutionPrologue`; fp32 Winograd):
            // the plan does not know the kernel path, so the estimate stays an upper bound.
            let norms = [middle, channels] + (shortcut ? [channels] : [])
            activations = training
                ? 5 * inner + 4 * outputs + (first ? 0 : inputs) + (shortcut ? 3 * outputs + inputs : 0)
                    + norms.map(MemoryEstimate.imageSums).reduce(0, +)
                : 3 * inner + 3 * outputs + (shortcut ? 2 * outputs : 0)
            convolutions = [(layer.inputShape.channels, 3, middle), (middle, 3, channels)]
                + (shortcut ? [(layer.inputShape.channels, 1, channels)] : [])
        }
        let perParameter: Double
        switch use {
        case .inference:
            perParameter = 1
        case .training(_, let optimizer):
            let moments: Double = optimizer == .adam || optimizer == .adamw ? 2 : 1
            // Value, gradient, moments, and the last good state's copy of value and moments.
            perParameter = 2 + moments + (1 + moments)
        }
        // Convolution weights' rearranged copies: folded (inference), direct and Winograd forms (up to 4x
        // the weights each for F(4x4)), and in training flipped forms and per-worker gradient parts.
        let weightCopies = training ? 10 + MemoryEstimate.workers : 6
        var extra = 0.0
        for conv in convolutions {
            let rowLength = Double(conv.kernel) * Double(conv.kernel) * Double(conv.inputs)
            // Per worker, a group of images lowered to a column matrix of about 1024 rows (and, in
            // training, its gradient).
            let imagesPerGroup = min(batch, max(1, (1024 / max(spatial, 1)).rounded(.down)))
            extra += MemoryEstimate.workers * (training ? 2 : 1) * imagesPerGroup * spatial * rowLength
            extra += weightCopies * rowLength * Double(conv.outputs)
            if conv.kernel == 3 && min(conv.inputs, conv.outputs) >= 16 {
                // Winograd's transformed tiles per worker: 36 planes of up to about 192 tiles of both sides'
                // channels forward, and of up to 256 tiles for the weight gradient (fewer on wide layers).
                extra += MemoryEstimate.workers * 36 * (192 + (training ? 256 : 0)) * Double(conv.inputs + conv.outputs)
            }
        }
        // Saving a checkpoint: the weights and the optimiser's moments in PyTorch's order, packed, and the
        // file's bytes, about twice the checkpoint for a moment.
        if case .training(_, let optimizer) = use {
            let moments: Double = optimizer == .adam || optimizer == .adamw ? 2 : 1
            extra += 2 * (1 + moments) * Double(layer.parameterCount)
        }
        return batch * activations + Double(layer.parameterCount) * perParameter + extra
    }
}
