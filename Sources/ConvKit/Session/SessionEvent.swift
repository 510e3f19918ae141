/// Something that happened in a session that a front end tells its user about, as a value: the app and
/// the command line word it themselves (`SessionEventText` in ConvPresent). A snapshot carries the newest
/// event with a serial number that grows with every new one, so a reader can tell a new event from one it
/// has already shown, even when two in a row are equal (two saves to the same file).
public enum SessionEvent: Sendable, Equatable {
    /// The user scaled the learning rate; `scale` is the factor on top of the schedule now.
    case learningRateScaled(scale: Float)
    /// A checkpoint was written to `path`.
    case saved(path: String)
    /// Writing a checkpoint to `path` failed; `reason` is the error's description.
    case saveFailed(path: String, reason: String)
    /// The last of `epochs` epochs has finished; the session stays open for exploring.
    case finished(epochs: Int)
    /// A step produced non-finite numbers; the session is paused at the last good state.
    case diverged(Divergence)
    /// A watched run's checkpoint loaded: `file` relative to the run directory, and its step.
    case checkpointLoaded(file: String, step: Int)
    /// A watched run's poll skipped or set aside things (checkpoints that do not load or fit, bad metrics
    /// lines, a weight history that does not load): each problem names the file and what was wrong.
    case skipped(problems: [RunWatchProblem])
    /// The weight history beside the checkpoint could not serve this run (`problem`: the error, one line);
    /// the run goes on with an empty history.
    case weightHistorySetAside(problem: String)
}
