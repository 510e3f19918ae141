import ConvKit

/// The A/B view's own state (`convscope --checkpoint A --compare B`): which page shows, whether the view is
/// open, and where the flip gallery stands. Part of `AppModel`, so pure and unit-tested like it.
public struct CompareView: Sendable, Equatable {
    /// The view's pages, in `Tab` order.
    public enum Page: String, Sendable, CaseIterable {
        case weights = "Weights"
        case classes = "Classes"
        case flips = "Flips"
    }

    /// The two files, as the frame names them.
    public let nameA: String
    public let nameB: String
    public var page = Page.weights
    public var isShown = true
    /// The test images whose prediction flips, once the comparison has finished.
    public var flipImages: [Int] = []
    /// The flip the gallery shows.
    public var flipIndex = 0
    /// Whether the comparison has finished (and `flipImages` is known).
    public var isFinished = false

    public init(nameA: String, nameB: String) {
        self.nameA = nameA
        self.nameB = nameB
    }

    /// The image the gallery shows, if any flip is known.
    public var flipImage: Int? { flipImages.indices.contains(flipIndex) ? flipImages[flipIndex] : nil }

    /// Moves the gallery by `offset` flips, wrapping around.
    mutating func step(by offset: Int) {
        guard !flipImages.isEmpty else { return }
        let count = flipImages.count
        flipIndex = ((flipIndex + offset) % count + count) % count
    }
}

extension AppModel {
    /// Keys while the A/B view is open: Tab / Shift-Tab page, ←/→ step through the flips (the other views
    /// follow the image), j/k the layer of the explanation maps, D or Esc close the view. Returns nil for the
    /// keys the view leaves to the app (a number key also closes the view, then shows its panel).
    mutating func answerCompareView(_ key: Key) -> [AppEffect]? {
        guard var view = compare, view.isShown else { return nil }
        defer { compare = view }
        switch key {
        case .character("D"), .escape:
            view.isShown = false
        case .tab: view.page = view.page.next
        case .backTab:
            let pages = CompareView.Page.allCases
            view.page = pages[(pages.firstIndex(of: view.page)! + pages.count - 1) % pages.count]
        case .left, .right:
            guard !view.flipImages.isEmpty else {
                status = StatusMessage(view.isFinished ? "no test image flips between A and B" : "the flips are known once the comparison has finished")
                return []
            }
            // From another page the first press shows the gallery where it stands; then it steps.
            if view.page == .flips { view.step(by: key == .left ? -1 : 1) } else { view.page = .flips }
            imageIndex = view.flipImage ?? imageIndex
        case .character("j"), .character("k"), .up, .down, .pageUp, .pageDown, .home, .end:
            layerSelection.handle(key)
        case .character(let digit) where Panel.allCases.contains { $0.numberKey == digit }:
            view.isShown = false
            return nil
        default:
            return nil
        }
        return []
    }

    /// Takes in the finished comparison's flips (once).
    public mutating func observeComparison(flips: [Int]) {
        guard var view = compare, !view.isFinished else { return }
        view.isFinished = true
        view.flipImages = flips
        compare = view
    }
}
