/// A convolution as a matrix product: `Im2Col` lowers a group of images into a reused column matrix, and
/// OpenBLAS `sgemm` (or, in bf16, `ckernels_gemm_bf16`: `arithmetic`) multiplies it by the OHWI weight
/// matrix (a 1x1 stride-1 layer reads its input as the column matrix). The backward pass lowers again rather than keeping the column matrix, which would be
/// 9x the input of a 3x3 layer, and scatters the column gradient back (`Im2Col.raise`).
final class LoweredConvolution: ConvolutionBackend {
    private let shape: ConvolutionShape
    private let arithmetic: MatrixArithmetic
    private let columns = (0..<Parallel.workerCount).map { _ in FloatBuffer() }
    private let columnGradients = (0..<Parallel.workerCount).map { _ in FloatBuffer() }
    private let weightGradients = WorkerParts()
    private let biasGradients = WorkerParts()

    init(_ shape: ConvolutionShape, arithmetic: MatrixArithmetic = .fp32) {
        self.shape = shape
        self.arithmetic = arithmetic
    }

    private var lowering: Im2Col { shape.lowering }

    /// Images per matrix product: enough rows to keep the product efficient.
    private var imagesPerGroup: Int { max(1, 1024 / lowering.rowsPerImage) }

    func forward(
        _ x: Tensor, weights w: UnsafePointer<Float>, bias b: UnsafePointer<Float>?, epilogue: ConvolutionEpilogue, into y: Tensor
    ) {
        let outC = shape.output.channels, rowLength = lowering.rowLength, rowsPerImage = lowering.rowsPerImage
        Parallel.forEachRange(x.batch) { images, worker in
            var first = images.lowerBound
            while first < images.upperBound {
                let count = min(imagesPerGroup, images.upperBound - first)
                let rows = count * rowsPerImage
                let out = y.sample(first)
                let a = columnMatrix(x, first: first, count: count, worker: worker)
                if let b {
                    for r in 0..<rows { (out + r * outC).update(from: b, count: outC) }
                }
                arithmetic.gemm(
                    transposeB: true, m: rows, n: outC, k: rowLength,
                    a: a, lda: rowLength, b: w, ldb: rowLength,
                    beta: b == nil ? 0 : 1, c: out, ldc: outC)
                epilogue.apply(to: y, first: first, count: count)
                first += count
            }
        }
    }

    func backward(
        _ x: Tensor, outputGradient dy: Tensor, weights w: UnsafePointer<Float>, weightGradient: UnsafeMutablePointer<Float>,
        biasGradient: UnsafeMutablePointer<Float>?, inputGradient dx: Tensor?, epilogue: ConvolutionEpilogue
    ) {
        let outC = shape.output.channels, rowLength = lowering.rowLength, rowsPerImage = lowering.rowsPerImage
        let weightCount = shape.weightCount
        let parts = Parallel.partCount(x.batch)
        Parallel.forEachRange(x.batch) { images, worker in
            let dw = weightGradients.zeroed(worker, count: weightCount), db = biasGradients.zeroed(worker, count: outC)
            var first = images.lowerBound
            while first < images.upperBound {
                let count = min(imagesPerGroup, images.upperBound - first)
                let rows = count * rowsPerImage
                let g = UnsafePointer(dy.sample(first))
                let a = columnMatrix(x, first: first, count: count, worker: worker)
                // dW += dY^T (outC x rows) * columns (rows x rowLength)
                arithmetic.gemm(
                    transposeA: true, m: outC, n: rowLength, k: rows,
                    a: g, lda: outC, b: a, ldb: rowLength, beta: 1, c: dw, ldc: rowLength)
                if biasGradient != nil { addColumnSums(g, rows: rows, columns: outC, into: db) }
                if let dx {
                    if shape.isPointwise {
                        arithmetic.gemm(
                            m: rows, n: rowLength, k: outC, a: g, lda: outC, b: w, ldb: rowLength,
                            c: dx.sample(first), ldc: rowLength)
                    } else {
                        let buffer = columnGradients[worker]
                        buffer.reserve(rows * rowLength)
                        arithmetic.gemm(
                            m: rows, n: rowLength, k: outC, a: g, lda: outC, b: w, ldb: rowLength,
                            c: buffer.base, ldc: rowLength)
                        let target = dx.sample(first)
                        target.update(repeating: 0, count: count * shape.input.count)
                        lowering.raise(buffer.base, images: count, into: target)
                    }
                    epilogue.apply(to: dx, first: first, count: count)
                }
                first += count
            }
        }
        weightGradients.sum(parts: parts, count: weightCount, into: weightGradient)
        if let biasGradient { biasGradients.sum(parts: parts, count: outC, into: biasGradient) }
    }

    /// The column matrix of `count` images from `first`: the input itself for 1x1 stride-1 layers, else
    /// the worker's lowering buffer filled by `Im2Col`.
    private func columnMatrix(_ x: Tensor, first: Int, count: Int, worker: Int) -> UnsafePointer<Float> {
        if shape.isPointwise { return UnsafePointer(x.sample(first)) }
        let buffer = columns[worker]
        buffer.reserve(count * lowering.rowsPerImage * lowering.rowLength)
        lowering.lower(x.sample(first), images: count, into: buffer.base)
        return UnsafePointer(buffer.base)
    }
}
