/// The first principal component of a small matrix's rows, for Eigen-CAM.
enum PrincipalComponent {
    /// Centres the columns of `matrix` (`rows x columns`, row-major), finds the direction of largest
    /// variance (the first right singular vector, as `numpy.linalg.svd` gives it) and returns every row's
    /// projection on it.
    ///
    /// A singular vector's sign is arbitrary (LAPACK's choice decides it in pytorch-grad-cam); the
    /// projection is flipped when its most negative value outweighs its most positive one (Seg-Eigen-CAM's
    /// correction), so that the ReLU that follows keeps the dominant structure.
    static func projection(_ matrix: [Float], rows: Int, columns: Int) -> [Float] {
        var centred = matrix.map(Double.init)
        for c in 0..<columns {
            var mean = 0.0
            for r in 0..<rows { mean += centred[r * columns + c] }
            mean /= Double(rows)
            for r in 0..<rows { centred[r * columns + c] -= mean }
        }
        // X^T X: its top eigenvector is X's top right singular vector.
        var gram = [Double](repeating: 0, count: columns * columns)
        for r in 0..<rows {
            for i in 0..<columns {
                let a = centred[r * columns + i]
                guard a != 0 else { continue }
                for j in i..<columns { gram[i * columns + j] += a * centred[r * columns + j] }
            }
        }
        for i in 0..<columns { for j in 0..<i { gram[i * columns + j] = gram[j * columns + i] } }
        let vector = topEigenvector(gram, size: columns)
        var projection = (0..<rows).map { r in
            Float((0..<columns).reduce(0.0) { $0 + centred[r * columns + $1] * vector[$1] })
        }
        if let low = projection.min(), let high = projection.max(), abs(low) > abs(high) {
            projection = projection.map { -$0 }
        }
        return projection
    }

    /// The eigenvector of the largest eigenvalue of a symmetric matrix, by cyclic Jacobi rotations:
    /// robust when the top eigenvalues are close, where power iteration would crawl.
    static func topEigenvector(_ symmetric: [Double], size n: Int) -> [Double] {
        var a = symmetric
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        let total = a.reduce(0) { $0 + $1 * $1 }
        for _ in 0..<60 {
            var offDiagonal = 0.0
            for i in 0..<n { for j in (i + 1)..<max(n, i + 1) { offDiagonal += a[i * n + j] * a[i * n + j] } }
            if offDiagonal <= 1e-30 * max(total, 1e-300) { break }
            for p in 0..<n {
                for q in (p + 1)..<max(n, p + 1) {
                    let apq = a[p * n + q]
                    guard abs(apq) > 1e-300 else { continue }
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
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
        let top = (0..<n).max { a[$0 * n + $0] < a[$1 * n + $1] } ?? 0
        return (0..<n).map { v[$0 * n + top] }
    }
}
