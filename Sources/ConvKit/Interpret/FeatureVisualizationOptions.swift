/// What a feature visualisation maximises.
public enum FeatureObjective: Sendable, Equatable, Hashable, Codable {
    /// The mean over positions of channel `channel` of layer `layer`'s output (a flat layer's unit
    /// `channel`). Pick the ReLU after a convolution for its post-activation channel.
    case channel(layer: String, channel: Int)
    /// The raw score (logit) of class `classIndex`.
    case classLogit(Int)
}

/// The settings of a feature visualisation: configuration as data, stored and compared as a whole.
///
/// The penalties (total variation, L2, diversity) are weighed against the objective's current size, so
/// that one set of weights suits a first-layer channel whose mean is near 1 and a logit near 30.
public struct FeatureVisualizationOptions: Codable, Sendable, Equatable {
    /// Gradient-ascent steps (Adam).
    public var steps = 256
    /// Adam's step size on the spectrum's coefficients.
    public var learningRate: Float = 0.05
    /// Each step shifts the image by up to this many pixels each way (wrapping round), so that what is
    /// learnt does not sit on one pixel grid.
    public var jitter = 2
    /// Each step scales the image by a factor drawn from `1 - scale ... 1 + scale` (bilinear, about the centre).
    public var scale: Float = 0.1
    /// Weight of the total-variation penalty (mean squared difference of neighbouring pixels, in 0...1 units).
    public var totalVariation: Float = 2
    /// Weight of the L2 penalty (mean squared distance of the pixels from mid grey).
    public var l2: Float = 0.1
    /// The spectrum's coefficients are scaled by `1 / frequency^decay`: 1 gives natural-image statistics
    /// (pink noise), 0 optimises all frequencies alike.
    public var decay: Float = 1
    /// Images per objective; more than one turns the diversity penalty on.
    public var images = 1
    /// Weight of the diversity penalty: the mean cosine similarity of an image's Gram matrix at the layer
    /// with those of the other images of its objective (Olah et al. 2017).
    public var diversity: Float = 1
    /// Seeds the starting spectra and every step's jitter and scale.
    public var seed: UInt64 = 0
    /// At most this many images go through the network at once (memory).
    public var batchLimit = 32

    public init(
        steps: Int = 256, learningRate: Float = 0.05, jitter: Int = 2, scale: Float = 0.1, totalVariation: Float = 2,
        l2: Float = 0.1, decay: Float = 1, images: Int = 1, diversity: Float = 1, seed: UInt64 = 0, batchLimit: Int = 32
    ) {
        self.steps = steps
        self.learningRate = learningRate
        self.jitter = jitter
        self.scale = scale
        self.totalVariation = totalVariation
        self.l2 = l2
        self.decay = decay
        self.images = images
        self.diversity = diversity
        self.seed = seed
        self.batchLimit = batchLimit
    }

    /// What is wrong with these options for `size x size` images, in one line; nil when nothing is.
    public func problem(imageSize: Int) -> String? {
        if !(1...100_000).contains(steps) { return "steps must be between 1 and 100000 (got \(steps))" }
        if !(learningRate.isFinite && learningRate > 0 && learningRate <= 10) {
            return "the learning rate must be above 0 and at most 10 (got \(learningRate))"
        }
        if !(0...(imageSize / 2)).contains(jitter) { return "jitter must be between 0 and \(imageSize / 2) pixels (got \(jitter))" }
        if !(scale.isFinite && scale >= 0 && scale < 0.5) { return "scale must be at least 0 and below 0.5 (got \(scale))" }
        for (name, value) in [("total variation", totalVariation), ("l2", l2), ("diversity", diversity)]
        where !(value.isFinite && value >= 0 && value <= 1000) {
            return "the \(name) weight must be between 0 and 1000 (got \(value))"
        }
        if !(decay.isFinite && decay >= 0 && decay <= 3) { return "decay must be between 0 and 3 (got \(decay))" }
        if !(1...64).contains(images) { return "images per objective must be between 1 and 64 (got \(images))" }
        if !(1...1024).contains(batchLimit) { return "the batch limit must be between 1 and 1024 (got \(batchLimit))" }
        return nil
    }
}

/// The result for one objective: `options.images` synthesised images with their objective values.
public struct FeatureVisualization: Sendable {
    public let objective: FeatureObjective
    /// The layer whose output was maximised (the last layer for a class logit).
    public let layer: String
    public let width: Int
    public let height: Int
    /// Each image channels-last `height x width x 3`, RGB in 0...1.
    public let images: [[Float]]
    /// The objective at each final image (neither shifted nor scaled).
    public let values: [Float]
    /// The objective at each starting image (the seeded, nearly grey spectrum).
    public let startValues: [Float]

    public init(
        objective: FeatureObjective, layer: String, width: Int, height: Int, images: [[Float]], values: [Float], startValues: [Float]
    ) {
        self.objective = objective
        self.layer = layer
        self.width = width
        self.height = height
        self.images = images
        self.values = values
        self.startValues = startValues
    }

    /// The images as 8-bit RGB.
    public var rgbImages: [RGBImage] {
        images.map { image in
            RGBImage(width: width, height: height, pixels: image.map { UInt8(max(0, min(255, ($0 * 255).rounded()))) })
        }
    }
}
