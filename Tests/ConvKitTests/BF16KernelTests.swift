import CKernels
import Foundation
import TestSupport
import XCTest

@testable import ConvKit

/// The bf16 kernels: the conversion rounds as VCVTNEPS2BF16 does, and the products with bf16 operands
/// (`vdpbf16ps`, and the portable emulation any CPU runs) sum in fp32 within fp32's summation bound of the
/// exact (fp64) product of the bf16-rounded operands.
///
/// The bound: summing k products in fp32 in any order errs by at most about k * 2^-24 * sum |a_i b_i|
/// (each product of two bf16 values is exact in fp32); the tests allow (k + 2) * 2^-24 * sum |a_i b_i| plus
/// the rounding of beta * C. Two results within that bound of the same exact value are equal up to fp32
/// summation order, which is all that may differ between the instruction and the emulation.
final class BF16KernelTests: XCTestCase {
    private func bits(_ x: UInt32) -> Float { Float(bitPattern: x) }

    func testConversionRoundsToNearestEvenAndKeepsSpecialValues() {
        let cases: [(UInt32, UInt16, String)] = [
            (0x3F80_0000, 0x3F80, "1 is exact"),
            (0x3F80_8000, 0x3F80, "a tie rounds to the even neighbour (down)"),
            (0x3F81_8000, 0x3F82, "a tie rounds to the even neighbour (up)"),
            (0x3F80_8001, 0x3F81, "above the tie rounds up"),
            (0x3F80_7FFF, 0x3F80, "below the tie rounds down"),
            (0xBF81_8000, 0xBF82, "negative ties to even too"),
            (0x7F7F_FFFF, 0x7F80, "the largest float rounds to infinity"),
            (0x7F80_0000, 0x7F80, "infinity stays"),
            (0xFF80_0000, 0xFF80, "negative infinity stays"),
            (0x7F80_0001, 0x7FC0, "a signalling NaN becomes quiet"),
            (0x7FC0_0000, 0x7FC0, "a quiet NaN stays"),
            (0xFFFF_FFFF, 0xFFFF, "a NaN keeps its sign and upper payload"),
            (0x7F81_2345, 0x7FC1, "a NaN's payload is truncated, not rounded"),
            (0x0000_0001, 0x0000, "the smallest subnormal becomes zero"),
            (0x807F_FFFF, 0x8000, "a negative subnormal becomes negative zero"),
            (0x007F_C000, 0x0000, "a subnormal does not round up to the smallest normal"),
            (0x0080_0000, 0x0080, "the smallest normal stays"),
            (0x8000_0000, 0x8000, "negative zero stays"),
        ]
        for (input, expected, what) in cases {
            XCTAssertEqual(ckernels_bf16_from_float(bits(input)), expected, "\(String(input, radix: 16)): \(what)")
            var rounded: Float = 0
            var value = bits(input)
            ckernels_bf16_round(&value, &rounded, 1)
            XCTAssertEqual(rounded.bitPattern, UInt32(expected) << 16, "ckernels_bf16_round of \(String(input, radix: 16))")
        }
        XCTAssertEqual(ckernels_float_from_bf16(0x4049), Float(bitPattern: 0x4049_0000))
    }

    /// Every sign, exponent and upper significand (all 65,536 upper halves) with the lower halves where the
    /// rounding decides (0, just below, at and above the tie, all ones) and a pseudo-random one.
    private func sweep() -> [Float] {
        var values: [Float] = []
        var state: UInt32 = 12345
        for upper in 0..<UInt32(65536) {
            state = state &* 1_664_525 &+ 1_013_904_223
            for lower in [0, 0x7FFF, 0x8000, 0x8001, 0xFFFF, state >> 16] as [UInt32] {
                values.append(Float(bitPattern: upper << 16 | lower))
            }
        }
        return values
    }

    func testPortableConversionMatchesTheInstruction() throws {
        try skipUnless(KernelPath.cpuHasBF16, .cpuLacksKernelPath, "this CPU has no avx512_bf16, so VCVTNEPS2BF16 cannot be compared")
        let values = sweep()
        var portable = [UInt16](repeating: 0, count: values.count), hardware = portable
        XCTAssertEqual(ckernels_bf16_convert(values, &portable, values.count, 0), 1)
        XCTAssertEqual(ckernels_bf16_convert(values, &hardware, values.count, 1), 1)
        var mismatches = 0
        for i in values.indices where portable[i] != hardware[i] {
            if mismatches < 5 {
                XCTFail("\(String(values[i].bitPattern, radix: 16)): portable \(String(portable[i], radix: 16)), instruction \(String(hardware[i], radix: 16))")
            }
            mismatches += 1
        }
        XCTAssertEqual(mismatches, 0, "of \(values.count) values")
        // The rounding helper the emulation uses agrees with the scalar conversion on the same sweep.
        var rounded = [Float](repeating: 0, count: values.count)
        ckernels_bf16_round(values, &rounded, values.count)
        XCTAssertTrue(values.indices.allSatisfy { rounded[$0].bitPattern == UInt32(portable[$0]) << 16 })
    }

    /// A product's operands and the exact (fp64) result of their bf16 values, with the allowed error.
    struct Product {
        let transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, lda: Int, ldb: Int, ldc: Int, beta: Float
        let a: [Float], b: [Float], c: [Float]

        init(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, beta: Float, seed: UInt64) {
            (self.transposeA, self.transposeB, self.m, self.n, self.k, self.beta) = (transposeA, transposeB, m, n, k, beta)
            // Leading dimensions wider than the matrices, as the engine's strided calls pass them.
            lda = (transposeA ? m : k) + 3
            ldb = (transposeB ? k : n) + 5
            ldc = n + 2
            var random = RandomSource(seed: seed)
            a = (0..<((transposeA ? k : m) * lda)).map { _ in random.normal() }
            b = (0..<((transposeB ? n : k) * ldb)).map { _ in random.normal() * 0.1 }
            c = (0..<(m * ldc)).map { _ in random.normal() }
        }

        private func rounded(_ x: Float) -> Double { Double(ckernels_float_from_bf16(ckernels_bf16_from_float(x))) }

        /// The exact result and the allowed error of each output.
        func reference() -> (value: [Double], tolerance: [Double]) {
            var value = [Double](repeating: 0, count: m * ldc), tolerance = value
            for i in 0..<m {
                for j in 0..<n {
                    var sum = 0.0, magnitude = 0.0
                    for p in 0..<k {
                        let x = rounded(transposeA ? a[p * lda + i] : a[i * lda + p])
                        let y = rounded(transposeB ? b[j * ldb + p] : b[p * ldb + j])
                        sum += x * y
                        magnitude += abs(x * y)
                    }
                    let old = Double(c[i * ldc + j]) * Double(beta)
                    value[i * ldc + j] = sum + old
                    tolerance[i * ldc + j] = Double(k + 2) * 0x1p-24 * (magnitude + abs(old)) + 1e-30
                }
            }
            return (value, tolerance)
        }

        func run(_ arithmetic: MatrixArithmetic) -> [Float] {
            var out = c
            arithmetic.gemm(
                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: beta,
                c: &out, ldc: ldc)
            return out
        }
    }

    /// Edges of every blocking dimension: one element, odd depths (a lone last pair), fewer rows than the
    /// micro-kernel's 8 and columns than its 32, depths across the 256-deep blocks, rows across the 128-row
    /// blocks; the engine's shapes (lowered 3x3 layers, their weight and input gradients).
    static let shapes: [(m: Int, n: Int, k: Int)] = [
        (1, 1, 1), (7, 5, 3), (9, 33, 17), (8, 32, 256), (130, 70, 300), (3, 100, 513), (1024, 32, 27), (64, 144, 512),
    ]

    private func check(_ arithmetic: MatrixArithmetic) {
        var seed: UInt64 = 1
        for shape in Self.shapes {
            for (transposeA, transposeB) in [(false, false), (false, true), (true, false), (true, true)] {
                for beta: Float in [0, 1] {
                    seed += 1
                    let product = Product(
                        transposeA: transposeA, transposeB: transposeB, m: shape.m, n: shape.n, k: shape.k, beta: beta, seed: seed)
                    let (expected, tolerance) = product.reference()
                    let got = product.run(arithmetic)
                    var worst = 0.0
                    for i in 0..<shape.m {
                        for j in 0..<shape.n {
                            worst = max(worst, abs(Double(got[i * product.ldc + j]) - expected[i * product.ldc + j]) / tolerance[i * product.ldc + j])
                        }
                        // Columns past n in each row of C are left alone.
                        for j in shape.n..<product.ldc { XCTAssertEqual(got[i * product.ldc + j], product.c[i * product.ldc + j]) }
                    }
                    XCTAssertLessThanOrEqual(
                        worst, 1, "\(arithmetic) \(shape) transposeA \(transposeA) transposeB \(transposeB) beta \(beta): error / bound")
                }
            }
        }
    }

    func testInstructionProductWithinFP32SummationBoundOfExactBF16Product() throws {
        try skipUnless(KernelPath.cpuHasBF16, .cpuLacksKernelPath, "this CPU has no avx512_bf16, so vdpbf16ps cannot run")
        check(.bf16(emulated: false))
    }

    func testEmulatedProductWithinFP32SummationBoundOfExactBF16Product() {
        check(.bf16(emulated: true))
    }

    /// The instruction and the emulation on the same operands: both within the bound of the same exact
    /// value, so within twice the bound of each other; and neither equals the fp32 product (the operands
    /// really are rounded).
    func testInstructionAndEmulationAgreeAndDifferFromFP32() throws {
        try skipUnless(KernelPath.cpuHasBF16, .cpuLacksKernelPath, "this CPU has no avx512_bf16, so vdpbf16ps cannot run")
        let product = Product(transposeA: false, transposeB: true, m: 96, n: 40, k: 288, beta: 0, seed: 99)
        let (_, tolerance) = product.reference()
        let hardware = product.run(.bf16(emulated: false)), emulated = product.run(.bf16(emulated: true))
        let fp32 = product.run(.fp32)
        var worst = 0.0, fp32Differs = 0
        for i in 0..<product.m {
            for j in 0..<product.n {
                let index = i * product.ldc + j
                worst = max(worst, abs(Double(hardware[index]) - Double(emulated[index])) / (2 * tolerance[index]))
                if abs(Double(fp32[index]) - Double(emulated[index])) > 2 * tolerance[index] { fp32Differs += 1 }
            }
        }
        XCTAssertLessThanOrEqual(worst, 1)
        XCTAssertGreaterThan(fp32Differs, product.m * product.n / 2, "bf16 operands should change most outputs beyond fp32 rounding")
    }
}
