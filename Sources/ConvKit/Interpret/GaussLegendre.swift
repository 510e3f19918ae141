import Foundation

/// Gauss-Legendre quadrature on [0, 1], the rule Captum's Integrated Gradients uses by default
/// (`numpy.polynomial.legendre.leggauss` mapped from [-1, 1]): exact for polynomials of degree
/// `2 n - 1`, so far fewer steps than a Riemann sum reach the same completeness gap.
enum GaussLegendre {
    /// `points` nodes in (0, 1), ascending, and their weights (summing to 1).
    static func rule(points n: Int) -> (nodes: [Double], weights: [Double]) {
        var nodes = [Double](repeating: 0, count: n), weights = nodes
        for i in 0..<((n + 1) / 2) {
            // Newton's method on P_n from the Chebyshev-like first guess.
            var x = cos(Double.pi * (Double(i) + 0.75) / (Double(n) + 0.5))
            var derivative = 0.0
            for _ in 0..<100 {
                var p0 = 1.0, p1 = x
                if n == 1 { p1 = x; p0 = 1 } else {
                    for k in 2...n {
                        let p2 = ((2 * Double(k) - 1) * x * p1 - (Double(k) - 1) * p0) / Double(k)
                        p0 = p1
                        p1 = p2
                    }
                }
                // p1 = P_n(x), p0 = P_{n-1}(x).
                derivative = Double(n) * (x * p1 - p0) / (x * x - 1)
                let step = p1 / derivative
                x -= step
                if abs(step) < 1e-15 { break }
            }
            if n == 1 { derivative = 1 }
            let weight = 2 / ((1 - x * x) * derivative * derivative)
            // x is the i-th largest root; map [-1, 1] to [0, 1].
            nodes[n - 1 - i] = 0.5 * (1 + x)
            nodes[i] = 0.5 * (1 - x)
            weights[n - 1 - i] = 0.5 * weight
            weights[i] = 0.5 * weight
        }
        return (nodes, weights)
    }
}
