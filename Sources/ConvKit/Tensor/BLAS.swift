import CBLAS

/// Row-major single-precision matrix products through OpenBLAS.
///
/// OpenBLAS runs single-threaded: ConvScope splits batches across cores itself (`Parallel`), which
/// beats OpenBLAS's own threading on the skinny matrices of small images.
public enum BLAS {
    private static let configured: Void = { openblas_set_num_threads(1) }()

    /// The OpenBLAS kernel family in use (for example `SkylakeX` or `Haswell`).
    public static var coreName: String {
        _ = configured
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// `C = alpha * op(A) * op(B) + beta * C` with `op(A)` of size m x k and `op(B)` of size k x n.
    @inline(__always)
    public static func gemm(
        transposeA: Bool = false, transposeB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        _ = configured
        cblas_sgemm(
            CblasRowMajor,
            transposeA ? CblasTrans : CblasNoTrans,
            transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
