import ConvKit

/// One line for any error the engine throws: typed refusals worded here, the rest as they describe
/// themselves. Shared by the command line's error line and the app's setup screen.
public enum ErrorText {
    public static func describe(_ error: any Error) -> String {
        switch error {
        case let memory as MemoryLimitError: return MemoryText.refusal(memory)
        default: return "\(error)"
        }
    }
}
