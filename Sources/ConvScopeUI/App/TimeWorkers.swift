import ConvKit

/// The background workers behind the views that follow one point in the run's time: the insight (heatmap
/// and feature maps), the explanation board, its sanity curve and the compression lab, all reading their
/// copies of the weights through one `TimeCursorSource`.
///
/// The app keeps two: one for the time the cursor shows (live until `[` moves it) and one for the time
/// marked in diff mode, whose panels draw the change between the two. Grouping them keeps the pairs
/// from drifting apart: a view added here is there at both times and is finished with the others.
struct TimeWorkers {
    /// The weights these workers read: the live run, or the snapshot `show` picked.
    let source: TimeCursorSource
    let insight: InsightWorker
    let explainer: ExplanationWorker
    let sanity: SanityWorker
    let lab: CompressionLab

    init(live session: any WeightsSource, train: ImageSet, test: ImageSet) {
        source = TimeCursorSource(live: session)
        insight = InsightWorker(session: source, images: test)
        explainer = ExplanationWorker(session: source, images: test)
        sanity = SanityWorker(session: source, images: test)
        lab = CompressionLab(session: source, trainImages: train, testImages: test)
    }

    /// Waits for the work in flight on copies of the weights (OpenBLAS's exit-time cleanup crashes a thread
    /// still inside a BLAS call, so this comes before the process exits).
    func finish() {
        insight.finish()
        explainer.finish()
        sanity.finish()
        lab.finish()
    }
}
