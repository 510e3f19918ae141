import Dispatch
import Foundation

/// What the user is looking at: an image, a layer, a class and a method.
public struct InsightRequest: Sendable, Equatable {
    /// Index into the test set.
    public var imageIndex: Int
    /// The selected layer (feature maps, filters, statistics); Grad-CAM uses it when it is spatial.
    public var layer: String
    /// The class to explain; nil explains the predicted class.
    public var classIndex: Int?
    public var method: ActivationMapMethod

    public init(imageIndex: Int, layer: String, classIndex: Int? = nil, method: ActivationMapMethod = .gradCAM) {
        self.imageIndex = imageIndex
        self.layer = layer
        self.classIndex = classIndex
        self.method = method
    }
}

/// Everything the TUI shows about one image at one layer, computed off the UI thread on a copy of
/// the weights taken between training steps.
public struct Insight: Sendable {
    public let request: InsightRequest
    /// The weights version (global step) the insight was computed with.
    public let weightsVersion: Int
    /// The 32x32 test image and its true label.
    public let image: RGBImage
    public let label: Int
    public let logits: [Float]
    public let probabilities: [Float]
    /// The selected layer's output for the image.
    public let featureMaps: FeatureMaps
    /// The selected layer's filters, when it is a convolution (with the last step's gradients).
    public let filters: FilterBank?
    /// Statistics of the selected layer's output and, when it has one, its weight.
    public let activationStatistics: ValueStatistics
    public let weightStatistics: ValueStatistics?
    /// The class-activation map, or why there is none (for example CAM on a model without `gap`).
    public let activationMap: ActivationMap?
    public let activationMapError: String?
    /// The layer the map was computed at.
    public let mapLayer: String?
    /// The range of every spatial layer's output for this image, and of every conv weight: the
    /// shared colour scale of the "global" scope.
    public let featureRange: ClosedRange<Float>
    public let weightRange: ClosedRange<Float>

    /// The predicted class.
    public var predicted: Int { probabilities.indices.max { probabilities[$0] < probabilities[$1] } ?? 0 }
    /// Classes by probability, highest first.
    public var ranking: [Int] { probabilities.indices.sorted { probabilities[$0] > probabilities[$1] } }
}

/// Computes `Insight`s on its own queue for the TUI: when the request changes at once, and while
/// training runs, again whenever the weights have moved on and `refreshInterval` has passed; after
/// `kick()` (the user moved the time cursor: the weights jumped rather than moved on), at once.
///
/// The UI calls `update(_:)` every frame and reads `latest`; at most one computation runs at a time
/// and only the newest request matters.
public final class InsightWorker: Sendable {
    /// Seconds between recomputations while the weights change.
    public static let refreshInterval: Double = 1

    /// This worker's interval (`refreshInterval` unless a test asks for another).
    private let interval: Double

    private let queue = DispatchQueue(label: "convscope.insight", qos: .utility)
    private let session: any WeightsSource
    private let images: ImageSet
    private let state = Locked<State>(State())
    /// The inspector's own network and scratch; only touched on `queue`.
    private let workspace: Confined<Workspace>

    private struct State {
        var latest: Insight?
        var busy = false
        var lastStarted = -Double.infinity
    }

    private final class Workspace {
        let network: Network
        let buffer = FloatBuffer()
        init(network: Network) { self.network = network }
    }

    public init(session: any WeightsSource, images: ImageSet, refreshInterval: Double = InsightWorker.refreshInterval) {
        self.session = session
        self.images = images
        interval = refreshInterval
        workspace = Confined(Workspace(network: session.copyNetwork().network))
    }

    /// The newest finished insight.
    public var latest: Insight? { state.withLock { $0.latest } }

    /// Starts a computation for `request` when it differs from the latest insight, or when the
    /// weights have changed and the refresh interval has passed. Cheap to call every frame.
    public func update(_ request: InsightRequest, weightsVersion: Int) {
        let now = Stopwatch.now
        let start: Bool = state.withLock { state in
            guard !state.busy else { return false }
            let changed = state.latest?.request != request
            let stale = state.latest.map { $0.weightsVersion != weightsVersion } ?? true
            guard changed || (stale && now - state.lastStarted >= interval) else { return false }
            state.busy = true
            state.lastStarted = now
            return true
        }
        guard start else { return }
        queue.async {
            let insight = self.compute(request)
            self.state.withLock { state in
                state.latest = insight
                state.busy = false
            }
            FreedMemory.release()
        }
    }

    /// Lets the next `update` with new weights start at once instead of after the refresh interval: the
    /// interval spaces out recomputations that follow training, not one the user asked for by moving the
    /// time cursor. A computation in progress finishes first; the next `update` after it starts.
    public func kick() {
        state.withLock { $0.lastStarted = -Double.infinity }
    }

    /// Waits until any computation in progress has finished (before the process exits, so no thread
    /// is left inside a BLAS call while the library shuts down).
    public func finish() {
        queue.sync {}
    }

    /// Computes synchronously on the caller's thread (tests, export).
    public func computeNow(_ request: InsightRequest) -> Insight {
        queue.sync { compute(request) }
    }

    private func compute(_ request: InsightRequest) -> Insight {
        let workspace = self.workspace.value
        let version = session.copyWeights(into: workspace.network)
        let inspector = Inspector(network: workspace.network)
        let index = min(max(request.imageIndex, 0), images.count - 1)
        let tensor = BatchAssembler().tensor(images, index: index, into: workspace.buffer)
        let logits = inspector.run(tensor)
        let layer = workspace.network.layer(named: request.layer) ?? workspace.network.layers[0]
        let maps = FeatureMaps(layer: layer.name, output: layer.lastOutput!)
        let conv = layer as? Conv2d
        var map: ActivationMap?
        var mapError: String?
        let mapLayer = request.method == .cam ? nil : (layer.outputShape.isFlat ? inspector.defaultLayer?.name : layer.name)
        do {
            map = try inspector.activationMap(layer: mapLayer, classIndex: request.classIndex, method: request.method)
        } catch {
            mapError = "\(error)"
        }
        return Insight(
            request: request, weightsVersion: version, image: RGBImage(width: 32, height: 32, pixels: images.interleavedRGB(index)),
            label: images.label(index), logits: logits, probabilities: softmax(logits), featureMaps: maps,
            filters: conv.map(FilterBank.init), activationStatistics: maps.statistics,
            weightStatistics: layer.parameters.first.map { ValueStatistics($0.values) }, activationMap: map,
            activationMapError: mapError, mapLayer: map?.layer,
            featureRange: inspector.spatialLayers.lazy.flatMap { $0.lastOutput?.elements ?? UnsafeMutableBufferPointer(start: nil, count: 0) }.finiteRange,
            weightRange: workspace.network.allLayers.lazy.compactMap { $0 as? Conv2d }.flatMap(\.weight.values).finiteRange)
    }
}
