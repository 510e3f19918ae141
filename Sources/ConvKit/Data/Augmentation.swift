/// Random changes applied to training images as they are batched, each part switchable, each following
/// torchvision's transform of the same name. They apply in this order: crop, flip, rotation, jitter.
///
/// - `crop`: `RandomCrop(32, padding: cropPadding)` on the normalised image: pad with zeros (the mean
///   colour, as the reference recipe pads its normalised tensors) and cut a 32 x 32 window at a uniformly
///   random offset, so the content shifts by up to `cropPadding` pixels. With `reflectPadding` the border
///   mirrors the image instead (`padding_mode="reflect"`, as airbench and Page's ResNet-9 pad).
/// - `horizontalFlip`: `RandomHorizontalFlip(p)`: mirror left-right with probability `flipProbability`.
/// - `rotation`: `RandomRotation(maxRotationDegrees)`: turn counter-clockwise by an angle uniform in
///   `[-max, max]` degrees about the image centre, bilinear, the mean colour outside the image.
/// - `colorJitter`: `ColorJitter(brightness, contrast, saturation)`: each factor uniform in
///   `[max(0, 1 - a), 1 + a]`, the three adjustments in random order, values clamped to 0...255.
public struct Augmentation: Codable, Sendable, Equatable, CustomStringConvertible {
    public var crop: Bool
    public var cropPadding: Int
    /// Crops pad by mirroring the image at its edge (without repeating the edge pixel) instead of the mean colour.
    public var reflectPadding = false
    public var horizontalFlip: Bool
    public var flipProbability: Float
    public var rotation: Bool
    public var maxRotationDegrees: Float
    public var colorJitter: Bool
    public var brightness: Float
    public var contrast: Float
    public var saturation: Float
    /// Mirror each training image on every other epoch (`BatchSampler.alternatingFlip`), in place of the
    /// flip coin per image and step: airbench's flips.
    public var alternatingFlip = false

    public init(
        crop: Bool = false, cropPadding: Int = 4,
        horizontalFlip: Bool = false, flipProbability: Float = 0.5,
        rotation: Bool = false, maxRotationDegrees: Float = 15,
        colorJitter: Bool = false, brightness: Float = 0.2, contrast: Float = 0.2, saturation: Float = 0.2
    ) {
        precondition(cropPadding >= 0, "Augmentation: crop padding must not be negative")
        self.crop = crop
        self.cropPadding = cropPadding
        self.horizontalFlip = horizontalFlip
        self.flipProbability = flipProbability
        self.rotation = rotation
        self.maxRotationDegrees = maxRotationDegrees
        self.colorJitter = colorJitter
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
    }

    /// No augmentation: batches hold the images as they are (evaluation).
    public static let none = Augmentation()
    /// Random crop with 4-pixel padding and horizontal flip: the usual CIFAR-10 training recipe.
    public static let standard = Augmentation(crop: true, horizontalFlip: true)
    /// Everything on: crop, flip, rotation up to 15 degrees and colour jitter of 0.2.
    public static let strong = Augmentation(crop: true, horizontalFlip: true, rotation: true, colorJitter: true)

    /// True when no part is switched on.
    public var isNone: Bool { !crop && !horizontalFlip && !rotation && !colorJitter }

    /// The parts switched on, for example `crop+flip`, or `none`.
    public var description: String {
        var parts = [String]()
        if crop { parts.append(reflectPadding ? "crop(reflect)" : "crop") }
        if horizontalFlip { parts.append("flip") }
        if rotation { parts.append("rotate") }
        if colorJitter { parts.append("jitter") }
        return parts.isEmpty ? "none" : parts.joined(separator: "+")
    }

    /// The random choices for one image, drawn in a fixed order from `random`. Only switched-on parts
    /// draw numbers.
    func draw(source: Int, _ random: inout RandomSource) -> ImageTransform {
        var transform = ImageTransform(source: source)
        if crop {
            let span = 2 * cropPadding + 1
            transform.shiftY = random.below(span) - cropPadding
            transform.shiftX = random.below(span) - cropPadding
            transform.reflects = reflectPadding
        }
        if horizontalFlip { transform.flip = random.uniform() < flipProbability }
        if rotation {
            transform.rotates = true
            let degrees = maxRotationDegrees == 0 ? 0 : random.uniform(-maxRotationDegrees, maxRotationDegrees)
            transform.angle = degrees * .pi / 180
        }
        if colorJitter {
            transform.jitters = true
            transform.brightness = random.uniform(max(0, 1 - brightness), 1 + brightness)
            transform.contrast = random.uniform(max(0, 1 - contrast), 1 + contrast)
            transform.saturation = random.uniform(max(0, 1 - saturation), 1 + saturation)
            let order = random.permutation(3)
            transform.jitterOrder = (UInt8(order[0]), UInt8(order[1]), UInt8(order[2]))
        }
        return transform
    }
}

/// The choices made for one image of a batch: drawn at random by `Augmentation`, or set by hand to
/// show one particular change (`BatchAssembler.render`).
public struct ImageTransform: Sendable {
    /// Index of the image in its set.
    public var source: Int
    /// Pixel (x, y) of the crop shows source pixel (x + shiftX, y + shiftY), the mean colour where that lies
    /// outside the image; both are in `-cropPadding ... cropPadding` and zero when cropping is off.
    public var shiftX = 0
    public var shiftY = 0
    /// Source pixels outside the image are mirrored back in (-1 shows 1, 32 shows 30) instead of the mean colour.
    public var reflects = false
    public var flip = false
    public var rotates = false
    /// Counter-clockwise, in radians.
    public var angle: Float = 0
    public var jitters = false
    public var brightness: Float = 1
    public var contrast: Float = 1
    public var saturation: Float = 1
    /// Which adjustment goes first, second, third: 0 brightness, 1 contrast, 2 saturation.
    public var jitterOrder: (UInt8, UInt8, UInt8) = (0, 1, 2)

    public init(source: Int) { self.source = source }

    /// Whether the image can be converted by index arithmetic and table lookups alone.
    public var isIntegerOnly: Bool { !rotates && !jitters }
}
