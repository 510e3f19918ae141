/// The styles widgets draw with, in one place so every panel looks alike.
///
/// Anything that must stay visible without colour (selection, active tab, status line) also uses
/// `reverse` or `bold`, so the UI still reads in `ColorMode.none`.
public struct Theme: Sendable, Hashable {
    public var text: Style
    public var dimText: Style
    public var border: Style
    public var title: Style
    public var axis: Style
    public var selection: Style
    public var statusBar: Style
    public var activeTab: Style
    public var inactiveTab: Style
    public var keyName: Style
    public var warning: Style

    public init(
        text: Style, dimText: Style, border: Style, title: Style, axis: Style, selection: Style,
        statusBar: Style, activeTab: Style, inactiveTab: Style, keyName: Style, warning: Style
    ) {
        self.text = text
        self.dimText = dimText
        self.border = border
        self.title = title
        self.axis = axis
        self.selection = selection
        self.statusBar = statusBar
        self.activeTab = activeTab
        self.inactiveTab = inactiveTab
        self.keyName = keyName
        self.warning = warning
    }

    /// Light text on the terminal's own background, cyan accents.
    public static let standard = Theme(
        text: Style(),
        dimText: Style(foreground: Color(grey: 138)),
        border: Style(foreground: Color(hex: 0x5F8787)),
        title: Style(foreground: Color(hex: 0x87D7FF), attributes: .bold),
        axis: Style(foreground: Color(grey: 118)),
        selection: Style(foreground: Color(hex: 0x87D7FF), attributes: [.reverse, .bold]),
        statusBar: Style(foreground: Color(grey: 188), background: Color(grey: 48)),
        activeTab: Style(foreground: Color(hex: 0x87D7FF), attributes: [.reverse, .bold]),
        inactiveTab: Style(foreground: Color(grey: 158)),
        keyName: Style(foreground: Color(hex: 0xFFD75F), attributes: .bold),
        warning: Style(foreground: Color(hex: 0xFF8700), attributes: .bold)
    )
}
