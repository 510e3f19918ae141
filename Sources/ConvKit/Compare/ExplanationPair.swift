/// The Grad-CAM maps of two models A and B for one test image, side by side with their difference: the
/// picture of the app's A/B view. Each model explains its own prediction, so a flipped image shows why A
/// said one class and B another.
public struct ExplanationPair: Sendable {
    /// The test image's index, the layer asked for and the image with its true class.
    public let imageIndex: Int
    public let layer: String
    public let image: RGBImage
    public let label: Int
    /// Each model's class probabilities.
    public let probabilitiesA: [Float]
    public let probabilitiesB: [Float]
    /// Each model's map, or why it has none (an int8 model has no backward pass; a layer without space).
    public let mapA: ActivationMap?
    public let mapB: ActivationMap?
    public let problemA: String?
    public let problemB: String?
    /// B's map minus A's, each min-max scaled to [0, 1] and resized to 32x32 first: in [-1, 1], positive
    /// where B looks more than A. nil unless both maps exist.
    public let difference: HeatMap?

    /// Side of the maps when they are differenced (the image's).
    public static let side = 32

    /// Explains image `index` of `images` with both models at `layer` (B at its last spatial layer when it
    /// has no spatial layer of that name). `a` and `b` are the caller's own copies: their activations change.
    public static func explain(a: Network, b: Classifier, images: ImageSet, index: Int, layer: String) -> ExplanationPair {
        let buffer = FloatBuffer()
        let tensor = BatchAssembler().tensor(images, index: index, into: buffer)
        let (probabilitiesA, mapA, problemA) = explain(a, tensor, layer: layer)
        let probabilitiesB: [Float], mapB: ActivationMap?, problemB: String?
        switch b {
        case .float(let network):
            (probabilitiesB, mapB, problemB) = explain(network, tensor, layer: layer)
        case .int8(let network):
            probabilitiesB = softmax(network.forward(tensor).array)
            (mapB, problemB) = (nil, "an int8 model has no backward pass for Grad-CAM")
        }
        var difference: HeatMap?
        if let mapA, let mapB {
            let scaledA = resized(mapA), scaledB = resized(mapB)
            difference = HeatMap(width: side, height: side, values: zip(scaledB.values, scaledA.values).map { $0 - $1 })
        }
        return ExplanationPair(
            imageIndex: index, layer: layer, image: RGBImage(width: 32, height: 32, pixels: images.interleavedRGB(index)),
            label: images.label(index), probabilitiesA: probabilitiesA, probabilitiesB: probabilitiesB, mapA: mapA, mapB: mapB,
            problemA: problemA, problemB: problemB, difference: difference)
    }

    private static func explain(_ network: Network, _ tensor: Tensor, layer: String) -> ([Float], ActivationMap?, String?) {
        let inspector = Inspector(network: network)
        let logits = inspector.run(tensor)
        let spatial = network.layer(named: layer).map { !$0.outputShape.isFlat } ?? false
        do {
            let map = try inspector.activationMap(layer: spatial ? layer : nil, method: .gradCAM)
            return (softmax(logits), map, nil)
        } catch {
            return (softmax(logits), nil, "\(error)")
        }
    }

    private static func resized(_ map: ActivationMap) -> HeatMap {
        HeatMap(width: map.width, height: map.height, values: map.normalized).resizedBilinear(width: side, height: side)
    }
}
