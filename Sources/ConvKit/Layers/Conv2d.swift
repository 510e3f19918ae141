/// A 2-D convolution (PyTorch's `Conv2d` with square kernel, stride and padding), optionally with bias.
///
/// Each worker lowers a group of its images with `Im2Col` into a reused buffer and multiplies it by
/// the OHWI weight matrix with OpenBLAS; 1x1 convolutions with stride 1 skip the lowering.
/// The backward pass lowers again instead of keeping the column matrix (which would be 9x the input).
public final class Conv2d: Layer {
    public let name: String
    public var kind: LayerKind { .conv }
    public let inputShape: FeatureShape
    public let outputShape: FeatureShape
    public let weight: Parameter
    public let bias: Parameter?
    public var computesInputGradient = true
    public private(set) var lastOutput: Tensor?

    let lowering: Im2Col
    private let output = FloatBuffer()
    private let inputGradient = FloatBuffer()
    private var input: Tensor?
    private let columns = (0..<Parallel.workerCount).map { _ in FloatBuffer() }
    private let columnGradients = (0..<Parallel.workerCount).map { _ in FloatBuffer() }
    private let weightGradientParts = (0..<Parallel.workerCount).map { _ in FloatBuffer() }
    private let biasGradientParts = (0..<Parallel.workerCount).map { _ in FloatBuffer() }

    public init(name: String, input: FeatureShape, outChannels: Int, kernel: Int, stride: Int, padding: Int, bias: Bool) {
        self.name = name
        inputShape = input
        let geometry = SpatialGeometry(kernel: kernel, stride: stride, padding: padding)
        outputShape = FeatureShape(
            channels: outChannels, height: geometry.outputSize(input.height), width: geometry.outputSize(input.width))
        lowering = Im2Col(
            height: input.height, width: input.width, channels: input.channels,
            kernel: kernel, stride: stride, padding: padding,
            outHeight: outputShape.height, outWidth: outputShape.width)
        weight = Parameter(
            name: name + ".weight", count: outChannels * lowering.rowLength,
            layout: .convolution(outChannels: outChannels, inChannels: input.channels, kernel: kernel), decays: true)
        self.bias = bias ? Parameter(name: name + ".bias", count: outChannels, layout: .plain([outChannels]), decays: false) : nil
    }

    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }
    public var geometry: SpatialGeometry {
        SpatialGeometry(kernel: lowering.kernel, stride: lowering.stride, padding: lowering.padding)
    }
    public var multiplyAdds: Int { outputShape.count * lowering.rowLength }

    /// A 1x1, stride-1 convolution reads its input as the column matrix directly.
    private var isPointwise: Bool { lowering.kernel == 1 && lowering.stride == 1 && lowering.padding == 0 }

    /// Images per matrix product: enough rows to keep the product efficient.
    private var imagesPerGroup: Int { max(1, 1024 / lowering.rowsPerImage) }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        input = x
        let y = output.tensor(batch: x.batch, shape: outputShape)
        let outC = outputShape.channels, rowLength = lowering.rowLength, rowsPerImage = lowering.rowsPerImage
        let w = weight.value.base, b = bias?.value.base
        Parallel.forEachRange(x.batch) { images, worker in
            var first = images.lowerBound
            while first < images.upperBound {
                let count = min(imagesPerGroup, images.upperBound - first)
                let rows = count * rowsPerImage
                let out = y.sample(first)
                let a: UnsafePointer<Float>
                if isPointwise {
                    a = UnsafePointer(x.sample(first))
                } else {
                    let buffer = columns[worker]
                    buffer.reserve(rows * rowLength)
                    lowering.lower(x.sample(first), images: count, into: buffer.base)
                    a = UnsafePointer(buffer.base)
                }
                if let b {
                    for r in 0..<rows { (out + r * outC).update(from: b, count: outC) }
                }
                BLAS.gemm(
                    transposeB: true, m: rows, n: outC, k: rowLength,
                    a: a, lda: rowLength, b: w, ldb: rowLength,
                    beta: b == nil ? 0 : 1, c: out, ldc: outC)
                first += count
            }
        }
        lastOutput = y
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("\(name): backward before forward") }
        let outC = outputShape.channels, rowLength = lowering.rowLength, rowsPerImage = lowering.rowsPerImage
        let w = weight.value.base
        let dx = computesInputGradient ? inputGradient.tensor(batch: x.batch, shape: inputShape) : .empty(inputShape)
        let parts = Parallel.partCount(x.batch)
        Parallel.forEachRange(x.batch) { images, worker in
            let dw = weightGradientParts[worker], db = biasGradientParts[worker]
            dw.reserve(weight.count); dw.zero(weight.count)
            db.reserve(outC); db.zero(outC)
            var first = images.lowerBound
            while first < images.upperBound {
                let count = min(imagesPerGroup, images.upperBound - first)
                let rows = count * rowsPerImage
                let g = UnsafePointer(dy.sample(first))
                let a: UnsafePointer<Float>
                if isPointwise {
                    a = UnsafePointer(x.sample(first))
                } else {
                    let buffer = columns[worker]
                    buffer.reserve(rows * rowLength)
                    lowering.lower(x.sample(first), images: count, into: buffer.base)
                    a = UnsafePointer(buffer.base)
                }
                // dW += dY^T (outC x rows) * columns (rows x rowLength)
                BLAS.gemm(
                    transposeA: true, m: outC, n: rowLength, k: rows,
                    a: g, lda: outC, b: a, ldb: rowLength, beta: 1, c: dw.base, ldc: rowLength)
                if bias != nil {
                    for r in 0..<rows {
                        let row = g + r * outC
                        for c in 0..<outC { db.base[c] += row[c] }
                    }
                }
                if computesInputGradient {
                    if isPointwise {
                        BLAS.gemm(
                            m: rows, n: rowLength, k: outC, a: g, lda: outC, b: w, ldb: rowLength,
                            c: dx.sample(first), ldc: rowLength)
                    } else {
                        let buffer = columnGradients[worker]
                        buffer.reserve(rows * rowLength)
                        BLAS.gemm(
                            m: rows, n: rowLength, k: outC, a: g, lda: outC, b: w, ldb: rowLength,
                            c: buffer.base, ldc: rowLength)
                        let target = dx.sample(first)
                        target.update(repeating: 0, count: count * inputShape.count)
                        lowering.raise(buffer.base, images: count, into: target)
                    }
                }
                first += count
            }
        }
        sumParts(weightGradientParts, parts: parts, count: weight.count, into: weight.gradient.base)
        if let bias { sumParts(biasGradientParts, parts: parts, count: bias.count, into: bias.gradient.base) }
        return dx
    }
}

/// Adds the first `parts` per-worker partial results into `target` (overwriting it), in worker order
/// so that the sum is the same from run to run.
func sumParts(_ buffers: [FloatBuffer], parts: Int, count: Int, into target: UnsafeMutablePointer<Float>) {
    if parts == 0 {
        target.update(repeating: 0, count: count)
        return
    }
    target.update(from: buffers[0].base, count: count)
    for p in 1..<max(parts, 1) {
        let source = buffers[p].base
        for i in 0..<count { target[i] += source[i] }
    }
}
