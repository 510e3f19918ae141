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

    /// The eigenvector of the largest eigenvalue of a symmetric matrix (cyclic Jacobi rotations, shared
    /// with the patch whitening: robust when the top eigenvalues are close, where power iteration crawls).
    static func topEigenvector(_ symmetric: [Double], size n: Int) -> [Double] {
        let (values, vectors) = PatchWhitening.symmetricEigen(symmetric, size: n)
        let top = values.indices.max { values[$0] < values[$1] } ?? 0
        return (0..<n).map { vectors[$0 * n + top] }
    }
}
