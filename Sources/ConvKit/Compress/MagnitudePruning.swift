/// Unstructured magnitude pruning: zero the weights of smallest absolute value, like PyTorch's
/// `prune.l1_unstructured` (per layer) or `prune.global_unstructured` (across layers).
///
/// Only conv and fc weights are pruned (not biases or batch norm). Each pruned weight gets a 0 in the
/// parameter's mask, which the optimiser re-applies after every step, so fine-tuning does not regrow
/// it; checkpoints keep the masks.
public enum MagnitudePruning {
    /// Zeroes `round(amount * n)` of the smallest-magnitude weights of each conv and fc weight tensor
    /// (`global == false`), or `round(amount * total)` across all of them (`global == true`).
    /// Ties are broken by position, so the result is deterministic. Returns each pruned tensor's
    /// zeros afterwards (including any that already were).
    @discardableResult
    public static func prune(_ network: Network, amount: Float, global: Bool = false) -> [WeightSparsity] {
        precondition(amount >= 0 && amount <= 1, "the amount to prune is a fraction in [0, 1]")
        let weights = network.parameters.filter(\.isWeight)
        if global {
            var all: [(magnitude: Float, parameter: Int, index: Int)] = []
            for (p, parameter) in weights.enumerated() {
                for i in 0..<parameter.count { all.append((abs(parameter.value.base[i]), p, i)) }
            }
            let doomed = Int((amount * Float(all.count)).rounded())
            all.sort { ($0.magnitude, $0.parameter, $0.index) < ($1.magnitude, $1.parameter, $1.index) }
            var masks = weights.map { [Float](repeating: 1, count: $0.count) }
            for entry in all.prefix(doomed) { masks[entry.parameter][entry.index] = 0 }
            for (parameter, mask) in zip(weights, masks) { apply(mask, to: parameter) }
        } else {
            for parameter in weights {
                let order = (0..<parameter.count).sorted {
                    (abs(parameter.value.base[$0]), $0) < (abs(parameter.value.base[$1]), $1)
                }
                var mask = [Float](repeating: 1, count: parameter.count)
                for i in order.prefix(Int((amount * Float(parameter.count)).rounded())) { mask[i] = 0 }
                apply(mask, to: parameter)
            }
        }
        return WeightSparsity.of(network)
    }

    /// Combines `mask` with any mask the parameter already has, and zeroes the pruned weights.
    private static func apply(_ mask: [Float], to parameter: Parameter) {
        let combined = FloatBuffer(mask)
        if let existing = parameter.mask {
            for i in 0..<parameter.count { combined.base[i] *= existing.base[i] }
        }
        parameter.mask = combined
        parameter.applyMask()
    }
}
