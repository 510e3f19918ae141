/// A fully connected layer (`fc<N>`, PyTorch's `Linear`): `y = x W^T + b`, flattening a spatial input.
public final class Linear: Layer {
    public let name: String
    public var kind: LayerKind { .fc }
    public let inputShape: FeatureShape
    public let outputShape: FeatureShape
    public let weight: Parameter
    public let bias: Parameter
    public var computesInputGradient = true
    public private(set) var lastOutput: Tensor?
    /// The products' number format (`Network.arithmetic` sets it for all layers).
    public var arithmetic = MatrixArithmetic.fp32

    private let output = FloatBuffer()
    private let inputGradient = FloatBuffer()
    private var input: Tensor?

    public init(name: String, input: FeatureShape, outFeatures: Int) {
        self.name = name
        inputShape = input
        outputShape = FeatureShape(features: outFeatures)
        let layout: TensorLayout = input.spatialCount == 1
            ? .plain([outFeatures, input.count])
            : .linearAfterSpatial(outFeatures: outFeatures, channels: input.channels, height: input.height, width: input.width)
        weight = Parameter(name: name + ".weight", count: outFeatures * input.count, layout: layout, decays: true)
        bias = Parameter(name: name + ".bias", count: outFeatures, layout: .plain([outFeatures]), decays: false)
    }

    public var parameters: [Parameter] { [weight, bias] }
    public var multiplyAdds: Int { inputShape.count * outputShape.count }
    private var inFeatures: Int { inputShape.count }
    private var outFeatures: Int { outputShape.channels }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        input = x
        let y = output.tensor(batch: x.batch, shape: outputShape)
        let w = weight.value.base, b = bias.value.base, inF = inFeatures, outF = outFeatures, arithmetic = arithmetic
        Parallel.forEachRange(x.batch, minimum: 16) { rows, _ in
            let out = y.sample(rows.lowerBound)
            for r in 0..<rows.count { (out + r * outF).update(from: b, count: outF) }
            arithmetic.gemm(
                transposeB: true, m: rows.count, n: outF, k: inF,
                a: x.sample(rows.lowerBound), lda: inF, b: w, ldb: inF, beta: 1, c: out, ldc: outF)
        }
        lastOutput = y
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("\(name): backward before forward") }
        let inF = inFeatures, outF = outFeatures, batch = x.batch, arithmetic = arithmetic
        // dW = dy^T x, split by output rows so workers write disjoint parts.
        Parallel.forEachRange(outF, minimum: 8) { rows, _ in
            arithmetic.gemm(
                transposeA: true, m: rows.count, n: inF, k: batch,
                a: dy.pointer + rows.lowerBound, lda: outF, b: x.pointer, ldb: inF,
                c: weight.gradient.base + rows.lowerBound * inF, ldc: inF)
        }
        let db = bias.gradient.base
        db.update(repeating: 0, count: outF)
        for n in 0..<batch {
            let g = dy.sample(n)
            for o in 0..<outF { db[o] += g[o] }
        }
        guard computesInputGradient else { return .empty(inputShape) }
        let dx = inputGradient.tensor(batch: batch, shape: inputShape)
        let w = weight.value.base
        Parallel.forEachRange(batch, minimum: 16) { rows, _ in
            arithmetic.gemm(
                m: rows.count, n: inF, k: outF, a: dy.sample(rows.lowerBound), lda: outF,
                b: w, ldb: inF, c: dx.sample(rows.lowerBound), ldc: inF)
        }
        return dx
    }
}
