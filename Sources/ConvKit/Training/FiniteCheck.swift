/// Scans for NaN and infinity: in gradients (each training step), in weights and statistics (the end of
/// an epoch, a save) and in raw float32 bytes (a checkpoint being loaded).
public enum FiniteCheck {
    /// The squared Euclidean norm of every parameter's gradient, summed in `Double` so that large but
    /// finite gradients do not overflow it: finite exactly when every gradient is. One pass over the
    /// gradients, bound by memory like the optimiser's (costs in `docs/reliability.md`).
    public static func squaredGradientNorm(_ parameters: [Parameter]) -> Double {
        var total = 0.0
        for parameter in parameters {
            let g = parameter.gradient.base, n = parameter.count
            // Four independent sums, so the loop is not one long chain of dependent additions.
            var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
            var i = 0
            while i + 4 <= n {
                let a = Double(g[i]), b = Double(g[i + 1]), c = Double(g[i + 2]), d = Double(g[i + 3])
                s0 += a * a
                s1 += b * b
                s2 += c * c
                s3 += d * d
                i += 4
            }
            while i < n {
                let a = Double(g[i])
                s0 += a * a
                i += 1
            }
            total += (s0 + s1) + (s2 + s3)
        }
        return total
    }

    /// The first float state tensor (in order) holding a NaN or an infinity, with that value.
    public static func firstNonFinite(in tensors: [StateTensor]) -> (tensor: String, value: Float)? {
        for tensor in tensors {
            guard case let .float(buffer, layout) = tensor.content else { continue }
            if let value = firstNonFinite(UnsafeBufferPointer(buffer.prefix(layout.count))) { return (tensor.name, value) }
        }
        return nil
    }

    /// The first NaN or infinity among `values`.
    public static func firstNonFinite(_ values: UnsafeBufferPointer<Float>) -> Float? {
        // `x * 0` is zero for a finite x and NaN otherwise, so the sum is NaN exactly when some value is
        // not finite: a branch-free pass that vectorises; only then does the scan look for which one.
        var sum: Float = 0
        for value in values { sum += value * 0 }
        guard !sum.isFinite else { return nil }
        return values.first { !$0.isFinite }
    }

    /// The index of the first float32 in little-endian `bytes` that is NaN or infinite (all exponent bits set).
    public static func firstNonFiniteFloat32(_ bytes: UnsafeRawBufferPointer) -> Int? {
        let count = bytes.count / 4
        for index in 0..<count {
            let bits = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self))
            if bits & 0x7F80_0000 == 0x7F80_0000 { return index }
        }
        return nil
    }
}
