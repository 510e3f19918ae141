import CKernels

/// One int8 conv or fc layer: quantise the input, lower it (convolutions), multiply in int32, rescale.
public final class QuantizedMatmul {
    public let name: String
    public let weights: QuantizedWeights
    let inputShape: FeatureShape
    let outputShape: FeatureShape
    private let lowering: Im2Col?
    private let depth: Int
    private let paddedDepth: Int
    private let outputs: Int
    private let packed: [Int16]
    private let output = FloatBuffer()
    private let scratch = (0..<Parallel.workerCount).map { _ in Scratch() }

    /// Per-worker buffers: the quantised, lowered input rows and their int32 products.
    private final class Scratch {
        var rows: [Int8] = []
        var quantized: [Int8] = []
        var sums: [Int32] = []
    }

    init(_ layer: Layer, _ weights: QuantizedWeights) {
        name = layer.name
        self.weights = weights
        inputShape = layer.inputShape
        outputShape = layer.outputShape
        outputs = weights.scales.count
        depth = weights.values.count / outputs
        paddedDepth = Int(ckernels_padded_depth(Int32(depth)))
        lowering = (layer as? Conv2d)?.lowering
        let (rows, columns) = (outputs, depth)
        var packed = [Int16](repeating: 0, count: rows * paddedDepth)
        weights.values.withUnsafeBufferPointer { w in
            packed.withUnsafeMutableBufferPointer { ckernels_pack_weights(w.baseAddress!, Int32(rows), Int32(columns), $0.baseAddress!) }
        }
        self.packed = packed
    }

    /// Rows of the product per sample: output pixels for a convolution, 1 for fc.
    private var rowsPerSample: Int { lowering?.rowsPerImage ?? 1 }

    func forward(_ x: Tensor) -> Tensor {
        let y = output.tensor(batch: x.batch, shape: outputShape)
        let inverseScale = 1 / weights.inputScale, perSample = inputShape.count
        let rowsPerSample = self.rowsPerSample, depth = self.depth, paddedDepth = self.paddedDepth, outputs = self.outputs
        let imagesPerGroup = max(1, 1024 / rowsPerSample)
        let lowering = self.lowering
        weights.scales.withUnsafeBufferPointer { scales in
            weights.bias.withUnsafeBufferPointer { bias in
                packed.withUnsafeBufferPointer { packed in
                    Parallel.forEachRange(x.batch) { images, worker in
                        let work = scratch[worker]
                        var first = images.lowerBound
                        while first < images.upperBound {
                            let count = min(imagesPerGroup, images.upperBound - first), rows = count * rowsPerSample
                            if work.quantized.count < count * perSample { work.quantized = [Int8](repeating: 0, count: count * perSample) }
                            if work.rows.count < rows * paddedDepth { work.rows = [Int8](repeating: 0, count: rows * paddedDepth) }
                            if work.sums.count < rows * outputs { work.sums = [Int32](repeating: 0, count: rows * outputs) }
                            let source = x.sample(first)
                            work.quantized.withUnsafeMutableBufferPointer { q in
                                for i in 0..<(count * perSample) {
                                    q[i] = Int8(max(-127, min(127, (source[i] * inverseScale).rounded())))
                                }
                                work.rows.withUnsafeMutableBufferPointer { rowBuffer in
                                    if let lowering {
                                        lowering.lower(UnsafePointer(q.baseAddress!), images: count, into: rowBuffer.baseAddress!, rowStride: paddedDepth)
                                    } else {
                                        for r in 0..<rows {
                                            (rowBuffer.baseAddress! + r * paddedDepth).update(from: q.baseAddress! + r * depth, count: depth)
                                        }
                                    }
                                    work.sums.withUnsafeMutableBufferPointer { sums in
                                        ckernels_gemm_s8(
                                            rowBuffer.baseAddress!, Int32(rows), Int32(paddedDepth), packed.baseAddress!, Int32(outputs),
                                            sums.baseAddress!, Int32(outputs))
                                        let out = y.sample(first)
                                        for r in 0..<rows {
                                            for o in 0..<outputs {
                                                out[r * outputs + o] = Float(sums[r * outputs + o]) * weights.inputScale * scales[o] + bias[o]
                                            }
                                        }
                                    }
                                }
                            }
                            first += count
                        }
                    }
                }
            }
        }
        return y
    }
}
