/// Diff mode of the time scrubber: what changed in a view between a marked time and the time shown.
extension Insight {
    /// The change from `earlier` (the same request at the marked time) to this insight: the selected layer's
    /// feature maps, its filters and the class-activation map as differences (now minus then; signed, so the
    /// views draw them on the diverging palette), the prediction as it is now. Parts whose shapes differ keep
    /// this insight's values.
    public func change(since earlier: Insight) -> Insight {
        func minus(_ a: [Float], _ b: [Float]) -> [Float]? { a.count == b.count ? zip(a, b).map { $0 - $1 } : nil }
        var maps = featureMaps
        if let values = minus(featureMaps.values, earlier.featureMaps.values), featureMaps.layer == earlier.featureMaps.layer {
            maps = FeatureMaps(layer: featureMaps.layer, channels: featureMaps.channels, height: featureMaps.height, width: featureMaps.width, values: values)
        }
        var bank = filters
        if let now = filters, let then = earlier.filters, now.layer == then.layer, let weights = minus(now.weights, then.weights) {
            bank = FilterBank(
                layer: now.layer, outChannels: now.outChannels, inChannels: now.inChannels, kernel: now.kernel, weights: weights,
                gradients: now.gradients)
        }
        var map = activationMap
        if let now = activationMap, let then = earlier.activationMap, now.width == then.width, now.height == then.height,
            let values = minus(now.values, then.values)
        {
            map = ActivationMap(
                layer: now.layer, classIndex: now.classIndex, method: now.method, width: now.width, height: now.height, values: values,
                logits: now.logits)
        }
        func range(_ values: [Float]) -> ClosedRange<Float> {
            let largest = values.lazy.map(abs).max() ?? 0
            return -largest...largest
        }
        return Insight(
            request: request, weightsVersion: weightsVersion, image: image, label: label, logits: logits, probabilities: probabilities,
            featureMaps: maps, filters: bank, activationStatistics: maps.statistics, weightStatistics: weightStatistics,
            activationMap: map, activationMapError: activationMapError, mapLayer: mapLayer,
            featureRange: range(maps.values), weightRange: bank.map { range($0.weights) } ?? weightRange)
    }
}

extension FeatureMaps {
    init(layer: String, channels: Int, height: Int, width: Int, values: [Float]) {
        self.layer = layer
        self.channels = channels
        self.height = height
        self.width = width
        self.values = values
    }
}

extension FilterBank {
    init(layer: String, outChannels: Int, inChannels: Int, kernel: Int, weights: [Float], gradients: [Float]) {
        self.layer = layer
        self.outChannels = outChannels
        self.inChannels = inChannels
        self.kernel = kernel
        self.weights = weights
        self.gradients = gradients
    }
}
