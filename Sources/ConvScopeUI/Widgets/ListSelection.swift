/// Which row of a scrolling list is selected and which row is at the top of the view.
///
/// The selection always stays visible: moving it past the bottom or top scrolls by just enough.
/// `Table` reports the number of rows it can show each time it draws, which page moves use.
public struct ListSelection: Sendable, Equatable {
    /// The selected row, or 0 for an empty list.
    public private(set) var selectedIndex: Int
    /// The first row shown.
    public private(set) var scrollOffset: Int
    public private(set) var itemCount: Int
    /// How many rows the view showed when last drawn.
    public private(set) var visibleRows: Int

    public init(itemCount: Int, selectedIndex: Int = 0, visibleRows: Int = 1) {
        self.itemCount = max(itemCount, 0)
        self.selectedIndex = selectedIndex
        scrollOffset = 0
        self.visibleRows = max(visibleRows, 1)
        clampAndScroll()
    }

    /// Moves the selection by `delta` rows, stopping at the ends.
    public mutating func move(by delta: Int) {
        select(selectedIndex + delta)
    }

    /// Selects row `index` (clamped to the list).
    public mutating func select(_ index: Int) {
        selectedIndex = index
        clampAndScroll()
    }

    public mutating func pageUp() { move(by: -visibleRows) }
    public mutating func pageDown() { move(by: visibleRows) }
    public mutating func selectFirst() { select(0) }
    public mutating func selectLast() { select(itemCount - 1) }

    /// Adopts a new list length and view height, keeping the selection in range and visible.
    public mutating func update(itemCount: Int, visibleRows: Int) {
        self.itemCount = max(itemCount, 0)
        self.visibleRows = max(visibleRows, 1)
        clampAndScroll()
    }

    /// Applies a navigation key (arrows, `j`/`k`, page up/down, home/end, `g`/`G`); returns whether
    /// the key was one of these.
    @discardableResult
    public mutating func handle(_ key: Key) -> Bool {
        switch key {
        case .up, .character("k"): move(by: -1)
        case .down, .character("j"): move(by: 1)
        case .pageUp: pageUp()
        case .pageDown: pageDown()
        case .home, .character("g"): selectFirst()
        case .end, .character("G"): selectLast()
        default: return false
        }
        return true
    }

    private mutating func clampAndScroll() {
        selectedIndex = min(max(selectedIndex, 0), max(itemCount - 1, 0))
        if selectedIndex < scrollOffset { scrollOffset = selectedIndex }
        if selectedIndex >= scrollOffset + visibleRows { scrollOffset = selectedIndex - visibleRows + 1 }
        scrollOffset = min(max(scrollOffset, 0), max(itemCount - visibleRows, 0))
    }
}
