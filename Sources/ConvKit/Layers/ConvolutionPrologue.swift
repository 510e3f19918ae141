import CKernels

/// What a convolution does to each input value as it reads it: the per-channel `x * scale + shift` of the
/// batch norm before it, then that batch norm's ReLU. A training pass then hands the convolution the batch
/// norm's *input*, and the batch norm's output, which nothing else reads in training, is never written:
/// one write and one read of the whole map fewer in the forward pass, and a map less to keep for the
/// backward pass, whose weight gradient reads the input through the same prologue.
///
/// Every value is rounded as the batch norm rounds it (`ckernels_input_affine`), so the convolution's
/// numbers are the same, bit for bit, as with the map written. Only the Winograd backends' input transforms
/// apply a prologue (`PrologueApplyingBackend`); `Conv2d.appliesPrologue` says whether a layer's can.
struct ConvolutionPrologue {
    /// The map in the C kernels' form. Its pointers are the batch norm's scale and shift of its latest
    /// pass, valid until its next forward pass.
    let affine: ckernels_input_affine

    init(scale: UnsafePointer<Float>, shift: UnsafePointer<Float>, rectify: Bool) {
        affine = ckernels_input_affine(scale: scale, shift: shift, rectify: rectify ? 1 : 0)
    }
}

/// A backend whose passes can apply a prologue to their input (the Winograd transforms). With a nil
/// prologue each pass is the plain `ConvolutionBackend` one.
protocol PrologueApplyingBackend: ConvolutionBackend {
    /// `forward`, with `prologue` applied to each value of `x` as it is read.
    func forward(
        _ x: Tensor, prologue: ConvolutionPrologue?, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        epilogue: ConvolutionEpilogue, into y: Tensor)

    /// `backward` at the input `x` as `prologue` maps it: the weight gradient reads the mapped values; the input
    /// gradient is the gradient with respect to them (what the batch norm's backward pass takes).
    func backward(
        _ x: Tensor, prologue: ConvolutionPrologue?, outputGradient dy: Tensor, weights: UnsafePointer<Float>,
        weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>?, inputGradient: Tensor?,
        epilogue: ConvolutionEpilogue)
}

extension PrologueApplyingBackend {
    func forward(
        _ x: Tensor, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, epilogue: ConvolutionEpilogue, into y: Tensor
    ) {
        forward(x, prologue: nil, weights: weights, bias: bias, epilogue: epilogue, into: y)
    }

    func backward(
        _ x: Tensor, outputGradient dy: Tensor, weights: UnsafePointer<Float>, weightGradient: UnsafeMutablePointer<Float>,
        biasGradient: UnsafeMutablePointer<Float>?, inputGradient: Tensor?, epilogue: ConvolutionEpilogue
    ) {
        backward(
            x, prologue: nil, outputGradient: dy, weights: weights, weightGradient: weightGradient,
            biasGradient: biasGradient, inputGradient: inputGradient, epilogue: epilogue)
    }
}
