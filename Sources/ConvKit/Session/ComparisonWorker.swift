import Dispatch

/// The app's A/B comparison (`convscope --checkpoint A --compare B`), computed on its own serial queue: first
/// the whole `CheckpointComparison` (weights, both scores, the flips), then, on request, the Grad-CAM maps of
/// both models for one image (`ExplanationPair`). The UI thread only calls `explain(_:)` and reads values.
///
/// A is a copy of the weights the app opened with, taken once, so the comparison does not drift if training
/// resumes; B is the other checkpoint. Quitting raises the stop signal: the scoring stops after its batch.
public final class ComparisonWorker: Sendable {
    /// What the A/B view has so far.
    public enum Progress: Sendable {
        case comparing
        case done(CheckpointComparison)
        case failed(String)
    }

    /// The image and layer whose explanation pair the view shows.
    public struct Request: Sendable, Equatable {
        public var imageIndex: Int
        public var layer: String
        public init(imageIndex: Int, layer: String) {
            self.imageIndex = imageIndex
            self.layer = layer
        }
    }

    private let queue = DispatchQueue(label: "convscope.compare", qos: .utility)
    private let images: ImageSet
    private let stop = StopSignal()
    private let state = Locked<State>(State())
    /// Both models; only touched on `queue` (`Confined`).
    private let models: Confined<(a: Network, b: Classifier)>

    private struct State {
        var progress = Progress.comparing
        var explanation: ExplanationPair?
        var pending: Request?
        var busy = false
    }

    /// Starts comparing `a` with `b` on `images` at once; both models become the worker's.
    public init(a: Network, b: Classifier, images: ImageSet) {
        self.images = images
        models = Confined((a, b))
        queue.async {
            let progress: Progress
            do {
                let (a, b) = self.models.value
                if let result = try CheckpointComparison.compare(.float(a), b, on: images, stoppingWhen: self.stop) {
                    progress = .done(result)
                } else {
                    progress = .failed("stopped")
                }
            } catch {
                progress = .failed("\(error)")
            }
            self.state.withLock { $0.progress = progress }
        }
    }

    /// The comparison's state.
    public var progress: Progress { state.withLock { $0.progress } }

    /// The newest finished explanation pair.
    public var explanation: ExplanationPair? { state.withLock { $0.explanation } }

    /// Asks for the pair of `request` unless it is the one shown or on its way; cheap to call every frame.
    /// Only the newest request is computed once the current one ends.
    public func explain(_ request: Request) {
        let start: Bool = state.withLock { state in
            if let shown = state.explanation, shown.imageIndex == request.imageIndex, shown.layer == request.layer { return false }
            if state.busy {
                state.pending = request
                return false
            }
            state.busy = true
            return true
        }
        if start { compute(request) }
    }

    private func compute(_ request: Request) {
        queue.async {
            if self.stop.isRaised { return }
            let (a, b) = self.models.value
            let index = min(max(request.imageIndex, 0), self.images.count - 1)
            let pair = ExplanationPair.explain(a: a, b: b, images: self.images, index: index, layer: request.layer)
            let next: Request? = self.state.withLock { state in
                state.explanation = pair
                defer { state.pending = nil }
                guard let pending = state.pending, pending != request else {
                    state.busy = false
                    return nil
                }
                return pending
            }
            if let next { self.compute(next) }
        }
    }

    /// Stops the scoring after its current batch and waits for the queue (before the process exits, so no
    /// thread is left inside a BLAS call).
    public func finish() {
        stop.raise()
        queue.sync {}
    }
}
