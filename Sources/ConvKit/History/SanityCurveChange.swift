/// Diff mode of the time scrubber on the explanation board's sanity curve: how the selected method's similarity to
/// its trained map, layer by layer as the weights are randomised, changed between a marked time and the time shown.
extension SanityCurve {
    /// The change from `earlier` (the same test at the marked time, explaining the same class) to this curve: each
    /// layer's Spearman's ρ and SSIM as now minus then (signed, within -2...2: `changeSpan`), for the layers both
    /// curves have done; the request, layers and weights version stay this curve's. While either computes, the
    /// change is partial and carries its progress (this curve's first, as the board does), so it is complete once
    /// both are; an error of either is the change's.
    public func change(since earlier: SanityCurve) -> SanityCurve {
        var curve = SanityCurve(request: request, weightsVersion: weightsVersion, layers: layers)
        curve.since = earlier.weightsVersion
        // Both walk the same layers in the same order; a layer that differs (another model) ends the comparison.
        curve.points = Array(
            zip(points, earlier.points).prefix { now, then in now.layer == then.layer }.map { now, then in
                Point(layer: now.layer, spearman: now.spearman - then.spearman, ssim: now.ssim - then.ssim)
            })
        curve.progress = progress ?? earlier.progress
        curve.error = error ?? earlier.error
        return curve
    }

    /// The largest change a diff-mode point can show: Spearman's ρ and SSIM both lie in -1...1.
    public static let changeSpan = 2.0
}
