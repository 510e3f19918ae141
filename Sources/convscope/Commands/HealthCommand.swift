import ArgumentParser
import ConvKit
import ConvPresent
import ConvScopeUI
import Foundation

/// `convscope health`: the training-health timeline a checkpoint keeps, as a table or JSON.
struct HealthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Print the training-health timeline saved in a checkpoint: per-layer norms, update ratios, dead units, alarms.",
        discussion: """
            `train` and the app record, about 20 times an epoch, each convolution's and fc layer's weight, gradient and \
            activation histograms (octave bins of |x|), gradient norm, update-to-weight ratio (rule of thumb ~1e-3), and \
            the share of units and filters that are zero on every image of a probe batch; the checkpoint keeps them. \
            The table shows the newest record, or the one at or before --step; --json prints every record with its \
            histograms as shares. See docs/timeline.md.
            """)

    @Option(name: .long, help: "A checkpoint written by convscope train or the app.")
    var checkpoint: String

    @Option(name: .long, help: "Show the record at or before this global step (default: the newest).")
    var step: Int?

    @Flag(name: .long, help: "Print JSON: every record, with the histograms, and the alarms.")
    var json = false

    func validate() throws {
        if let step, step < 1 { throw ValidationError("--step \(step): expected a global step, 1 or more") }
    }

    func run() throws {
        let file = try SafeTensors(contentsOf: checkpoint)
        guard let text = file.metadata[HealthHistory.metadataKey] else {
            throw RuntimeError("checkpoint '\(checkpoint)' has no health timeline (written before it existed, or with --health-every 0)")
        }
        guard let health = HealthHistory(metadataValue: text) else {
            throw RuntimeError("checkpoint '\(checkpoint)' has a health timeline this version cannot read")
        }
        if json { return try printJSON(jsonObject(health)) }
        guard let record = step.map({ step in health.records.last { $0.step <= step } }) ?? health.records.last else {
            throw RuntimeError("checkpoint '\(checkpoint)' has no health record at or before step \(step ?? 0)")
        }
        print("step \(record.step): loss \(HealthText.number(record.loss)), learning rate \(HealthText.number(record.learningRate)), "
            + "gradient norm \(HealthText.number(record.gradientNorm)); \(health.records.count) records, every \(health.every) steps")
        let width = max(health.layers.map(\.count).max() ?? 5, 5)
        print("layer".padded(toWidth: width) + "   weight norm   grad norm   update/weight   dead units   zero filters")
        for (name, layer) in zip(health.layers, record.layers) {
            print(
                name.padded(toWidth: width) + "  " + HealthText.number(layer.weightNorm).padded(toWidth: 12, alignment: .trailing)
                    + HealthText.number(layer.gradientNorm).padded(toWidth: 12, alignment: .trailing)
                    + HealthText.number(layer.updateRatio).padded(toWidth: 16, alignment: .trailing)
                    + HealthText.percent(layer.deadShare).padded(toWidth: 13, alignment: .trailing)
                    + HealthText.percent(layer.zeroFilterShare).padded(toWidth: 15, alignment: .trailing))
        }
        print(health.alarms.isEmpty ? "no alarms standing" : "standing alarms:")
        for alarm in health.alarms { print("  " + HealthText.line(alarm)) }
        if !health.alarmLog.isEmpty {
            print("alarms raised (\(health.alarmsRaised)):")
            for alarm in health.alarmLog { print("  " + HealthText.line(alarm)) }
        }
    }

    private func jsonObject(_ health: HealthHistory) -> [String: Any] {
        let edges = (0..<HealthHistogram.binCount).map { Double(HealthHistogram.lowerEdge(of: $0)) }
        return [
            "checkpoint": checkpoint, "layers": health.layers, "every": health.every, "bin_lower_edges": edges,
            "records": health.records.map { record -> [String: Any] in
                [
                    "step": record.step, "loss": Double(record.loss), "lr": Double(record.learningRate),
                    "grad_norm": Double(record.gradientNorm),
                    "layers": zip(health.layers, record.layers).map { name, layer -> [String: Any] in
                        [
                            "name": name, "weight_norm": Double(layer.weightNorm), "grad_norm": Double(layer.gradientNorm),
                            "update_ratio": Double(layer.updateRatio), "dead_share": Double(layer.deadShare),
                            "zero_filter_share": Double(layer.zeroFilterShare),
                            "histograms": Dictionary(uniqueKeysWithValues: HealthQuantity.allCases.map { quantity in
                                (quantity.rawValue, (0..<HealthHistogram.binCount).map { layer.histogram(quantity).share($0) })
                            }),
                        ]
                    },
                ]
            },
            "alarms": health.alarms.map(\.jsonObject), "alarm_log": health.alarmLog.map(\.jsonObject), "alarms_raised": health.alarmsRaised,
        ]
    }
}
