import Foundation

/// What a soak run does and what it must hold to.
struct SoakSettings {
    /// How long keys are typed (the start and the final quit come on top).
    var seconds: Double
    /// The key stream's seed (printed, so a failing stream can be typed again).
    var seed: UInt64
    /// The `--model` the app trains.
    var model: String

    /// The longest the screen may take to show that it took a key or a resize.
    static let responseLimit = 2.0
    /// After this long without an answer the app is called hung and the soak stops.
    static let hangLimit = 30.0
    /// The longest the compression measurements in progress may take to end before memory is read.
    static let measurementLimit = 300.0
    /// Resident memory at the end may exceed the highest settled reading of the warm-up by at most this share.
    static let memoryGrowthLimit = 0.10
    /// Settled readings spread over the warm-up (the last at its end).
    static let warmUpReadings = 3

    /// The first minute, or the first half of a shorter soak, during which memory may still grow.
    var warmUp: Double { min(60, seconds / 2) }

    /// `CONVSCOPE_SOAK_SECONDS` (default 120: a warm-up of a full minute, the time the app's settled memory
    /// takes to reach its level, docs/reliability.md), `CONVSCOPE_SOAK_SEED` (default drawn from the clock) and
    /// `CONVSCOPE_SOAK_MODEL` (default tiny).
    /// Empty values count as unset (`make soak` passes its variables through even when empty).
    static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SoakSettings {
        let environment = environment.filter { !$0.value.isEmpty }
        let seconds = try environment["CONVSCOPE_SOAK_SECONDS"].map { text in
            guard let value = Double(text), value >= 10 else { throw DriverError("CONVSCOPE_SOAK_SECONDS must be a number of seconds, at least 10, not '\(text)'") }
            return value
        } ?? 120
        let seed = try environment["CONVSCOPE_SOAK_SEED"].map { text in
            guard let value = UInt64(text) else { throw DriverError("CONVSCOPE_SOAK_SEED must be an unsigned 64-bit integer, not '\(text)'") }
            return value
        } ?? UInt64(Date().timeIntervalSince1970 * 1000) % 1_000_000_000
        return SoakSettings(seconds: seconds, seed: seed, model: environment["CONVSCOPE_SOAK_MODEL"] ?? "tiny")
    }
}
