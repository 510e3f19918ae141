extension Int {
    /// `1234567` as `1,234,567`.
    public var formatted: String {
        let digits = String(magnitude)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(ch)
        }
        return (self < 0 ? "-" : "") + out
    }
}
