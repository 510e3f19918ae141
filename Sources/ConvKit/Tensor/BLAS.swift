import CBLAS
import CKernels
import Foundation

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

    /// What ConvScope changed of OpenBLAS's own choice of kernels, if anything (`correctedCore`).
    public struct CoreCorrection: Sendable, Equatable {
        /// The kernel family OpenBLAS chose by itself (for example `Prescott`).
        public let guessed: String
        /// The one it runs instead (for example `SkylakeX`).
        public let chosen: String
    }

    /// OpenBLAS picks its kernels by CPU model, and a release older than the CPU falls back to its oldest
    /// x86-64 kernels: Debian 12's OpenBLAS 0.3.21 runs `Prescott` (SSE3, no FMA) on an Intel Xeon of family 6,
    /// model 207, which has AVX-512 (docs/performance.md, "OpenBLAS's kernels"). Where the CPU has AVX2 and FMA
    /// but OpenBLAS chose an older family, and `OPENBLAS_CORETYPE` does not say which to use, this makes it take
    /// `Cooperlake` (AVX-512 with bf16), `SkylakeX` (AVX-512) or `Haswell` (AVX2 and FMA) instead; a family
    /// OpenBLAS chose that uses AVX2 or more, and any `OPENBLAS_CORETYPE`, stand as they are.
    ///
    /// Evaluated once, on first use; the command's `main` touches it before any other thread exists, because it
    /// sets `OPENBLAS_CORETYPE` for the moment OpenBLAS reads it (and removes it after), and before the first
    /// BLAS call, because it swaps the kernels those calls go through. Nil when nothing was changed.
    public static let correctedCore: CoreCorrection? = {
        let environment = ProcessInfo.processInfo.environment
        guard environment["OPENBLAS_CORETYPE"] == nil, let name = openblas_get_corename() else { return nil }
        let guessed = String(cString: name)
        let path = ckernels_best_path()
        guard path >= Int32(CKERNELS_AVX2), !modernCores.contains(guessed.lowercased()) else { return nil }
        let wanted = path >= Int32(CKERNELS_AVX512) ? (ckernels_has_bf16() != 0 ? "Cooperlake" : "SkylakeX") : "Haswell"
        setenv("OPENBLAS_CORETYPE", wanted, 1)
        defer { unsetenv("OPENBLAS_CORETYPE") }
        guard convscope_openblas_reselect_core() != 0, let now = openblas_get_corename() else { return nil }
        let chosen = String(cString: now)
        return chosen == guessed ? nil : CoreCorrection(guessed: guessed, chosen: chosen)
    }()

    /// OpenBLAS's x86-64 kernel families that use AVX2 and FMA or more (lower case, as `openblas_get_corename`
    /// names them but compared without case).
    private static let modernCores: Set<String> = ["haswell", "zen", "skylakex", "cooperlake", "sapphirerapids"]

    /// The kernel family, and OpenBLAS's own guess when `correctedCore` replaced it, for the engine lines of
    /// `train` and `bench`.
    public static var coreDescription: String {
        correctedCore.map { "\(coreName) (chosen by ConvScope; OpenBLAS guessed \($0.guessed))" } ?? coreName
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
