import CKernels

/// The Winograd algorithm a 3x3, stride-1, padding-1 convolution runs on (`CKernels`): F(2x2, 3x3) on even
/// map sizes (16 products per 2x2 output tile, 2.25x fewer multiplies than direct), F(4x4, 3x3) on map
/// sizes that are multiples of 4 (36 products per 4x4 tile, 4x fewer).
enum WinogradTile {
    case twoByTwo
    case fourByFour

    /// The tile for a layer of this shape, or nil when neither fits (AVX2, 8k channels on both sides, even
    /// sides). F(4x4, 3x3) takes maps of at least 32 x 32: on smaller maps an image has too few tiles to
    /// reuse the 36 weight matrices it streams through.
    static func best(inChannels: Int, outChannels: Int, height: Int, width: Int) -> WinogradTile? {
        let shape = (Int32(inChannels), Int32(outChannels), Int32(height), Int32(width))
        if height * width >= 16 * 16 && ckernels_winograd4_supported(shape.0, shape.1, shape.2, shape.3) != 0 {
            return .fourByFour
        }
        return ckernels_winograd_supported(shape.0, shape.1, shape.2, shape.3) != 0 ? .twoByTwo : nil
    }

    /// The transformed weight matrices (in x out each) the tile multiplies by.
    var planes: Int { self == .twoByTwo ? 16 : 36 }

    /// Floats of scratch space one image's forward pass needs.
    func scratchCount(inChannels: Int, outChannels: Int, height: Int, width: Int) -> Int {
        let shape = (Int32(inChannels), Int32(outChannels), Int32(height), Int32(width))
        switch self {
        case .twoByTwo: return ckernels_winograd_scratch(shape.0, shape.1, shape.2, shape.3)
        case .fourByFour: return ckernels_winograd4_scratch(shape.0, shape.1, shape.2, shape.3)
        }
    }

    /// Transforms HWIO 3x3 weights into `planes` matrices `G g G^T`.
    func transformWeights(
        _ hwio: UnsafePointer<Float>, inChannels: Int, outChannels: Int, into transformed: UnsafeMutablePointer<Float>
    ) {
        switch self {
        case .twoByTwo: ckernels_winograd_weights(hwio, Int32(inChannels), Int32(outChannels), transformed)
        case .fourByFour: ckernels_winograd4_weights(hwio, Int32(inChannels), Int32(outChannels), transformed)
        }
    }

    /// Convolves one zero-bordered image (`(height + 2) x (width + 2)` pixels) with transformed weights.
    func forward(
        _ image: UnsafePointer<Float>, inChannels: Int, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        outChannels: Int, height: Int, width: Int, output: UnsafeMutablePointer<Float>,
        scratch: UnsafeMutablePointer<Float>
    ) {
        let shape = (Int32(inChannels), Int32(outChannels), Int32(height), Int32(width))
        switch self {
        case .twoByTwo:
            ckernels_winograd_forward(image, shape.0, weights, bias, shape.1, shape.2, shape.3, output, scratch)
        case .fourByFour:
            ckernels_winograd4_forward(image, shape.0, weights, bias, shape.1, shape.2, shape.3, output, scratch)
        }
    }
}
