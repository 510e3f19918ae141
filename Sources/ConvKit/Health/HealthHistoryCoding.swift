import Foundation

/// The health history in a checkpoint: one metadata entry (`health`), a JSON object whose `records` is
/// base64 of a packed little-endian table, so that 256 records of a 20-layer network take about
/// 1 MB of header at most (docs/timeline.md gives sizes). Checkpoints without it (older ones) load with an
/// empty history; one that does not read is ignored, never fatal: it is a view of the run, not the run.
///
/// A record is: step (UInt32), loss, learning rate, gradient norm (Float32 each), then per layer five
/// Float32s (weight norm, gradient norm, update ratio, dead share, zero-filter share) and three
/// histograms of `HealthHistogram.binCount` bytes (weights, gradients, activations).
extension HealthHistory {
    public static let metadataKey = "health"
    static let formatVersion = 1

    /// Bytes of one packed record for `layers` layers.
    static func recordSize(layers: Int) -> Int { 16 + layers * (20 + 3 * HealthHistogram.binCount) }

    /// The history as the checkpoint's metadata value.
    public var metadataValue: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(records.count * HealthHistory.recordSize(layers: layers.count))
        func put(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        func put(_ value: Float) { put(value.bitPattern) }
        for record in records {
            put(UInt32(clamping: record.step))
            put(record.loss)
            put(record.learningRate)
            put(record.gradientNorm)
            for layer in record.layers {
                for value in [layer.weightNorm, layer.gradientNorm, layer.updateRatio, layer.deadShare, layer.zeroFilterShare] { put(value) }
                bytes += layer.weights.bins + layer.gradients.bins + layer.activations.bins
            }
        }
        let object: [String: Any] = [
            "version": HealthHistory.formatVersion, "layers": layers, "every": every, "bins": HealthHistogram.binCount,
            "lowest_exponent": HealthHistogram.lowestExponent, "records": Data(bytes).base64EncodedString(),
            "alarms": alarms.map(\.jsonObject), "alarm_log": alarmLog.map(\.jsonObject), "alarms_raised": alarmsRaised,
        ]
        return (try? FiniteJSON.string(object)) ?? "{}"
    }

    /// Reads a metadata value written by `metadataValue`; nil when it is not one (or of another format).
    public init?(metadataValue text: String) {
        guard let object = JSONValue.foundationObject(parsing: text) as? [String: Any],
            (object["version"] as? NSNumber)?.intValue == HealthHistory.formatVersion,
            (object["bins"] as? NSNumber)?.intValue == HealthHistogram.binCount,
            (object["lowest_exponent"] as? NSNumber)?.intValue == HealthHistogram.lowestExponent,
            let layers = object["layers"] as? [String], !layers.isEmpty, layers.count <= 10_000,
            let every = (object["every"] as? NSNumber)?.intValue, every >= 1,
            let encoded = object["records"] as? String, let data = Data(base64Encoded: encoded)
        else { return nil }
        let size = HealthHistory.recordSize(layers: layers.count)
        guard data.count % size == 0 else { return nil }
        let bytes = [UInt8](data)
        var offset = 0
        func word() -> UInt32 {
            defer { offset += 4 }
            return UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
        }
        func float() -> Float { Float(bitPattern: word()) }
        func histogram() -> HealthHistogram {
            defer { offset += HealthHistogram.binCount }
            return HealthHistogram(bins: Array(bytes[offset..<(offset + HealthHistogram.binCount)]))
        }
        var records: [HealthRecord] = []
        while offset < bytes.count {
            let step = Int(word())
            let (loss, rate, norm) = (float(), float(), float())
            let layerRecords = (0..<layers.count).map { _ in
                let (w, g, u, d, z) = (float(), float(), float(), float(), float())
                return LayerHealth(
                    weightNorm: w, gradientNorm: g, updateRatio: u, deadShare: d, zeroFilterShare: z, weights: histogram(),
                    gradients: histogram(), activations: histogram())
            }
            records.append(HealthRecord(step: step, loss: loss, learningRate: rate, gradientNorm: norm, layers: layerRecords))
        }
        self.init(layers: layers, every: every)
        self.records = records
        alarms = (object["alarms"] as? [[String: Any]] ?? []).compactMap(HealthAlarm.init(jsonObject:))
        alarmLog = (object["alarm_log"] as? [[String: Any]] ?? []).compactMap(HealthAlarm.init(jsonObject:))
        alarmsRaised = max((object["alarms_raised"] as? NSNumber)?.intValue ?? alarmLog.count, alarmLog.count)
    }
}

extension HealthAlarm {
    /// The alarm as a JSON object (checkpoint metadata, `train --json`-style output).
    public var jsonObject: [String: Any] {
        var object: [String: Any] = ["step": step]
        if let layer { object["layer"] = layer }
        switch kind {
        case .nonFinite(let quantity):
            object["kind"] = "non_finite"
            object["quantity"] = quantity
        case let .gradientSpike(norm, median):
            object["kind"] = "gradient_spike"
            (object["norm"], object["median"]) = (Double(norm), Double(median))
        case let .updateRatio(ratio, records):
            object["kind"] = "update_ratio"
            (object["ratio"], object["records"]) = (Double(ratio), records)
        case let .deadUnits(share, zeroFilters):
            object["kind"] = "dead_units"
            (object["share"], object["zero_filters"]) = (Double(share), Double(zeroFilters))
        }
        return object
    }

    init?(jsonObject object: [String: Any]) {
        func number(_ key: String) -> Float { Float(FiniteJSON.number(object[key]) ?? 0) }
        guard let kindName = object["kind"] as? String, let step = (object["step"] as? NSNumber)?.intValue else { return nil }
        let kind: Kind
        switch kindName {
        case "non_finite": kind = .nonFinite(quantity: object["quantity"] as? String ?? "value")
        case "gradient_spike": kind = .gradientSpike(norm: number("norm"), median: number("median"))
        case "update_ratio": kind = .updateRatio(ratio: number("ratio"), records: (object["records"] as? NSNumber)?.intValue ?? 0)
        case "dead_units": kind = .deadUnits(share: number("share"), zeroFilters: number("zero_filters"))
        default: return nil
        }
        self.init(kind: kind, layer: object["layer"] as? String, step: step)
    }
}
