/// A training set and a test set of 32 x 32 colour images in ten classes, and where they came from.
public struct Dataset: Sendable {
    public var train: ImageSet
    public var test: ImageSet
    public let source: DataSource

    public init(train: ImageSet, test: ImageSet, source: DataSource) {
        self.train = train
        self.test = test
        self.source = source
    }

    /// Loads `source`: reads the CIFAR-10 folder or draws the synthetic set with its default sizes.
    /// `trainLimit` keeps only the first that many training images (for quick runs and tests).
    public static func load(_ source: DataSource, trainLimit: Int? = nil) throws -> Dataset {
        switch source {
        case .cifar10(let directory):
            return try CIFAR10Loader.load(directory: directory, trainLimit: trainLimit)
        case .synthetic(let seed):
            var dataset = SyntheticDataset.generate(seed: seed)
            if let trainLimit { dataset.train = dataset.train.subset(first: trainLimit) }
            return dataset
        }
    }

    /// `CIFAR-10` or `SYNTHETIC`: show this wherever results are shown.
    public var displayName: String { source.displayName }
    /// True when the images are the synthetic shapes, not CIFAR-10.
    public var isSynthetic: Bool { source.isSynthetic }
    /// This dataset's class names, in label order.
    public var classNames: [String] { source.classNames }
    /// Number of classes.
    public var classCount: Int { classNames.count }

    /// CIFAR-10's classes in label order (as in `batches.meta.txt`).
    public static let classNames = [
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
    ]
}
