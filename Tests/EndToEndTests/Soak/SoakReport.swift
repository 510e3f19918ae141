import Foundation

/// What a soak saw: keys typed, response times, memory, files, and every failure.
struct SoakReport {
    let settings: SoakSettings
    /// Keys from the stream (the probes' `?` and Escape not included), by tmux name.
    var keysByName: [String: Int] = [:]
    var probeKeys = 0
    var resizes = 0
    var quitDialogs = 0
    /// (what was answered, seconds) for every action and probe.
    var latencies: [(kind: String, seconds: Double)] = []
    /// (seconds since the first frame, VmRSS in kB), about once a second.
    var memory: [(seconds: Double, kilobytes: Int)] = []
    /// Error texts seen in the status row (allowed or not).
    var errorsSeen: [String] = []
    var stepsTrained: Int?
    var checkpointStep: Int?
    var quitSeconds: Double?
    var pngFiles = 0
    var compressedModels = 0
    var terminalBefore = ""
    var terminalAfter = ""
    var terminalRestored = false
    var failures: [String] = []

    init(settings: SoakSettings) { self.settings = settings }

    mutating func count(_ keys: [String]) {
        for key in keys { keysByName[key, default: 0] += 1 }
    }

    var keysTyped: Int { keysByName.values.reduce(0, +) }

    /// The response time at quantile `q` (nearest rank).
    func latency(quantile q: Double) -> Double {
        let sorted = latencies.map(\.seconds).sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))]
    }

    /// The slowest answer per kind of action, slowest first.
    var slowestByKind: [(kind: String, seconds: Double)] {
        Dictionary(latencies.map { ($0.kind, $0.seconds) }, uniquingKeysWith: max).sorted { $0.value > $1.value }.map { ($0.key, $0.value) }
    }

    /// Settled resident memory (kB) read during the warm-up (`SoakSettings.warmUpReadings` of them) and at
    /// the end (`SoakRun.settledMemory`). What the app holds when settled depends on what it last did (the
    /// explanation method selected keeps its workspace; a 60 s soak on the same seed read 187 MB and 262 MB
    /// at 30 s on two machines), so the warm-up's level is the highest of its readings: a leak still shows
    /// as growth past every level the app reached before.
    var memoryDuringWarmUp: [Int] = []
    var memoryAtWarmUp: Int? { memoryDuringWarmUp.max() }
    var memoryAtEnd: Int?
    var memoryPeak: Int? { memory.map(\.kilobytes).max() }
    /// Seconds spent waiting for compression measurements to end before reading the memory.
    var settlingSeconds = 0.0

    /// Adds a failure when settled memory at the end is more than `memoryGrowthLimit` above that at
    /// the end of the warm-up (or either was never read).
    mutating func checkMemory() {
        guard let base = memoryAtWarmUp, let end = memoryAtEnd else {
            failures.append("the settled memory was not read during the warm-up and at the end")
            return
        }
        if Double(end) > Double(base) * (1 + SoakSettings.memoryGrowthLimit) {
            failures.append(
                String(format: "resident memory grew from %d kB (highest settled reading in the first %.0f s) to %d kB at the end (+%.1f%%, limit +%.0f%%)",
                       base, settings.warmUp, end, (Double(end) / Double(base) - 1) * 100, SoakSettings.memoryGrowthLimit * 100))
        }
    }

    /// Checks that the stream typed every key the app knows at least once.
    mutating func checkCoverage() {
        let missing = SoakKeys.vocabulary.flatMap(\.keys).filter { keysByName[$0, default: 0] == 0 }
        if !missing.isEmpty { failures.append("keys never typed: \(missing.joined(separator: " "))") }
        if quitDialogs == 0 { failures.append("the quit dialog was never opened and cancelled") }
    }

    /// Resident memory every `step` seconds or so, as `seconds:MB` pairs (for the report file).
    func memoryTimeline(every step: Double = 5) -> String {
        var next = 0.0, parts: [String] = []
        for sample in memory where sample.seconds >= next {
            parts.append(String(format: "%.0f:%.0f", sample.seconds, Double(sample.kilobytes) / 1024))
            next = sample.seconds + step
        }
        return parts.joined(separator: " ")
    }

    /// A few lines for the test log and `docs/reliability.md`.
    var summary: String {
        let mb = { (kilobytes: Int?) in kilobytes.map { String(format: "%.1f MB", Double($0) / 1024) } ?? "-" }
        let slowest = slowestByKind.prefix(5).map { String(format: "%@ %.2f s", $0.kind, $0.seconds) }.joined(separator: ", ")
        let growth = memoryAtWarmUp.flatMap { base in memoryAtEnd.map { String(format: "%+.1f%%", (Double($0) / Double(base) - 1) * 100) } } ?? "-"
        return """
            soak: seed \(settings.seed), model \(settings.model), \(Int(settings.seconds)) s of keys
              keys typed \(keysTyped) (+ \(probeKeys) probe keys), resizes \(resizes), quit dialogs opened and cancelled \(quitDialogs)
              answers \(latencies.count): median \(String(format: "%.3f", latency(quantile: 0.5))) s, \
            p99 \(String(format: "%.3f", latency(quantile: 0.99))) s, max \(String(format: "%.3f", latency(quantile: 1))) s (limit \(Int(SoakSettings.responseLimit)) s)
              slowest: \(slowest)
              resident memory (settled): \(memoryDuringWarmUp.map { mb($0) }.joined(separator: ", ")) in the first \(Int(settings.warmUp)) s, \
            \(mb(memoryAtEnd)) at the end (\(growth) over the highest); \
            first frame \(mb(memory.first?.kilobytes)), peak \(mb(memoryPeak)); \(Int(settlingSeconds)) s waited for measurements to end
              training steps \(stepsTrained.map(String.init) ?? "-"), checkpoint saved on quit at step \(checkpointStep.map(String.init) ?? "-"), \
            quit took \(quitSeconds.map { String(format: "%.2f s", $0) } ?? "-")
              files: \(pngFiles) PNG exports, \(compressedModels) compressed models; status-row errors seen \(errorsSeen.count)
              terminal restored: \(terminalRestored ? "yes" : "NO") (\(terminalAfter))
              failures: \(failures.isEmpty ? "none" : "\(failures.count)")
            """
    }
}
