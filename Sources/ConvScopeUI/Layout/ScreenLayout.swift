/// The panels of the ConvScope screen, in tab order (the number keys 1-7 pick them).
public enum Panel: String, Sendable, Hashable, CaseIterable {
    /// Loss and accuracy curves.
    case curves
    /// The layer list with the selected layer's formula and receptive field.
    case layers
    /// Feature maps, filters and activation statistics of the selected layer.
    case features
    /// The selected image, its class-activation heatmap and overlay, and the top-3 predictions.
    case gradCAM
    /// The confusion matrix and per-class accuracy of the latest evaluation.
    case confusion
    /// Per-layer sparsity and the before/after table of compressed copies of the model.
    case compression
    /// The training-health timeline: per-layer heat strips over steps, distributions, alarms.
    case health
    /// Every explanation method's map of the selected image side by side, with faithfulness scores.
    case explain

    /// The panel's name for frames and tabs.
    public var title: String {
        switch self {
        case .curves: return "Curves"
        case .layers: return "Layers"
        case .features: return "Features"
        case .gradCAM: return "Grad-CAM"
        case .confusion: return "Confusion"
        case .compression: return "Compression"
        case .health: return "Health"
        case .explain: return "Explain"
        }
    }

    /// The number key that shows the panel (1-7).
    public var numberKey: Character { Character(String(Panel.allCases.firstIndex(of: self)! + 1)) }
}

/// Where everything goes on a screen of a given size: a pure function of the size.
///
/// - At least 160 x 45: every panel at once (`allPanels`): the layer list on the left; the curves
///   and Grad-CAM above, the confusion matrix below on the right and, beside it, the feature maps or
///   the compression view, the health timeline or the explanation board under a tab bar.
/// - At least 100 x 28: the layer list stays on the left and the other panels share the right side
///   through a tab bar (`sidebarWithTabs`).
/// - At least 60 x 18 (80 x 24 included): one panel at a time under a tab bar (`tabs`).
/// - Smaller: `tooSmall`, and the screen shows only `drawTooSmallMessage`.
///
/// Every mode has a two-row header on top and a status row at the bottom.
public struct ScreenLayout: Sendable, Equatable {
    /// How the panels are arranged.
    public enum Mode: Sendable, Hashable {
        case allPanels, sidebarWithTabs, tabs, tooSmall
    }

    public static let minimumSize = (width: 60, height: 18)
    public static let sidebarSize = (width: 100, height: 28)
    public static let allPanelsSize = (width: 160, height: 45)
    /// Rows of the header.
    public static let headerHeight = 2

    public let mode: Mode
    public let screen: Rect
    /// The top rows (dataset, model, progress, run state).
    public let header: Rect
    /// The bottom row.
    public let status: Rect
    /// The tab bar: across the body in the tabbed modes, over the features / compression slot in
    /// `allPanels`; nil when the screen is too small.
    public let tabBar: Rect?
    /// The panels reachable through the tab bar, in tab order (empty without a tab bar).
    public let tabPanels: [Panel]
    /// Where the selected tab's panel goes.
    public let tabArea: Rect?
    /// Panels shown whatever tab is selected.
    public let fixedPanels: [Panel: Rect]

    public init(width: Int, height: Int) {
        screen = Rect(x: 0, y: 0, width: width, height: height)
        let (header, rest) = screen.splitTop(Self.headerHeight)
        let (body, status) = rest.splitBottom(1)
        self.header = header
        self.status = status

        if width < Self.minimumSize.width || height < Self.minimumSize.height {
            mode = .tooSmall
            (tabBar, tabPanels, tabArea, fixedPanels) = (nil, [], nil, [:])
        } else if width >= Self.allPanelsSize.width && height >= Self.allPanelsSize.height {
            mode = .allPanels
            let (layers, right) = body.splitLeft(min(max(body.width / 6, 30), 40))
            let (top, bottom) = right.splitTop(min(24, body.height / 2))
            // Grad-CAM wants 3 x 32 columns for its images at full size; the curves take the rest.
            let (curves, gradCAM) = top.splitRight(min(102, right.width * 5 / 8))
            let (shared, confusion) = bottom.splitRight(min(56, right.width * 2 / 5))
            let (bar, area) = shared.splitTop(1)
            (tabBar, tabArea) = (bar, area)
            tabPanels = [.features, .compression, .health, .explain]
            fixedPanels = [.layers: layers, .curves: curves, .gradCAM: gradCAM, .confusion: confusion]
        } else {
            let (bar, area) = body.splitTop(1)
            tabBar = bar
            if width >= Self.sidebarSize.width && height >= Self.sidebarSize.height {
                mode = .sidebarWithTabs
                let (layers, main) = area.splitLeft(min(max(area.width * 3 / 10, 30), 40))
                fixedPanels = [.layers: layers]
                tabArea = main
                tabPanels = [.curves, .features, .gradCAM, .confusion, .compression, .health, .explain]
            } else {
                mode = .tabs
                fixedPanels = [:]
                tabArea = area
                tabPanels = Panel.allCases
            }
        }
    }

    /// The tab shown for `selectedTab`: itself when it has a tab, else the first tab (for example
    /// the layer list, which sits beside the tabs); nil without a tab bar.
    public func shownTab(for selectedTab: Panel) -> Panel? {
        tabPanels.contains(selectedTab) ? selectedTab : tabPanels.first
    }

    /// Whether `panel` is on screen while `selectedTab` is the chosen tab.
    public func shows(_ panel: Panel, selectedTab: Panel) -> Bool {
        fixedPanels[panel] != nil || shownTab(for: selectedTab) == panel
    }

    /// Every panel on screen while `selectedTab` is the chosen tab, with its rectangle.
    public func visiblePanels(selectedTab: Panel) -> [Panel: Rect] {
        var panels = fixedPanels
        if let tabArea, let shown = shownTab(for: selectedTab) {
            panels[shown] = tabArea
        }
        return panels
    }

    /// The tab after (or, with `offset` -1, before) `current`, wrapping around.
    public func tab(after current: Panel, offset: Int = 1) -> Panel {
        guard !tabPanels.isEmpty else { return current }
        let index = tabPanels.firstIndex(of: current) ?? 0
        let count = tabPanels.count
        return tabPanels[((index + offset) % count + count) % count]
    }

    /// The message shown instead of the UI when the screen is `tooSmall`.
    public var tooSmallMessage: String {
        "Terminal too small: \(screen.width)x\(screen.height), ConvScope needs at least "
            + "\(Self.minimumSize.width)x\(Self.minimumSize.height)."
    }

    /// Clears the grid and writes `tooSmallMessage` in its middle, wrapped to the width.
    public func drawTooSmallMessage(into grid: inout CellGrid, theme: Theme = .standard) {
        grid.fill(grid.bounds)
        let lines = tooSmallMessage.wrapped(toWidth: grid.width)
        let top = max((grid.height - lines.count) / 2, 0)
        for (index, line) in lines.enumerated() {
            grid.writeLine(line, in: Rect(x: 0, y: top + index, width: grid.width, height: 1), alignment: .center, style: theme.warning)
        }
    }
}

extension String {
    /// The words of the string as lines of at most `width` characters (a longer word gets a line
    /// of its own and is cut by whoever draws it).
    public func wrapped(toWidth width: Int) -> [String] {
        var lines: [String] = []
        for word in split(separator: " ") {
            if let last = lines.last, last.count + 1 + word.count <= width {
                lines[lines.count - 1] = last + " " + word
            } else {
                lines.append(String(word))
            }
        }
        return lines
    }
}
