/// How each parameter trains, set once when a run's trainer is built: which are frozen, which step at
/// their own rate or decay, and the per-parameter schedules that move during the run.
extension TrainingConfig {
    /// Sets `isFrozen`, `rateScale` and `decays` of the network's parameters (and batch norm's running
    /// momentum) for this config, and returns the per-parameter schedules the trainer applies before each
    /// optimiser step.
    func configureParameters(of network: Network, stepsPerEpoch: Int) -> [any ParameterSchedule] {
        let firstConv = network.layers.first as? Conv2d
        if speedRun.whitening, let firstConv {
            firstConv.parameters.forEach { $0.isFrozen = true }
        }
        for norm in network.allLayers.compactMap({ $0 as? BatchNorm2d }) {
            if let scale = optimizer.groups.batchNormBiasRateScale {
                norm.weight.isFrozen = true
                norm.bias.rateScale = scale
                norm.bias.decays = true
            }
            if let momentum = speedRun.batchNormMomentum { norm.momentum = momentum }
        }
        if let scale = optimizer.groups.classifierRateScale {
            for linear in network.allLayers.compactMap({ $0 as? Linear }) { linear.parameters.forEach { $0.rateScale = scale } }
        }
        if initialization.classifierStd != nil { network.classifier?.bias.isFrozen = true }
        guard speedRun.whitening, schedule.whiteningBiasEpochs > 0, let bias = firstConv?.bias else { return [] }
        bias.decays = true
        return [
            WhiteningBiasSchedule(
                bias: bias, steps: schedule.whiteningBiasEpochs * stepsPerEpoch, rateScale: optimizer.groups.batchNormBiasRateScale ?? 1)
        ]
    }
}

extension Network {
    /// The last fully connected layer, which `TrainingConfig.Initialization.classifierStd` starts small
    /// and without bias.
    var classifier: Linear? { allLayers.last { $0 is Linear } as? Linear }
}

/// A rate schedule of some parameters' own, on top of the run's: the trainer calls `apply` before each
/// optimiser step with the run's schedule factor (the scheduled rate over the peak) for that step. A new
/// recipe trick that moves a parameter group's rate over the run is one of these.
protocol ParameterSchedule {
    func apply(step: Int, scheduleFactor: Float)
}

/// airbench's whitening bias: thawed for its first `steps` steps, at `rateScale` (the batch-norm biases'
/// rate) times its own linear decay, 1 - step / steps, whatever the run's schedule gives the others.
struct WhiteningBiasSchedule: ParameterSchedule {
    let bias: Parameter
    let steps: Int
    let rateScale: Float

    func apply(step: Int, scheduleFactor: Float) {
        bias.isFrozen = step >= steps || !(scheduleFactor > 0)
        guard !bias.isFrozen else { return }
        let decay = 1 - Float(step) / Float(steps)
        bias.rateScale = rateScale * decay / scheduleFactor
    }
}
