/// Elapsed time on the monotonic clock (`ContinuousClock`): how long a step, an epoch or a benchmark
/// took, and moments to compare (redraw throttling, rates). One place for the conversion to seconds
/// that the engine, the sessions and the app all need.
public struct Stopwatch: Sendable {
    private let start: ContinuousClock.Instant

    /// Starts timing now.
    public init() { start = .now }

    /// Seconds since `init`.
    public var seconds: Double { Stopwatch.seconds(start.duration(to: .now)) }

    /// `duration` in seconds.
    public static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
    }

    /// The process's first reading of the clock, against which `now` counts.
    private static let origin = ContinuousClock.now

    /// Seconds since a fixed moment early in the process: differences of two readings are durations.
    public static var now: Double { seconds(origin.duration(to: .now)) }
}
