import CKernels
import TestSupport
import XCTest
@testable import ConvKit

/// The residual sums and ReLU gradients (Sources/CKernels/elementwise.c) compute, on every kernel path the CPU
/// runs, exactly what Swift's `max(a + b, 0)` and `y > 0 ? dy : 0` compute: the same bits, NaN kept, and
/// the same result in place as out of place.
final class ElementwisePathTests: XCTestCase {
    /// 37 values: two AVX-512 vectors and a tail. Zeros of both signs, a NaN and values either side of zero.
    static func values(seed: UInt64) -> [Float] {
        var random = RandomSource(seed: seed)
        var values = (0..<37).map { _ in random.uniform(-2, 2) }
        values[3] = 0
        values[4] = -0.0
        values[20] = .nan
        values[33] = -.infinity
        return values
    }

    func testEveryPathComputesSwiftsDefinition() throws {
        let a = Self.values(seed: 1), b = Self.values(seed: 2), dy = Self.values(seed: 3)
        // -a + a is +0 and a - 0 is a: sums whose rounding and sign a careless kernel would change.
        var c = b
        for i in 0..<8 { c[i] = -a[i] }
        for path in KernelPath.supported {
            try ConvolutionPlanTests.on(path) {
                for skip in [b, c] {
                    for rectify in [false, true] {
                        let expected = zip(a, skip).map { rectify ? max($0 + $1, 0) : $0 + $1 }
                        var out = [Float](repeating: 7, count: a.count), inPlace = a
                        ckernels_rectified_sum(a, skip, rectify ? 1 : 0, a.count, &out)
                        inPlace.withUnsafeMutableBufferPointer {
                            ckernels_rectified_sum($0.baseAddress, skip, rectify ? 1 : 0, a.count, $0.baseAddress)
                        }
                        XCTAssertEqual(out.map(\.bitPattern), expected.map(\.bitPattern), "\(path): sum, rectify \(rectify)")
                        XCTAssertEqual(inPlace.map(\.bitPattern), expected.map(\.bitPattern), "\(path): sum in place, rectify \(rectify)")
                    }
                }
                var rectified = [Float](repeating: 7, count: a.count)
                ckernels_rectified_sum(a, nil, 1, a.count, &rectified)
                XCTAssertEqual(rectified.map(\.bitPattern), a.map { max($0, 0) }.map(\.bitPattern), "\(path): ReLU")
                for guided in [false, true] {
                    let expected = (0..<a.count).map { a[$0] > 0 && (!guided || dy[$0] > 0) ? dy[$0] : 0 }
                    var dx = [Float](repeating: 7, count: a.count)
                    ckernels_rectified_gradient(dy, a, guided ? 1 : 0, a.count, &dx)
                    XCTAssertEqual(dx.map(\.bitPattern), expected.map(\.bitPattern), "\(path): gradient, guided \(guided)")
                }
            }
        }
    }
}
