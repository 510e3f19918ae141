import CKernels

/// The Winograd algorithm a 3x3, stride-1, padding-1 convolution runs on (`CKernels`): F(2x2, 3x3) (16
/// products per 2x2 output tile, 2.25x fewer multiplies than direct) or F(4x4, 3x3) (36 products per 4x4
/// tile, 4x fewer). On sides that the tile does not divide, the last tiles overhang the map (airbench's
/// 31, 15, 7 and 3): they cost as much as whole ones and keep only the outputs inside.
public enum WinogradTile: Sendable, CustomStringConvertible {
    case twoByTwo
    case fourByFour

    public var description: String { self == .twoByTwo ? "Winograd F(2x2, 3x3)" : "Winograd F(4x4, 3x3)" }

    /// The tile for a layer of this shape, or nil when neither fits (8k channels on both sides; F(2x2, 3x3)
    /// takes odd sides from 5 up, below which the lowered product is as fast). F(4x4, 3x3) takes maps with
    /// both sides at least 15, and from 7 when both sides have 64+ channels, where the products dominate
    /// the transforms; on smaller maps it is no faster than F(2x2, 3x3), and its rounding error is larger.
    static func best(inChannels: Int, outChannels: Int, height: Int, width: Int) -> WinogradTile? {
        let shape = (Int32(inChannels), Int32(outChannels), Int32(height), Int32(width))
        let wideAndSmall = min(height, width) >= 7 && min(inChannels, outChannels) >= 64
        if (min(height, width) >= 15 || wideAndSmall) && ckernels_winograd4_supported(shape.0, shape.1, shape.2, shape.3) != 0 {
            return .fourByFour
        }
        return ckernels_winograd_supported(shape.0, shape.1, shape.2, shape.3) != 0 ? .twoByTwo : nil
    }

    /// The transformed weight matrices (in x out each) the tile multiplies by.
    var planes: Int { self == .twoByTwo ? 16 : 36 }

    /// Images whose tiles go through the products together (`groupTiles`), at least one.
    func imagesPerGroup(height: Int, width: Int, inChannels: Int, outChannels: Int) -> Int {
        let tiles = groupTiles(limit: Self.tilesPerGroup, inChannels: inChannels, outChannels: outChannels)
        return max(1, tiles / self.tiles(height: height, width: width))
    }

    /// Images whose weight-gradient pieces are gathered before their products (`groupTiles`), at least one.
    func gradientImagesPerGroup(height: Int, width: Int, inChannels: Int, outChannels: Int) -> Int {
        let tiles = groupTiles(limit: gradientTilesPerGroup, inChannels: inChannels, outChannels: outChannels)
        return max(1, tiles / self.tiles(height: height, width: width))
    }

    /// Tiles that go through the products together, up to `limit`. Their transformed inputs and products (or
    /// output-gradient pieces), `planes x (in + out)` floats a tile, should stay within `groupBytes`, a quarter of
    /// a 2 MB L2 cache, where the products read them back; but each group reads every transformed weight matrix
    /// again, so a group takes at least `in x out / (in + out)` tiles, which keeps that reading no larger than
    /// the tiles' own. (192 tiles of 64 channels and F(4x4, 3x3) take 3.5 MB; without the floor, 256-channel
    /// layers would read their weights for every few tiles. docs/performance.md has the measurements.)
    func groupTiles(limit: Int, inChannels: Int, outChannels: Int) -> Int {
        let fit = Self.groupBytes / (planes * (inChannels + outChannels) * MemoryLayout<Float>.size)
        let weightsRead = inChannels * outChannels / (inChannels + outChannels)
        return min(limit, max(fit, weightsRead))
    }

    /// The bytes of a group's tiles (`groupTiles`).
    static let groupBytes = 512 << 10

    /// At most as many tiles as 32 groups of the micro-kernel's 6 rows.
    static let tilesPerGroup = 192

    /// Tiles per image on a map of this size.
    func tiles(height: Int, width: Int) -> Int {
        let side = self == .twoByTwo ? 2 : 4
        return ((height + side - 1) / side) * ((width + side - 1) / side)
    }

    /// At most as many tiles whose gradient pieces are gathered before the weight-gradient products: F(4x4,
    /// 3x3) tiles have 36 planes instead of 16.
    var gradientTilesPerGroup: Int { self == .twoByTwo ? 512 : 256 }

    /// Writes the weight-gradient pieces of one image at tile `first` of `total`, on `kernels`' path: its
    /// input tiles V (of the image mapped by `affine`, when given) into the `planes` planes at `v`, its
    /// output-gradient tiles A dY A^T into those at `u`.
    func gradientTiles(
        _ image: UnsafePointer<Float>, affine: UnsafePointer<ckernels_input_affine>?, _ outputGradient: UnsafePointer<Float>,
        inChannels: Int, outChannels: Int,
        height: Int, width: Int, total: Int, first: Int, v: UnsafeMutablePointer<Float>, u: UnsafeMutablePointer<Float>,
        kernels: ConvolutionKernels
    ) {
        let shape = (Int32(inChannels), Int32(outChannels), Int32(height), Int32(width), Int32(total), Int32(first))
        switch self {
        case .twoByTwo:
            kernels.table.winograd_gradient_tiles!(
                image, affine, outputGradient, shape.0, shape.1, shape.2, shape.3, shape.4, shape.5, v, u)
        case .fourByFour:
            kernels.table.winograd4_gradient_tiles!(
                image, affine, outputGradient, shape.0, shape.1, shape.2, shape.3, shape.4, shape.5, v, u)
        }
    }

    /// Maps M, the gradient of the transformed weights (`planes` matrices of in x out), back to the HWIO
    /// 3x3 weight gradient `G^T M G`, on `kernels`' path.
    func weightGradient(
        _ m: UnsafePointer<Float>, inChannels: Int, outChannels: Int, into gradient: UnsafeMutablePointer<Float>,
        kernels: ConvolutionKernels
    ) {
        let map = self == .twoByTwo ? kernels.table.winograd_weight_gradient! : kernels.table.winograd4_weight_gradient!
        map(m, Int32(inChannels), Int32(outChannels), gradient)
    }

    /// Floats of scratch space the forward pass of `images` images needs.
    func scratchCount(images: Int, inChannels: Int, outChannels: Int, height: Int, width: Int) -> Int {
        let shape = (Int32(images), Int32(inChannels), Int32(outChannels), Int32(height), Int32(width))
        switch self {
        case .twoByTwo: return ckernels_winograd_scratch(shape.0, shape.1, shape.2, shape.3, shape.4)
        case .fourByFour: return ckernels_winograd4_scratch(shape.0, shape.1, shape.2, shape.3, shape.4)
        }
    }

    /// Transforms HWIO 3x3 weights into `planes` matrices `G g G^T`, on `kernels`' path.
    func transformWeights(
        _ hwio: UnsafePointer<Float>, inChannels: Int, outChannels: Int, into transformed: UnsafeMutablePointer<Float>,
        kernels: ConvolutionKernels
    ) {
        let transform = self == .twoByTwo ? kernels.table.winograd_weights! : kernels.table.winograd4_weights!
        transform(hwio, Int32(inChannels), Int32(outChannels), transformed)
    }

    /// Convolves `images` consecutive images (`height x width` pixels each, padding 1), mapped by `affine` when
    /// it is given, with transformed weights, on `kernels`' path.
    func forward(
        _ images: UnsafePointer<Float>, affine: UnsafePointer<ckernels_input_affine>?, count: Int, inChannels: Int, weights: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, outChannels: Int, height: Int, width: Int, output: UnsafeMutablePointer<Float>,
        scratch: UnsafeMutablePointer<Float>, kernels: ConvolutionKernels
    ) {
        let shape = (Int32(count), Int32(inChannels), Int32(outChannels), Int32(height), Int32(width))
        switch self {
        case .twoByTwo:
            kernels.table.winograd_forward!(images, affine, shape.0, shape.1, weights, bias, shape.2, shape.3, shape.4, output, scratch)
        case .fourByFour:
            kernels.table.winograd4_forward!(images, affine, shape.0, shape.1, weights, bias, shape.2, shape.3, shape.4, output, scratch)
        }
    }
}
