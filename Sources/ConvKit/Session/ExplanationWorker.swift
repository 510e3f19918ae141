import Dispatch

/// What the explanation board is asked for: several methods' maps of one test image, at one layer,
/// for one class, with their faithfulness scores next to the baselines'.
public struct ExplanationRequest: Sendable, Equatable {
    /// Index into the test set.
    public var imageIndex: Int
    /// The selected layer: the CAM family and Guided Grad-CAM read it when it is spatial (the last
    /// spatial layer otherwise; CAM always reads the layer feeding `gap`).
    public var layer: String
    /// The class to explain; nil explains the predicted class.
    public var classIndex: Int?
    public var methods: [ExplanationMethod]
    public var options: AttributionOptions
    /// The step of the weight snapshot the app's time cursor shows (nil: the live weights): part of the request,
    /// so moving the cursor starts the computation again on that time's weights (`TimeCursorSource`).
    public var time: Int? = nil

    public init(imageIndex: Int, layer: String, classIndex: Int? = nil, methods: [ExplanationMethod], options: AttributionOptions = AttributionOptions()) {
        self.imageIndex = imageIndex
        self.layer = layer
        self.classIndex = classIndex
        self.methods = methods
        self.options = options
    }
}

/// The explanation board as far as it has been computed: an immutable value the app draws and exports.
public struct ExplanationBoard: Sendable {
    /// One map: a method's, or a baseline's (random, Sobel edges, constant).
    public struct Entry: Sendable {
        /// The method, or nil for a baseline.
        public let method: ExplanationMethod?
        public let baseline: BaselineMap?
        /// The map as the method made it, for a front end to colour (ConvRender's
        /// `ExplanationBoard.heatmap(of:)`). Nil for a baseline or when the method cannot explain this model
        /// (`error`).
        public let explanation: Explanation?
        /// The layer the map was read at, for the methods that read one.
        public let layer: String?
        public let scores: FaithfulnessScores?
        /// Why there is no map (for example CAM on a model without `gap`).
        public let error: String?
        /// The map scaled as the front ends colour it, at the input's resolution (`Explanation.scaledMap`), which
        /// diff mode subtracts; nil in a diff-mode board and where `explanation` is nil.
        public internal(set) var scaledMap: HeatMap? = nil
        /// In a diff-mode board (`ExplanationBoard.change(since:)`): the scaled map now minus at the marked time,
        /// which the front ends colour on a diverging palette (`changeSpan`). Nil on a board of one time.
        public internal(set) var mapChange: HeatMap? = nil

        public var title: String { method?.description ?? baseline.map { "\($0.rawValue) map" } ?? "" }
        /// Whether there is a map to draw: the method's, or in diff mode its change.
        public var hasMap: Bool { explanation != nil || mapChange != nil }
    }

    /// The method being computed and how far it has got.
    public struct Progress: Sendable, Equatable {
        public let title: String
        /// Maps finished before this one, and all maps of the board (methods and baselines).
        public let done: Int, total: Int
        /// The current map's fraction (0...1; slow methods report as they go).
        public let fraction: Double
    }

    public let request: ExplanationRequest
    /// The weights version (global step) every map of the board was computed with.
    public let weightsVersion: Int
    public let image: RGBImage
    public let label: Int
    /// The class explained and its softmax probability.
    public let classIndex: Int
    public let probability: Float
    public let predicted: Int
    /// Finished maps: the request's methods in order, then the baselines.
    public internal(set) var entries: [Entry] = []
    /// Nil once every map is done.
    public internal(set) var progress: Progress?
    /// Nil for a board of one time; in diff mode (`change(since:)`), the step of the marked time: the maps are
    /// then the change since it and the scores their change.
    public internal(set) var since: Int?

    public var isComplete: Bool { progress == nil }
}

/// Computes `ExplanationBoard`s on its own serial queue, map by map, publishing each as it lands; the
/// interpretation worker's sibling for the slow methods (Score-CAM, Ablation-CAM, SmoothGrad,
/// Integrated Gradients, Occlusion, RISE).
///
/// It has a queue of its own rather than `InsightWorker`'s so that a RISE map several seconds long
/// never delays the other views' insight for a new image. A board works on its own copy of the
/// weights, taken once when it starts, so every map and score of it describes the same model while
/// training goes on. A new request cancels the board in progress within one progress report (a few
/// forward passes): the methods' progress callbacks answer false once the generation has moved on.
public final class ExplanationWorker: Sendable {
    private let worker: NewestRequestWorker<ExplanationRequest, ExplanationBoard>

    public init(session: any WeightsSource, images: ImageSet) {
        worker = NewestRequestWorker(label: "convscope.explanations") { request, job in
            ExplanationWorker.compute(request, job: job, session: session, images: images)
        }
    }

    /// The newest board for the current request (partial while it is computed), nil when there is no
    /// request or its first map is not ready.
    public var latest: ExplanationBoard? { worker.latest }

    /// Starts a board for `request` when it differs from the current one, cancelling the board in
    /// progress; nil cancels without starting (the view is not on screen). Cheap to call every frame.
    public func update(_ request: ExplanationRequest?) { worker.update(request) }

    /// Cancels the board in progress and waits for it to stop (before the process exits).
    public func finish() { worker.finish() }

    /// Computes a whole board synchronously on the worker's queue (tests, scripts).
    public func computeNow(_ request: ExplanationRequest) -> ExplanationBoard? { worker.computeNow(request) }

    private static func compute(
        _ request: ExplanationRequest, job: NewestRequestWorker<ExplanationRequest, ExplanationBoard>.Job, session: any WeightsSource,
        images: ImageSet
    ) {
        let (network, version) = session.copyNetwork()
        let inspector = Inspector(network: network)
        let index = min(max(request.imageIndex, 0), images.count - 1)
        let buffer = FloatBuffer()
        let tensor = BatchAssembler().tensor(images, index: index, into: buffer)
        let logits = inspector.run(tensor)
        let probabilities = softmax(logits)
        let predicted = inspector.predictedClass
        let target = request.classIndex.flatMap { probabilities.indices.contains($0) ? $0 : nil } ?? predicted
        let shape = network.inputShape
        let layer = network.layer(named: request.layer) ?? network.layers[0]
        let mapLayer = layer.outputShape.isFlat ? inspector.defaultLayer?.name : layer.name
        let pixels = Array(inspector.image!.elements)
        let total = request.methods.count + BaselineMap.allCases.count
        var board = ExplanationBoard(
            request: request, weightsVersion: version, image: RGBImage(width: 32, height: 32, pixels: images.interleavedRGB(index)),
            label: images.label(index), classIndex: target, probability: probabilities[target], predicted: predicted)
        let scorer = FaithfulnessScorer()

        func report(_ title: String, _ fraction: Double) -> Bool {
            guard job.isCurrent else { return false }
            board.progress = ExplanationBoard.Progress(title: title, done: board.entries.count, total: total, fraction: fraction)
            job.publish(board)
            return true
        }

        for method in request.methods {
            guard report(method.description, 0) else { return }
            // Perturbation methods leave other inputs' activations behind: start each map from the image.
            inspector.run(tensor)
            let entry: ExplanationBoard.Entry
            do {
                let explanation = try inspector.explain(
                    method, layer: method == .activation(.cam) ? nil : (method.usesLayer ? mapLayer : nil), classIndex: target,
                    options: request.options, progress: { report(method.description, $0 * 0.8) })
                guard report(method.description, 0.8) else { return }
                inspector.run(tensor)
                let map = explanation.map(width: shape.width, height: shape.height)
                let scores = try scorer.scores(inspector: inspector, map: map, classIndex: target) { report(method.description, 0.8 + $0 * 0.2) }
                let layerName: String?
                switch explanation {
                case .activation(let map): layerName = map.layer
                case .pixel(let attribution): layerName = attribution.layer
                }
                entry = .init(
                    method: method, baseline: nil, explanation: explanation, layer: layerName, scores: scores, error: nil,
                    scaledMap: explanation.scaledMap(size: shape.width))
            } catch .cancelled {
                return
            } catch {
                entry = .init(method: method, baseline: nil, explanation: nil, layer: nil, scores: nil, error: "\(error)")
            }
            board.entries.append(entry)
        }
        inspector.run(tensor)
        for baseline in BaselineMap.allCases {
            guard report(baseline.description, 0) else { return }
            let map = baseline.map(image: pixels, width: shape.width, height: shape.height, channels: shape.channels, seed: UInt64(index))
            let scores: FaithfulnessScores?
            do {
                scores = try scorer.scores(inspector: inspector, map: map, classIndex: target) { report(baseline.description, $0) }
            } catch .cancelled {
                return
            } catch {
                scores = nil
            }
            board.entries.append(.init(method: nil, baseline: baseline, explanation: nil, layer: nil, scores: scores, error: nil))
        }
        board.progress = nil
        job.publish(board)
    }
}
