extension Sequence where Element == Float {
    /// The smallest and largest finite value (0...0 when there are none): the span a colour scale covers,
    /// of one map, of a layer or of the whole network.
    public var finiteRange: ClosedRange<Float> {
        var low = Float.infinity, high = -Float.infinity
        for v in self where v.isFinite {
            low = Swift.min(low, v)
            high = Swift.max(high, v)
        }
        return low <= high ? low...high : 0...0
    }
}
