import CKernels
import Foundation

/// The instruction-set path of the engine's C kernels: portable C that any x86-64 CPU runs (with the
/// `Im2Col` + OpenBLAS `sgemm` lowering for every convolution), AVX2 (direct and Winograd convolutions,
/// vectorised pooling and GELU), or AVX-512 (the same kernels on 16-lane vectors with larger register
/// blocks; the int8 products stay AVX2).
///
/// The engine takes the best path the CPU runs. `CONVSCOPE_KERNELS=portable|avx2|avx512|auto` in the
/// environment forces one, so that a machine can test every path it runs (`make test` runs the
/// training-outcome tests a second time on the portable path) and a benchmark can compare them.
public enum KernelPath: Int, CaseIterable, Comparable, Sendable, CustomStringConvertible {
    case portable = 0
    case avx2 = 1
    case avx512 = 2

    /// The environment variable that forces a path.
    public static let environmentVariable = "CONVSCOPE_KERNELS"

    /// The path the kernels use now.
    public static var active: KernelPath { KernelPath(rawValue: Int(ckernels_path())) ?? .portable }

    /// The best path this CPU runs.
    public static var best: KernelPath { KernelPath(rawValue: Int(ckernels_best_path())) ?? .portable }

    /// Whether the CPU has AVX-512's bf16 dot products.
    public static var cpuHasBF16: Bool { ckernels_has_bf16() != 0 }

    /// The paths this CPU runs, portable first.
    public static var supported: [KernelPath] { allCases.filter { $0 <= best } }

    /// A path by name (`portable`, `avx2`, `avx512`), or the best one for `auto`.
    public init?(name: String) {
        let value = Int(ckernels_parse_path(name))
        guard let path = KernelPath(rawValue: value) else { return nil }
        self = path
    }

    /// A one-line complaint when `CONVSCOPE_KERNELS` names no path or one this CPU cannot run (the
    /// engine then uses the best path), for front ends to show; nil when the variable is fine or unset.
    public static var environmentProblem: String? {
        guard ckernels_environment_problem() != 0 else { return nil }
        let value = String(cString: getenv(environmentVariable))
        let names = supported.map(\.description).joined(separator: ", ")
        return KernelPath(name: value) == nil
            ? "\(environmentVariable)='\(value)' is not a kernel path; expected portable, avx2, avx512 or auto"
            : "\(environmentVariable)='\(value)' is not a path this CPU runs (it runs \(names))"
    }

    /// Switches the kernels to this path; false (and no change) when the CPU cannot run it. Convolution
    /// layers built afterwards plan for this path (`ConvolutionPlan`); those built before keep theirs. The
    /// other kernels follow the path at each call, so no other thread may be running the engine meanwhile.
    @discardableResult
    public func select() -> Bool { ckernels_set_path(Int32(rawValue)) != 0 }

    public var description: String {
        switch self {
        case .portable: "portable"
        case .avx2: "avx2"
        case .avx512: "avx512"
        }
    }

    public static func < (a: KernelPath, b: KernelPath) -> Bool { a.rawValue < b.rawValue }
}
