/// Where a `Dataset` came from: the real CIFAR-10 files in a folder, or the built-in synthetic shapes.
public enum DataSource: Sendable, Equatable, CustomStringConvertible {
    /// CIFAR-10's binary batches in `directory`.
    case cifar10(directory: String)
    /// `SyntheticDataset` drawn from `seed`.
    case synthetic(seed: UInt64)

    /// The name to show users: `CIFAR-10` or, loudly, `SYNTHETIC`.
    public var displayName: String {
        switch self {
        case .cifar10: return "CIFAR-10"
        case .synthetic: return "SYNTHETIC"
        }
    }

    /// True for the synthetic shapes, which must never pass for CIFAR-10.
    public var isSynthetic: Bool {
        if case .synthetic = self { return true }
        return false
    }

    /// The class names of this source, in label order.
    public var classNames: [String] {
        isSynthetic ? SyntheticDataset.classNames : Dataset.classNames
    }

    /// `CIFAR-10 (/path)` or `SYNTHETIC (seed 7)`.
    public var description: String {
        switch self {
        case .cifar10(let directory): return "CIFAR-10 (\(directory))"
        case .synthetic(let seed): return "SYNTHETIC (seed \(seed))"
        }
    }
}
