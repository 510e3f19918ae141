import Dispatch

/// What the app's sanity curve is asked for: the model-parameter randomisation test (cascading or
/// independent) of one method on one test image, at one layer, for one class.
public struct SanityRequest: Sendable, Equatable {
    /// Index into the test set.
    public var imageIndex: Int
    /// The layer the CAM family and Guided Grad-CAM read (the last spatial layer when it is flat).
    public var layer: String
    /// The class to explain; nil explains the trained model's predicted class.
    public var classIndex: Int?
    public var method: ExplanationMethod
    /// Cascading (every layer from the classifier down to this one random) or independent (this one alone).
    public var mode: SanityCheck.Mode
    public var options: AttributionOptions
    /// The step of the weight snapshot the app's time cursor shows (nil: the live weights): part of the request,
    /// so moving the cursor starts the computation again on that time's weights (`TimeCursorSource`).
    public var time: Int? = nil

    public init(
        imageIndex: Int, layer: String, classIndex: Int? = nil, method: ExplanationMethod, mode: SanityCheck.Mode = .cascading,
        options: AttributionOptions = AttributionOptions()
    ) {
        self.imageIndex = imageIndex
        self.layer = layer
        self.classIndex = classIndex
        self.method = method
        self.mode = mode
        self.options = options
    }
}

/// The sanity curve as far as it has been computed: the method's map under the request's randomisation,
/// compared with the trained model's map, one point per randomised layer (top first).
public struct SanityCurve: Sendable {
    /// One randomised layer (with every layer above it when cascading) and the map's similarity to the trained one.
    public struct Point: Sendable, Equatable {
        public let layer: String
        public let spearman: Double
        public let ssim: Double
    }

    public let request: SanityRequest
    /// The weights version (global step) the trained map and every randomisation started from.
    public let weightsVersion: Int
    /// Every layer the test randomises, in order: `points` grows along it.
    public let layers: [String]
    public internal(set) var points: [Point] = []
    /// The fraction done (0...1) while computing; nil once every layer is done.
    public internal(set) var progress: Double?
    /// Why there is no curve (for example CAM on a model without `gap`).
    public internal(set) var error: String?
    /// Nil for a curve of one time; in diff mode (`change(since:)`), the step of the marked time: the points are
    /// then the change of each layer's scores since it.
    public internal(set) var since: Int? = nil

    public var isComplete: Bool { progress == nil }
}

/// Runs `SanityCheck` for the app on its own serial queue, publishing the curve layer by
/// layer; the explanation worker's sibling, so that a long cascade (every layer of resnet20 with RISE)
/// never holds up a new board.
///
/// The test randomises a copy of the weights taken when it starts (`WeightsSource.copyNetwork`), which
/// `SanityCheck` copies again before writing random values: the training run is never touched. A new
/// request cancels the curve in progress at its next progress report (a few forward passes).
public final class SanityWorker: Sendable {
    private let worker: NewestRequestWorker<SanityRequest, SanityCurve>

    public init(session: any WeightsSource, images: ImageSet) {
        worker = NewestRequestWorker(label: "convscope.sanity") { request, job in
            SanityWorker.compute(request, job: job, session: session, images: images)
        }
    }

    /// The newest curve for the current request (partial while computing), nil when there is none yet.
    public var latest: SanityCurve? { worker.latest }

    /// The request being computed or shown.
    public var request: SanityRequest? { worker.request }

    /// Starts a curve for `request` when it differs from the current one, cancelling the one in
    /// progress; nil cancels without starting. Cheap to call every frame.
    public func update(_ request: SanityRequest?) { worker.update(request) }

    /// Cancels the curve in progress and waits for it to stop (before the process exits).
    public func finish() { worker.finish() }

    /// Computes a whole curve synchronously on the worker's queue (tests, scripts).
    public func computeNow(_ request: SanityRequest) -> SanityCurve? { worker.computeNow(request) }

    private static func compute(
        _ request: SanityRequest, job: NewestRequestWorker<SanityRequest, SanityCurve>.Job, session: any WeightsSource, images: ImageSet
    ) {
        let (network, version) = session.copyNetwork()
        let index = min(max(request.imageIndex, 0), images.count - 1)
        let tensor = BatchAssembler().tensor(images, index: index, into: FloatBuffer())
        let selected = network.layer(named: request.layer) ?? network.layers[0]
        // As the explanation board: a flat layer (fc, gap) means the last spatial layer, which the inspector picks.
        let layer = selected.outputShape.isFlat ? nil : selected.name
        let classes = network.layers.last?.outputShape.count ?? 0
        let classIndex = request.classIndex.flatMap { (0..<classes).contains($0) ? $0 : nil }
        var curve = SanityCurve(request: request, weightsVersion: version, layers: SanityCheck.randomisedLayers(of: network), progress: 0)
        job.publish(curve)
        do {
            _ = try SanityCheck.run(
                network: network, image: tensor, layer: layer, methods: [request.method], mode: request.mode, options: request.options,
                seed: UInt64(index), classIndex: classIndex,
                progress: { fraction in
                    guard job.isCurrent else { return false }
                    if fraction - (curve.progress ?? 0) >= 0.01 {
                        curve.progress = fraction
                        job.publish(curve)
                    }
                    return true
                },
                stepDone: { step in
                    curve.points.append(.init(layer: step.layer, spearman: step.spearman[0], ssim: step.ssim[0]))
                    job.publish(curve)
                })
        } catch .cancelled {
            return
        } catch {
            curve.error = "\(error)"
        }
        curve.progress = nil
        job.publish(curve)
    }
}
