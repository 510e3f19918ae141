import CKernels
import Foundation

/// The number format of a training run's matrix products (`TrainingConfig.precision`).
///
/// `bf16` is mixed precision as GPUs do it: the convolution and fully connected products take bf16 operands
/// and sum in fp32 (AVX-512's `vdpbf16ps`), while the master weights, the optimiser, batch norm and the
/// loss stay fp32. It needs a CPU with avx512_bf16 and the AVX-512 kernel path; elsewhere it is refused,
/// unless `CONVSCOPE_BF16=emulate` asks for the portable emulation (operands rounded to bf16 exactly as the
/// instructions round, products summed in fp32 by OpenBLAS: the same numbers up to the order of the
/// additions, much slower than the instructions).
public enum Precision: String, Codable, CaseIterable, Sendable, CustomStringConvertible {
    case fp32
    case bf16

    /// The environment variable that chooses the portable bf16 emulation (`emulate`).
    public static let emulationVariable = "CONVSCOPE_BF16"

    public var description: String { rawValue }

    /// How this precision multiplies here on the kernel path in use, or a one-line reason why it cannot.
    public var arithmetic: Result<MatrixArithmetic, PrecisionError> { arithmetic(on: .active) }

    /// How this precision multiplies on kernel `path`, or a one-line reason why it cannot run there.
    public func arithmetic(on path: KernelPath) -> Result<MatrixArithmetic, PrecisionError> {
        switch self {
        case .fp32: return .success(.fp32)
        case .bf16:
            let requested = ProcessInfo.processInfo.environment[Self.emulationVariable]
            switch requested {
            case "emulate": return .success(.bf16(emulated: true))
            case nil, "", "auto": break
            default:
                return .failure(PrecisionError(
                    "is refused: \(Self.emulationVariable)='\(requested ?? "")' is not a bf16 mode (expected emulate or auto)"))
            }
            if KernelPath.cpuHasBF16 && path == .avx512 { return .success(.bf16(emulated: false)) }
            if !KernelPath.cpuHasBF16 {
                return .failure(PrecisionError(
                    "needs a CPU with avx512_bf16 (vdpbf16ps), which this one lacks; use fp32 (or \(Self.emulationVariable)=emulate for the slow portable emulation)"))
            }
            return .failure(PrecisionError(
                "needs the avx512 kernel path, not \(path) (chosen by \(KernelPath.environmentVariable) or --kernels); use fp32 or the avx512 path"))
        }
    }
}

/// Why a precision cannot run on this machine.
public struct PrecisionError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// How the convolution and fully connected layers multiply matrices.
public enum MatrixArithmetic: Equatable, Sendable, CustomStringConvertible {
    /// fp32 operands and sums: OpenBLAS `sgemm`, and the direct and Winograd kernels.
    case fp32
    /// bf16 operands, fp32 sums: `vdpbf16ps` (`ckernels_gemm_bf16`), or with `emulated` the operands rounded
    /// to bf16 in portable C and multiplied by OpenBLAS, which any CPU runs (tests, other machines).
    case bf16(emulated: Bool)

    public var description: String {
        switch self {
        case .fp32: "fp32"
        case .bf16(let emulated): emulated ? "bf16 (emulated)" : "bf16"
        }
    }

    /// `C = op(A) * op(B) + beta * C` in this arithmetic (`BLAS.gemm`'s arguments, alpha 1).
    @inline(__always)
    func gemm(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        switch self {
        case .fp32:
            BLAS.gemm(
                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: beta,
                c: c, ldc: ldc)
        case .bf16(emulated: false):
            let done = ckernels_gemm_bf16(
                transposeA ? 1 : 0, transposeB ? 1 : 0, Int32(m), Int32(n), Int32(k), a, Int32(lda), b, Int32(ldb), beta, c,
                Int32(ldc))
            precondition(done != 0, "bf16 products on a CPU without avx512_bf16 (Precision.arithmetic refuses this)")
        case .bf16(emulated: true):
            BF16Emulation.gemm(
                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: beta,
                c: c, ldc: ldc)
        }
    }
}

/// bf16 products on any CPU: both operands rounded to bf16 values (`ckernels_bf16_round_matrix`, exactly as
/// `vcvtneps2bf16`), then an fp32 `sgemm`, whose products of bf16 values are exact.
enum BF16Emulation {
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        // The stored shapes of A and B: op(A) is m x k, so A is k x m when transposed.
        let (aRows, aColumns) = transposeA ? (k, m) : (m, k)
        let (bRows, bColumns) = transposeB ? (n, k) : (k, n)
        let roundedA = UnsafeMutablePointer<Float>.allocate(capacity: max(1, aRows * aColumns))
        let roundedB = UnsafeMutablePointer<Float>.allocate(capacity: max(1, bRows * bColumns))
        defer {
            roundedA.deallocate()
            roundedB.deallocate()
        }
        ckernels_bf16_round_matrix(Int32(aRows), Int32(aColumns), a, Int32(lda), roundedA)
        ckernels_bf16_round_matrix(Int32(bRows), Int32(bColumns), b, Int32(ldb), roundedB)
        BLAS.gemm(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: roundedA, lda: max(1, aColumns),
            b: roundedB, ldb: max(1, bColumns), beta: beta, c: c, ldc: ldc)
    }
}
