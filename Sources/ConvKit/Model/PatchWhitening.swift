/// Patch whitening for a network's first convolution, as in the CIFAR-10 speed-run recipes (Page's
/// ResNet-9, airbench): the filters are fixed to the principal directions of the training images'
/// k x k patches, each scaled by 1 / sqrt(its variance + eps), in pairs of opposite sign.
///
/// The layer then hands the rest of the network decorrelated, unit-variance inputs; it is frozen, so
/// it costs nothing to train. With C output channels the C/2 strongest directions are kept.
public enum PatchWhitening {
    /// Sets `conv` (no bias expected to matter: it is zeroed) from `images` and freezes it.
    public static func initialize(_ conv: Conv2d, from images: ImageSet, sampleImages: Int = 5000, epsilon: Double = 5e-4) {
        let k = conv.geometry.kernel, inC = conv.inputShape.channels, dimension = k * k * inC
        let outC = conv.outputShape.channels, directions = min(outC / 2, dimension)
        precondition(directions >= 1, "whitening needs at least two output channels")
        // Second moments of all k x k patches of the normalised images (in the weights' ky, kx, c order).
        var covariance = [Double](repeating: 0, count: dimension * dimension)
        let assembler = BatchAssembler(), buffer = FloatBuffer()
        let count = min(sampleImages, images.count), h = conv.inputShape.height, w = conv.inputShape.width
        var patch = [Double](repeating: 0, count: dimension)
        var patches = 0.0
        for index in 0..<count {
            let x = assembler.tensor(images, index: index, into: buffer)
            for y in 0...(h - k) {
                for xPos in 0...(w - k) {
                    for ky in 0..<k {
                        for kx in 0..<k {
                            for c in 0..<inC { patch[(ky * k + kx) * inC + c] = Double(x.pointer[((y + ky) * w + xPos + kx) * inC + c]) }
                        }
                    }
                    for i in 0..<dimension {
                        let pi = patch[i]
                        for j in i..<dimension { covariance[i * dimension + j] += pi * patch[j] }
                    }
                    patches += 1
                }
            }
        }
        for i in 0..<dimension {
            for j in i..<dimension {
                covariance[i * dimension + j] /= patches
                covariance[j * dimension + i] = covariance[i * dimension + j]
            }
        }
        let (values, vectors) = symmetricEigen(covariance, size: dimension)
        let order = (0..<dimension).sorted { values[$0] > values[$1] }
        let weights = conv.weight.value.base
        conv.weight.values.update(repeating: 0)
        for (rank, e) in order.prefix(directions).enumerated() {
            let scale = 1 / (max(values[e], 0) + epsilon).squareRoot()
            for d in 0..<dimension {
                let value = Float(vectors[d * dimension + e] * scale)
                weights[rank * dimension + d] = value
                weights[(rank + directions) * dimension + d] = -value
            }
        }
        conv.bias?.values.update(repeating: 0)
        conv.weight.isFrozen = true
        conv.bias?.isFrozen = true
    }

    /// Eigenvalues and eigenvectors (column e of the row-major matrix) of a symmetric matrix, by
    /// cyclic Jacobi rotations.
    static func symmetricEigen(_ matrix: [Double], size n: Int) -> (values: [Double], vectors: [Double]) {
        var a = matrix
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        for _ in 0..<100 {
            var off = 0.0
            for i in 0..<n { for j in (i + 1)..<max(n, i + 1) { off += a[i * n + j] * a[i * n + j] } }
            if off < 1e-22 { break }
            for p in 0..<n {
                for q in (p + 1)..<max(n, p + 1) where abs(a[p * n + q]) > 1e-300 {
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * a[p * n + q])
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[k * n + p], vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        return ((0..<n).map { a[$0 * n + $0] }, v)
    }
}
