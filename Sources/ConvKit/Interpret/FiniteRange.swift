extension Sequence where Element == Float {
    /// The smallest and largest finite value (0...0 when there are none): the span a colour scale covers,
    /// of one map, of a layer or of the whole network. Inlinable so that other modules (ConvRender colours
    /// every feature map of a frame with it) get a specialised loop: unspecialised, each element of a
    /// `joined()` sequence went through the runtime's generic metadata lookups, a fifth of the app's CPU
    /// samples in the features view (docs/performance.md, "The app's own cost").
    @inlinable
    public var finiteRange: ClosedRange<Float> {
        var low = Float.infinity, high = -Float.infinity
        for v in self where v.isFinite {
            low = Swift.min(low, v)
            high = Swift.max(high, v)
        }
        return low <= high ? low...high : 0...0
    }
}
