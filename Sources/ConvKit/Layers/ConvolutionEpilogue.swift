import CKernels

/// What a convolution does to each group of images as soon as it has written them (its output, or in the
/// backward pass its input gradient), while they are still in cache: add a residual block's shortcut (or
/// the shortcut's gradient), then clamp at zero, then gather a batch norm's statistics from them. Done
/// later, as passes of their own over the whole batch, each would read the result back from memory.
struct ConvolutionEpilogue {
    /// Added to the output (the same shape and batch): a residual block's shortcut. Nil adds nothing.
    var residual: Tensor? = nil
    /// Clamp at zero, after adding `residual`.
    var rectify = false
    /// The batch-norm sums gathered from each image, after the sum and the clamp (`ImageChannelSums`): in the
    /// forward pass of the following batch norm's input, in the backward pass of the output gradient of the
    /// batch norm before. Nil gathers nothing.
    var statistics: ImageChannelSums.Request? = nil

    /// Nothing: the output is the convolution's. (Computed: a `Tensor` shares its storage, so the type is not
    /// `Sendable` and cannot be a stored static.)
    static var none: ConvolutionEpilogue { ConvolutionEpilogue() }

    /// Applies the epilogue to `count` images of `y` from image `first`.
    func apply(to y: Tensor, first: Int, count: Int) {
        if residual != nil || rectify {
            let out = y.sample(first)
            // The convolution's output first, the shortcut second: the order of the sum the unfolded
            // forward pass takes (`ResidualBlock.forward`), so both give the same numbers.
            ckernels_rectified_sum(out, residual?.sample(first), rectify ? 1 : 0, count * y.shape.count, out)
        }
        if let statistics {
            for image in first..<first + count { statistics.gather(y, image: image) }
        }
    }
}
