/// A key press (or terminal event) as the app sees it.
public enum Key: Sendable, Hashable {
    /// A printable character, including space.
    case character(Character)
    case up, down, left, right
    case pageUp, pageDown, home, end
    case tab, backTab
    case enter, escape, backspace, delete
    /// Function key F1...F12.
    case function(Int)
    /// The terminal changed size; the next frame is drawn at the new size.
    case resize
    /// SIGINT (Ctrl-C) or SIGTERM arrived: the app should shut down (a second one ends the process
    /// at once after restoring the terminal).
    case interrupt
    /// No key within the timeout.
    case none
}

extension Key {
    /// The key for a plain character code as `wget_wch` returns it (status `OK`).
    public init(characterCode code: UInt32) {
        switch code {
        case 9: self = .tab
        case 10, 13: self = .enter
        case 27: self = .escape
        case 8, 127: self = .backspace
        default:
            if code < 32 {
                // Other control keys (Ctrl-A ... Ctrl-Z) arrive as 1...26; report them as the letter's
                // control character so the app can still match them.
                self = .character(Character(Unicode.Scalar(code)!))
            } else if let scalar = Unicode.Scalar(code) {
                self = .character(Character(scalar))
            } else {
                self = .none
            }
        }
    }
}
