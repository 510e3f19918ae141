/// A tab bar: ` Curves │ Layers │ Sample `, the selected tab drawn in the active-tab style.
///
/// When the titles do not fit, the spaces around them go first; then each is shortened by the same
/// amount, so every tab stays visible.
public struct Tabs: Sendable {
    public var titles: [String]
    public var selectedIndex: Int
    public var theme: Theme

    public init(titles: [String], selectedIndex: Int, theme: Theme = .standard) {
        self.titles = titles
        self.selectedIndex = selectedIndex
        self.theme = theme
    }

    /// Draws the bar on the first row of `rect`.
    public func draw(into grid: inout CellGrid, in rect: Rect) {
        let bar = rect.splitTop(1).top
        guard !bar.isEmpty, !titles.isEmpty else { return }
        grid.fill(bar, with: Cell(" ", style: theme.inactiveTab))
        let separators = titles.count - 1
        let longest = titles.map(\.count).max() ?? 0
        // The spaces around each title go before any title is shortened (seven tabs at 80 columns).
        let padded = titles.map { $0.count + 2 }.reduce(0, +) + separators <= bar.width
        let padding = padded ? " " : ""
        // The widest title length at which everything fits (at least one character each).
        var titleLimit = longest
        while titleLimit > 1 && titles.map({ min($0.count, titleLimit) + 2 * padding.count }).reduce(0, +) + separators > bar.width {
            titleLimit -= 1
        }
        var x = bar.x
        for (index, title) in titles.enumerated() {
            if index > 0 {
                grid.set(Cell("│", style: theme.dimText), x: x, y: bar.y, clip: bar)
                x += 1
            }
            let style = index == selectedIndex ? theme.activeTab : theme.inactiveTab
            x = grid.write(padding + title.truncated(toWidth: titleLimit) + padding, x: x, y: bar.y, style: style, clip: bar)
        }
    }
}
