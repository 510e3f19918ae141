import ConvKit

/// How the app and `convscope watch` word what a watcher's poll skipped or set aside (`RunWatchProblem`).
public enum RunWatchProblemText {
    /// One line naming the file and what was done, for example
    /// `checkpoints/step-000000390.safetensors is truncated: ...` or
    /// `checkpoints/step-000000008.safetensors was removed; its weights stay shown until a newer checkpoint arrives`.
    public static func line(_ problem: RunWatchProblem) -> String {
        switch problem {
        case .skipped(let issue): return RunDirectoryIssueText.line(issue)
        case .shownCheckpointRemoved(let file): return "\(file) was removed; its weights stay shown until a newer checkpoint arrives"
        case .historySetAside(let problem): return "\(problem); the earlier checkpoints are the times instead"
        }
    }
}
