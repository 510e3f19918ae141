/// The data randomisation test (Adebayo et al. 2018, "Sanity Checks for Saliency Maps", section 4): a
/// copy of the model's architecture is trained on the same images with their labels permuted, so that
/// it can only memorise; a method whose maps for the two models agree is not explaining what the model
/// learned from the labels.
///
/// The copy is trained from scratch with the checkpoint's own recipe (`TrainingConfig`), for fewer epochs;
/// the checkpoint's network is only read.
public struct DataRandomisationTest {
    /// One method's maps, the trained model's and the label-randomised model's, and their similarity.
    public struct Comparison: Sendable {
        public let method: ExplanationMethod
        /// Spearman rank correlation (absolute values for signed methods).
        public let spearman: Double
        /// SSIM of the maps scaled to [0, 1] (`SanityCheck.ssim`).
        public let ssim: Double
        public let trainedMap: [Float]
        public let randomisedMap: [Float]
    }

    /// The class explained in both models: the trained model's prediction (or the one asked for).
    public let classIndex: Int
    public let comparisons: [Comparison]
    /// The label-randomised model's last epoch: its accuracy on its own (shuffled) training labels, which
    /// memorisation raises, and on the true test labels, which should stay near chance.
    public let randomisedEpoch: TrainingHistory.Epoch?

    /// The training images with their labels permuted (seeded): the class counts stay the same, the link
    /// between an image and its label is gone.
    public static func shuffledLabels(_ images: ImageSet, seed: UInt64) -> ImageSet {
        var random = RandomSource(seed: seed, stream: 0x5AB1_E5)
        let order = random.permutation(images.count)
        return ImageSet(pixels: images.pixels, labels: order.map { images.labels[$0] })
    }

    /// Trains a fresh network of `config`'s architecture for `epochs` epochs on `dataset` with shuffled
    /// training labels (`seed` drives the shuffle and the initialisation). `progress(step, total)` hears each
    /// step and stops the training by answering false (then nil is returned).
    public static func trainOnShuffledLabels(
        config: TrainingConfig, dataset: Dataset, epochs: Int, seed: UInt64, progress: ((Int, Int) -> Bool)? = nil
    ) throws(DataRandomisationError) -> Trainer? {
        var config = config
        config.epochs = epochs
        config.seed = seed
        let shuffled = Dataset(train: shuffledLabels(dataset.train, seed: seed), test: dataset.test, source: dataset.source)
        let trainer: Trainer
        do {
            trainer = try Trainer(config: config, dataset: shuffled)
        } catch {
            throw .config(error)
        }
        trainer.weightHistory.cadence = .off  // a model trained only to be compared: nobody scrubs it
        while !trainer.isFinished {
            if case .diverged(let divergence) = trainer.step() { throw .diverged(divergence) }
            guard progress?(trainer.globalStep, trainer.totalSteps) ?? true else { return nil }
        }
        return trainer
    }

    /// Compares each method's map of `image` on `trained` and on `randomised` (the same architecture),
    /// at `layer` for the CAM family and Guided Grad-CAM, explaining `classIndex` (nil: the trained
    /// model's prediction) in both.
    public static func compare(
        trained: Network, randomised: Network, randomisedEpoch: TrainingHistory.Epoch? = nil, image: Tensor, layer: String?,
        methods: [ExplanationMethod], classIndex: Int? = nil, options: AttributionOptions = AttributionOptions()
    ) throws(InterpretError) -> DataRandomisationTest {
        let first = Inspector(network: trained), second = Inspector(network: randomised)
        first.run(image)
        let target = classIndex ?? first.predictedClass
        let (width, height) = (trained.inputShape.width, trained.inputShape.height)
        var comparisons: [Comparison] = []
        for method in methods {
            var maps: [[Float]] = []
            for inspector in [first, second] {
                inspector.run(image)
                let explanation = try inspector.explain(method, layer: method.usesLayer ? layer : nil, classIndex: target, options: options)
                let map = explanation.map(width: width, height: height)
                maps.append(method.isSigned ? map.map(abs) : map)
            }
            comparisons.append(Comparison(
                method: method, spearman: SanityCheck.spearman(maps[0], maps[1]),
                ssim: SanityCheck.ssim(maps[0], maps[1], width: width, height: height), trainedMap: maps[0], randomisedMap: maps[1]))
        }
        return DataRandomisationTest(classIndex: target, comparisons: comparisons, randomisedEpoch: randomisedEpoch)
    }
}

/// Why the label-randomised copy could not be trained.
public enum DataRandomisationError: Error, CustomStringConvertible {
    case config(TrainingConfigError)
    /// Training on the shuffled labels hit a non-finite number (a lower rate in the recipe helps).
    case diverged(Divergence)

    public var description: String {
        switch self {
        case .config(let error): return "the checkpoint's recipe does not train: \(error)"
        case .diverged(let divergence): return "training on shuffled labels diverged: \(divergence)"
        }
    }
}
