/// Which values share one colour scale when several maps are drawn together.
public enum ColorScaleScope: String, Sendable, CaseIterable {
    /// Each map is stretched over its own range: shows every map's pattern, hides their relative strength.
    case map
    /// All maps of the layer share one range: strong and weak channels stay comparable.
    case layer
    /// One range across the whole network (the caller supplies it).
    case global
}
