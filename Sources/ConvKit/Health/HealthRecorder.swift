/// Records the health timeline of a run, called by the trainer around each update
/// (`willUpdate` once the step's gradients are known and finite, `didUpdate` after the weights moved).
///
/// At a recorded step it measures, for each convolution and fully connected layer: the weight and
/// gradient histograms and norms, the update-to-weight ratio of this step, and, from an inference pass
/// over a fixed probe batch (the first `probeImages` test images), the activation histogram, the share of
/// dead units and of all-zero filters. The probe pass runs in inference mode (running statistics, no
/// dropout), so it changes neither the weights nor what the next step computes: a run trains to the same
/// numbers with or without recording (tested).
///
/// Cost: a record is one inference pass over the probe batch plus a few passes over the weights; by
/// default about 20 records per epoch, a small share of training time (docs/timeline.md has measurements). The
/// recorder times itself, and if it passes `settings.overheadBudget` of the training time under the
/// automatic cadence, it records half as often.
public final class HealthRecorder {
    public var settings: HealthSettings {
        didSet { history.every = HealthRecorder.every(settings, stepsPerEpoch: stepsPerEpoch) }
    }
    public private(set) var history: HealthHistory

    /// A weight layer, its parameters, and the layer whose output is its activation.
    struct Tracked {
        let name: String
        let weight: Parameter
        let parameters: [Parameter]
        let activation: Layer
        /// Whether the activation is a ReLU's output, which can be dead.
        let canDie: Bool
    }

    private let network: Network
    private let tracked: [Tracked]
    private let probeSet: ImageSet
    private var probe: Tensor?
    private let probeBuffer = FloatBuffer()
    private let stepsPerEpoch: Int
    private let peakRate: Float
    /// The step being recorded, between `willUpdate` and `didUpdate`.
    private var pending: (step: Int, loss: Float, rate: Float, gradientNorm: Float, gradients: [(norm: Float, histogram: HealthHistogram)])?
    /// The weights before this step's update, one buffer per tracked layer.
    private var before: [[Float]]
    /// Alarms raised since `takeRaisedAlarms()` last ran.
    private var raised: [HealthAlarm] = []
    private var lastStepStart: Double?
    private var stepSeconds = 0.0, countedSteps = 0, recordingSeconds = 0.0, recordsThisSession = 0

    public init(network: Network, probe: ImageSet, stepsPerEpoch: Int, peakRate: Float, settings: HealthSettings = HealthSettings()) {
        self.network = network
        self.stepsPerEpoch = stepsPerEpoch
        self.peakRate = peakRate
        self.settings = settings
        probeSet = probe.subset(first: min(settings.probeImages, probe.count))
        tracked = HealthRecorder.trackedLayers(of: network)
        before = tracked.map { _ in [] }
        history = HealthHistory(layers: tracked.map(\.name), every: HealthRecorder.every(settings, stepsPerEpoch: stepsPerEpoch))
    }

    /// The cadence `settings` asks for: its own, or about 20 records per epoch.
    static func every(_ settings: HealthSettings, stepsPerEpoch: Int) -> Int {
        settings.every ?? max(1, stepsPerEpoch / 20)
    }

    public var isEnabled: Bool { settings.every != 0 && !tracked.isEmpty }

    /// Whether the update after global step `step` (0-based, before the update) is recorded: multiples of
    /// the cadence, and steps 1, 2, 4, 8, ... before the first of them (counting from 1 after the update).
    public func records(step: Int) -> Bool {
        let done = step + 1
        return done % history.every == 0 || (done < history.every && done & (done - 1) == 0)
    }

    /// Carries on from a checkpoint's history when it tracked the same layers (otherwise starts afresh).
    public func restore(_ saved: HealthHistory) {
        guard saved.layers == history.layers else { return }
        var restored = saved
        restored.every = settings.every == nil ? max(saved.every, history.every) : history.every
        restored.overhead = 0
        history = restored
    }

    /// Returns, and forgets, the alarms raised since the last call (headless training prints them).
    public func takeRaisedAlarms() -> [HealthAlarm] {
        defer { raised.removeAll() }
        return raised
    }

    // MARK: - The trainer's calls

    /// Before the update of global step `step` (0-based) with finite gradients: measures the gradients
    /// and keeps the weights it will compare against.
    public func willUpdate(step: Int, stepInEpoch: Int, loss: Float, rate: Float) {
        let now = Stopwatch.now
        // An interval holding an epoch's test evaluation is not training time, nor one holding a pause in the app
        // (ten times the average step).
        if let last = lastStepStart, stepInEpoch > 0 {
            let interval = now - last
            if countedSteps == 0 || interval < 10 * stepSeconds / Double(countedSteps) {
                stepSeconds += interval
                countedSteps += 1
            }
        }
        lastStepStart = now
        guard isEnabled, records(step: step) else { return }
        let total = Float(FiniteCheck.squaredGradientNorm(network.parameters).squareRoot())
        let gradients = tracked.enumerated().map { index, layer -> (norm: Float, histogram: HealthHistogram) in
            var tally = HealthHistogram.Tally()
            tally.add(layer.weight.gradient.base, count: layer.weight.count)
            let others = layer.parameters.filter { $0 !== layer.weight }
            let squares = tally.squares + FiniteCheck.squaredGradientNorm(others)
            before[index] = layer.weight.value.array(layer.weight.count)
            return (Float(squares.squareRoot()), tally.histogram)
        }
        pending = (step + 1, loss, rate, total, gradients)
        recordingSeconds += Stopwatch.now - now
    }

    /// After the update: measures the weights, the update and the probe batch's activations, and records.
    public func didUpdate() {
        guard let pending else { return }
        self.pending = nil
        let stopwatch = Stopwatch()
        let probe = probeTensor()
        if let probe { network.forward(probe, mode: .inference) }
        // Each layer's measures are a pass over its weights and its probe activations, independent of the
        // other layers': the workers share them out (their results do not depend on which worker ran them).
        var measured = [(health: LayerHealth, nonFiniteActivations: Bool)?](repeating: nil, count: tracked.count)
        measured.withUnsafeMutableBufferPointer { measured in
            Parallel.forEachTask(tracked.count) { index, _ in
                measured[index] = measure(layer: index, probe: probe, gradient: pending.gradients[index])
            }
        }
        let layers = measured.map { $0!.health }
        let nonFinite = zip(tracked, measured).filter { $1!.nonFiniteActivations }.map(\.0.name)
        history.truncate(after: pending.step - 1)
        history.records.append(
            HealthRecord(step: pending.step, loss: pending.loss, learningRate: pending.rate, gradientNorm: pending.gradientNorm, layers: layers))
        if history.records.count > settings.capacity { history.thin() }
        update(
            HealthAlarmRules.alarms(
                in: history, settings: settings, peakRate: peakRate, trains: tracked.map { !$0.weight.isFrozen },
                deadApplies: tracked.map(\.canDie), nonFiniteActivations: nonFinite))
        recordingSeconds += stopwatch.seconds
        recordsThisSession += 1
        history.overhead = stepSeconds > 0 ? recordingSeconds / stepSeconds : 0
        // Keep within the budget: under the automatic cadence, record half as often when it costs too much.
        // Judged from four cadence lengths on: the denser records of the first steps (1, 2, 4, ...) cost more
        // for a moment and are worth it.
        if settings.every == nil, pending.step >= 4 * history.every, recordsThisSession >= 4,
            history.overhead > settings.overheadBudget
        {
            history.every *= 2
            (recordingSeconds, stepSeconds, countedSteps, recordsThisSession) = (0, 0, 0, 0)
        }
    }

    /// The trainer found a non-finite number and went back to its last good state: the records after it
    /// go, and a non-finite alarm is raised (the divergence itself is the trainer's, `Divergence`).
    public func noteDivergence(_ divergence: Divergence) {
        pending = nil
        history.truncate(after: divergence.restoredGlobalStep)
        let alarm = HealthAlarm(
            kind: .nonFinite(quantity: divergence.quantity.rawValue), layer: divergence.tensor, step: divergence.globalStep)
        history.alarms = [alarm]
        history.log(alarm)
        raised.append(alarm)
    }

    /// Tracked layer `index`'s health after the update: its weights, the update against the weights kept
    /// before it, `gradient` (measured before it) and the activations of the probe batch.
    private func measure(
        layer index: Int, probe: Tensor?, gradient: (norm: Float, histogram: HealthHistogram)
    ) -> (health: LayerHealth, nonFiniteActivations: Bool) {
        let layer = tracked[index]
        var weights = HealthHistogram.Tally()
        weights.add(layer.weight.value.base, count: layer.weight.count)
        var change = 0.0, old = 0.0
        before[index].withUnsafeBufferPointer { previous in
            let now = layer.weight.value.base
            for i in 0..<previous.count {
                let d = Double(now[i]) - Double(previous[i])
                change += d * d
                old += Double(previous[i]) * Double(previous[i])
            }
        }
        let (activations, dead, zeroFilters) = probe.map { activationStatistics(layer.activation, batch: $0.batch) }
            ?? (HealthHistogram.Tally(), 0, 0)
        let health = LayerHealth(
            weightNorm: weights.norm, gradientNorm: gradient.norm,
            updateRatio: layer.weight.isFrozen || old == 0 ? 0 : Float((change / old).squareRoot()),
            deadShare: dead, zeroFilterShare: zeroFilters, weights: weights.histogram,
            gradients: gradient.histogram, activations: activations.histogram)
        return (health, activations.nonFinite > 0)
    }

    // MARK: - Helpers

    /// Replaces the standing alarms; those not standing before are raised.
    private func update(_ alarms: [HealthAlarm]) {
        for alarm in alarms where !history.alarms.contains(where: { $0.isSameCondition(as: alarm) }) {
            history.log(alarm)
            raised.append(alarm)
        }
        history.alarms = alarms
    }

    /// The probe batch, assembled once (plain test images, normalised as for evaluation).
    private func probeTensor() -> Tensor? {
        if let probe { return probe }
        guard probeSet.count > 0 else { return nil }
        var labels: [Int] = []
        let tensor = BatchAssembler().assemble(
            probeSet, transforms: (0..<probeSet.count).map { ImageTransform(source: $0) }, into: probeBuffer, labels: &labels)
        probe = tensor
        return tensor
    }

    /// The histogram of `layer`'s latest output over `batch` images, its share of units zero for every
    /// image, and its share of channels zero everywhere for every image.
    private func activationStatistics(_ layer: Layer, batch: Int) -> (HealthHistogram.Tally, Float, Float) {
        var tally = HealthHistogram.Tally()
        guard let output = layer.lastOutput, output.batch == batch else { return (tally, 0, 0) }
        tally.add(output.pointer, count: output.count)
        let units = output.shape.count, channels = output.shape.channels
        var alive = [Bool](repeating: false, count: units)
        let values = output.pointer
        for n in 0..<batch {
            let sample = values + n * units
            for u in 0..<units where sample[u] != 0 { alive[u] = true }
        }
        let dead = alive.lazy.filter { !$0 }.count
        var filterAlive = [Bool](repeating: false, count: channels)
        for u in 0..<units where alive[u] { filterAlive[u % channels] = true }
        let zeroFilters = filterAlive.lazy.filter { !$0 }.count
        return (tally, Float(dead) / Float(max(units, 1)), Float(zeroFilters) / Float(max(channels, 1)))
    }

    /// The convolutions and fully connected layers, each with the output that shows its activation: the
    /// first ReLU-family activation after it before the next weight layer (in a residual block: the inner
    /// ReLU after `conv1`, the block's rectified sum after `conv2`), or else its own output.
    static func trackedLayers(of network: Network) -> [Tracked] {
        func weight(of layer: Layer) -> Parameter? {
            guard layer is Conv2d || layer is Linear else { return nil }
            return layer.parameters.first(where: \.isWeight)
        }
        func isReLU(_ layer: Layer) -> Bool { (layer as? Activation)?.function == .relu }
        var result: [Tracked] = []
        let top = network.layers
        for (index, layer) in top.enumerated() {
            if let block = layer as? ResidualBlock {
                let inner = block.sublayers
                for sub in inner {
                    guard let w = weight(of: sub) else { continue }
                    let activation: Layer
                    if sub.name.hasSuffix(".conv1"), let relu = inner.first(where: { $0.name.hasSuffix(".relu1") }) {
                        activation = relu
                    } else if sub.name.hasSuffix(".conv2") {
                        activation = block
                    } else {
                        activation = inner.first { $0.name.hasSuffix(".shortcut.bn") } ?? sub
                    }
                    let canDie = activation === block || isReLU(activation)
                    result.append(Tracked(name: sub.name, weight: w, parameters: sub.parameters, activation: activation, canDie: canDie))
                }
                continue
            }
            guard let w = weight(of: layer) else { continue }
            var activation: Layer = layer
            for next in top[(index + 1)...] {
                if weight(of: next) != nil || next is ResidualBlock { break }
                if next.kind.isActivation {
                    activation = next
                    break
                }
            }
            result.append(
                Tracked(name: layer.name, weight: w, parameters: layer.parameters, activation: activation, canDie: isReLU(activation)))
        }
        return result
    }
}
