import ConvKit
import Foundation

/// How the app and the command line word the health timeline's alarms and numbers.
public enum HealthText {
    /// One line per alarm: `step 300: gradient norm 45.2 is 12x its running median (3.77)`.
    public static func line(_ alarm: HealthAlarm) -> String {
        let layer = alarm.layer.map { "\($0): " } ?? ""
        switch alarm.kind {
        case .nonFinite(let quantity):
            let what = Divergence.Quantity(rawValue: quantity).map(quantityName) ?? quantity
            return "step \(alarm.step): \(layer)non-finite \(what)"
                + (quantity == "activations" ? " on the probe batch" : " (the run went back to its last good state)")
        case let .gradientSpike(norm, median):
            return "step \(alarm.step): gradient norm \(number(norm)) is \(String(format: "%.0f", norm / max(median, 1e-30)))x its running median (\(number(median)))"
        case let .updateRatio(ratio, records):
            let advice = ratio > HealthSettings.typicalUpdateRatio ? "rate too high for this layer?" : "rate too low, or the layer stuck?"
            return "step \(alarm.step): \(layer)update/weight ratio \(number(ratio)) for \(records) records, far from ~1e-3: \(advice)"
        case let .deadUnits(share, zeroFilters):
            return "step \(alarm.step): \(layer)\(percent(share)) of units dead on the probe batch (\(percent(zeroFilters)) of filters all zero)"
        }
    }

    /// A few words for the header badge: `grad spike`, `conv3 dead 62%`, `conv1 ratio 2e-1`, `NaN`.
    public static func short(_ alarm: HealthAlarm) -> String {
        let layer = alarm.layer.map { "\($0) " } ?? ""
        switch alarm.kind {
        case .nonFinite: return "\(layer)non-finite"
        case .gradientSpike(let norm, let median): return "grad spike \(String(format: "%.0f", norm / max(median, 1e-30)))x"
        case .updateRatio(let ratio, _): return "\(layer)ratio \(number(ratio))"
        case .deadUnits(let share, _): return "\(layer)dead \(percent(share))"
        }
    }

    /// The header's alarm badge text: ` ⚠ conv3 dead 62% ` or ` ⚠ 3 alarms `; nil without alarms.
    public static func badge(_ alarms: [HealthAlarm]) -> String? {
        guard let first = alarms.first else { return nil }
        return alarms.count == 1 ? " ⚠ \(short(first)) " : " ⚠ \(alarms.count) alarms "
    }

    static func quantityName(_ quantity: Divergence.Quantity) -> String {
        switch quantity {
        case .loss: return "training loss"
        case .gradientNorm: return "gradient norm"
        case .weights: return "weights"
        case .testLoss: return "test loss"
        }
    }

    /// `3.77`, `0.0123`, `2.1e-05`: three significant digits.
    public static func number(_ value: Float) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "inf" : "-inf") }
        return String(format: "%.3g", value)
    }

    public static func percent(_ share: Float) -> String { String(format: "%.0f%%", share * 100) }
}
