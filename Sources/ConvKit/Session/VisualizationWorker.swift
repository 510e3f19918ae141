import Dispatch
import Foundation

/// What the app's grid of synthesised inputs is asked for: every channel (up to `limit`) of one layer.
public struct VisualizationRequest: Sendable, Equatable {
    public var layer: String
    public var options: FeatureVisualizationOptions
    /// At most this many channels, the first ones (a flattened layer has thousands of units).
    public var limit: Int

    public init(layer: String, options: FeatureVisualizationOptions, limit: Int = 64) {
        self.layer = layer
        self.options = options
        self.limit = limit
    }
}

/// The grid as far as it has been computed: an immutable value the app draws and exports.
public struct VisualizationGrid: Sendable {
    public let request: VisualizationRequest
    /// The weights version (global step) the whole grid was computed with.
    public let weightsVersion: Int
    /// The layer's channels (or units), of which the first `tiles.count` are computed.
    public let channels: Int
    /// One synthesised image per channel shown, nil until it is done.
    public internal(set) var tiles: [RGBImage?]
    /// The channel's mean activation at its image.
    public internal(set) var values: [Float?]
    /// The fraction done (0...1) while computing; nil once done.
    public internal(set) var progress: Double?
    /// Why there is no grid.
    public internal(set) var error: String?
    /// Seconds the grid took (when done).
    public internal(set) var seconds: Double?

    public init(
        request: VisualizationRequest, weightsVersion: Int, channels: Int, tiles: [RGBImage?], values: [Float?],
        progress: Double? = nil, error: String? = nil, seconds: Double? = nil
    ) {
        self.request = request
        self.weightsVersion = weightsVersion
        self.channels = channels
        self.tiles = tiles
        self.values = values
        self.progress = progress
        self.error = error
        self.seconds = seconds
    }

    public var isComplete: Bool { progress == nil }
    public var finished: Int { tiles.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }
}

/// Synthesises the selected layer's grid of inputs (feature visualisation by optimisation) on its own
/// serial queue for the app, a batch of channels at a time, publishing each batch as it lands and the
/// fraction done at every step; the interpretation workers' sibling.
///
/// It works on a copy of the weights taken when the request starts, so training goes on meanwhile and
/// every tile describes the same model. A new request (another layer) cancels the grid in progress at its
/// next ascent step; so does leaving the view (`update(nil)`).
public final class VisualizationWorker: Sendable {
    private let worker: NewestRequestWorker<VisualizationRequest, VisualizationGrid>

    public init(session: any WeightsSource) {
        worker = NewestRequestWorker(label: "convscope.visualization") { request, job in
            VisualizationWorker.compute(request, job: job, session: session)
        }
    }

    /// The newest grid for the current request (partial while computing), nil when there is none.
    public var latest: VisualizationGrid? { worker.latest }

    /// Starts on `request` when it differs from the current one, cancelling the grid in progress; nil
    /// cancels without starting. Cheap to call every frame.
    public func update(_ request: VisualizationRequest?) { worker.update(request) }

    /// Cancels the grid in progress and waits for it to stop (before the process exits).
    public func finish() { worker.finish() }

    /// Computes a whole grid synchronously on the worker's queue (tests, scripts).
    public func computeNow(_ request: VisualizationRequest) -> VisualizationGrid? { worker.computeNow(request) }

    private static func compute(
        _ request: VisualizationRequest, job: NewestRequestWorker<VisualizationRequest, VisualizationGrid>.Job, session: any WeightsSource
    ) {
        let started = Date()
        let (network, version) = session.copyNetwork()
        let visualizer = FeatureVisualizer(network: network)
        let layer = network.layer(named: request.layer)
        let shape = layer?.outputShape ?? FeatureShape(features: 0)
        let channels = shape.isFlat ? shape.count : shape.channels
        let shown = max(0, min(channels, request.limit))
        var grid = VisualizationGrid(
            request: request, weightsVersion: version, channels: channels, tiles: Array(repeating: nil, count: shown),
            values: Array(repeating: nil, count: shown), progress: 0)
        if layer == nil { grid.error = "no layer named '\(request.layer)'" }
        let objectives = (0..<shown).map { FeatureObjective.channel(layer: request.layer, channel: $0) }
        let batch = max(1, request.options.batchLimit / request.options.images)
        var start = 0
        while start < shown && grid.error == nil {
            let end = min(start + batch, shown)
            let (done, share) = (Double(start) / Double(max(shown, 1)), Double(end - start) / Double(max(shown, 1)))
            do {
                let results = try visualizer.visualize(Array(objectives[start..<end]), options: request.options) { fraction in
                    guard job.isCurrent else { return false }
                    grid.progress = done + share * fraction
                    job.publish(grid)
                    return true
                }
                for (offset, result) in results.enumerated() {
                    grid.tiles[start + offset] = result.rgbImages.first
                    grid.values[start + offset] = result.values.first
                }
            } catch .cancelled {
                return
            } catch {
                grid.error = "\(error)"
                break
            }
            start = end
        }
        grid.progress = nil
        grid.seconds = Date().timeIntervalSince(started)
        job.publish(grid)
    }
}
