import ArgumentParser
import ConvKit
import ConvPresent

/// `--data DIR|synthetic`, shared by every command that reads images.
struct DataOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "CIFAR-10 binary folder, or 'synthetic' for the built-in drawn shapes.",
            discussion: "Without it: $CONVSCOPE_DATA, then ~/.cache/convscope/cifar-10-batches-bin.",
            valueName: "dir|synthetic"))
    var data: String?

    /// Finds and loads the dataset, saying which one it is on standard error.
    func load(trainLimit: Int? = nil, quiet: Bool = false) throws -> Dataset {
        let source = try DataLocator().locate(explicit: data)
        let dataset = try Dataset.load(source, trainLimit: trainLimit)
        if !quiet { printError("data: \(dataset.describe)") }
        return dataset
    }
}

extension Dataset {
    /// `CIFAR-10 from /path (50,000 train, 10,000 test)`; synthetic data says so loudly.
    var describe: String {
        let counts = "(\(train.count.formatted) train, \(test.count.formatted) test)"
        switch source {
        case .cifar10(let directory): return "CIFAR-10 from \(directory) \(counts)"
        case .synthetic: return "SYNTHETIC built-in shapes, not CIFAR-10 \(counts)"
        }
    }
}
