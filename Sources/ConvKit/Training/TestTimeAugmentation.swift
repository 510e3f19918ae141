/// Views of each test image whose class scores are averaged when a run is evaluated (test-time
/// augmentation). Shifted views show what training crops showed where they reach past the image: the
/// mean colour, or the mirrored image under `Augmentation.reflectPadding`.
public enum TestTimeAugmentation: String, Codable, Sendable, Equatable, CaseIterable {
    /// The image alone.
    case none
    /// The image and its mirror image, half each.
    case flip
    /// airbench's level 2: the image and its mirror (half of the weight), and both of those shifted
    /// one pixel up-left and one pixel down-right (the other half): six views.
    case flipTranslate = "flip+translate"

    /// One view: the shift of `ImageTransform` (the same in x and y), whether mirrored, and its weight.
    public struct View: Sendable, Equatable {
        public var shift: Int
        public var flip: Bool
        public var weight: Float
    }

    /// The views, whose weights sum to 1.
    public var views: [View] {
        switch self {
        case .none: return [View(shift: 0, flip: false, weight: 1)]
        case .flip: return [false, true].map { View(shift: 0, flip: $0, weight: 0.5) }
        case .flipTranslate:
            return [false, true].map { View(shift: 0, flip: $0, weight: 0.25) }
                + [-1, 1].flatMap { shift in [false, true].map { View(shift: shift, flip: $0, weight: 0.125) } }
        }
    }
}
