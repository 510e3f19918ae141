/// Replaces a matrix by an approximately orthogonal one with the same singular vectors (`U S V^T` ->
/// about `U V^T`), by a few steps of a quintic Newton-Schulz iteration: the heart of the Muon
/// optimiser (Jordan et al. 2024), which steps each filter bank along its orthogonalised momentum.
///
/// The iteration `X <- a X + (b A + c A^2) X` with `A = X X^T` and (a, b, c) = (3.4445, -4.7750, 2.0315)
/// pushes every singular value of a matrix scaled to norm 1 towards 1 within three steps; it
/// overshoots to somewhere in about (0.7, 1.2), which Muon's authors found trains as well as the exact
/// `U V^T`. It runs on the short side (rows <= columns, transposing when needed), so the products are
/// at most rows x rows x columns, a few milliseconds for a 256-filter 3x3 bank. The scratch space is
/// allocated once per matrix shape.
final class Orthogonalizer {
    let rows: Int
    let columns: Int
    /// The short and long side.
    private let short: Int
    private let long: Int
    private let x: FloatBuffer
    private let next: FloatBuffer
    private let gram: FloatBuffer
    private let polynomial: FloatBuffer

    static let coefficients: (a: Float, b: Float, c: Float) = (3.4445, -4.7750, 2.0315)
    static let steps = 3

    init(rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
        short = min(rows, columns)
        long = max(rows, columns)
        x = FloatBuffer(capacity: short * long)
        next = FloatBuffer(capacity: short * long)
        gram = FloatBuffer(capacity: short * short)
        polynomial = FloatBuffer(capacity: short * short)
    }

    /// Overwrites the row-major `rows x columns` matrix at `matrix` with its orthogonalisation. A zero
    /// matrix stays zero.
    func orthogonalize(_ matrix: UnsafeMutablePointer<Float>) {
        let count = rows * columns
        var squares: Float = 0
        for i in 0..<count { squares += matrix[i] * matrix[i] }
        let scale = 1 / (squares.squareRoot() + 1e-7)
        let transposed = rows > columns
        var current = x.base, other = next.base
        if transposed {
            for r in 0..<rows { for c in 0..<columns { current[c * rows + r] = matrix[r * columns + c] * scale } }
        } else {
            for i in 0..<count { current[i] = matrix[i] * scale }
        }
        let (a, b, c) = Orthogonalizer.coefficients
        let g = gram.base, p = polynomial.base
        for _ in 0..<Orthogonalizer.steps {
            // A = X X^T; P = b A + c A A; X' = a X + P X.
            BLAS.gemm(transposeB: true, m: short, n: short, k: long, a: current, lda: long, b: current, ldb: long, c: g, ldc: short)
            BLAS.gemm(m: short, n: short, k: short, alpha: c, a: g, lda: short, b: g, ldb: short, c: p, ldc: short)
            for i in 0..<(short * short) { p[i] += b * g[i] }
            other.update(from: current, count: short * long)
            BLAS.gemm(m: short, n: long, k: short, a: p, lda: short, b: current, ldb: long, beta: a, c: other, ldc: long)
            swap(&current, &other)
        }
        if transposed {
            for r in 0..<rows { for c in 0..<columns { matrix[r * columns + c] = current[c * rows + r] } }
        } else {
            matrix.update(from: current, count: count)
        }
    }
}
