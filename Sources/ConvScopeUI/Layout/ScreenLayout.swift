/// The panels of the ConvScope screen.
public enum Panel: String, Sendable, Hashable, CaseIterable {
    /// Loss and accuracy curves.
    case curves
    /// The layer list.
    case layers
    /// Feature maps and class-activation heatmaps of the selected layer.
    case activations
    /// A sample image with the predicted class probabilities.
    case prediction

    /// The panel's name for frames and tabs.
    public var title: String {
        switch self {
        case .curves: return "Curves"
        case .layers: return "Layers"
        case .activations: return "Activations"
        case .prediction: return "Prediction"
        }
    }
}

/// Where everything goes on a screen of a given size: a pure function of the size.
///
/// - At least 160 x 45: every panel at once (`allPanels`): header row, the layer list on the left,
///   the curves top right, activations and prediction below them, status row.
/// - At least 110 x 30: the layer list stays on the left and the other panels share the right side
///   through a tab bar (`sidebarWithTabs`).
/// - At least 60 x 18 (80 x 24 included): one panel at a time under a tab bar (`tabs`).
/// - Smaller: `tooSmall`, and the screen shows only `drawTooSmallMessage`.
public struct ScreenLayout: Sendable, Equatable {
    /// How the panels are arranged.
    public enum Mode: Sendable, Hashable {
        case allPanels, sidebarWithTabs, tabs, tooSmall
    }

    public static let minimumSize = (width: 60, height: 18)
    public static let sidebarSize = (width: 110, height: 30)
    public static let allPanelsSize = (width: 160, height: 45)

    public let mode: Mode
    public let screen: Rect
    /// The top row (app name, run state).
    public let header: Rect
    /// The bottom row.
    public let status: Rect
    /// The tab bar, in the tabbed modes.
    public let tabBar: Rect?
    /// The panels reachable through the tab bar, in tab order (empty without a tab bar).
    public let tabPanels: [Panel]
    /// Where the selected tab's panel goes.
    public let tabArea: Rect?
    /// Panels shown whatever tab is selected.
    public let fixedPanels: [Panel: Rect]

    public init(width: Int, height: Int) {
        screen = Rect(x: 0, y: 0, width: width, height: height)
        let (header, rest) = screen.splitTop(1)
        let (body, status) = rest.splitBottom(1)
        self.header = header
        self.status = status

        if width < Self.minimumSize.width || height < Self.minimumSize.height {
            mode = .tooSmall
            (tabBar, tabPanels, tabArea, fixedPanels) = (nil, [], nil, [:])
        } else if width >= Self.allPanelsSize.width && height >= Self.allPanelsSize.height {
            mode = .allPanels
            (tabBar, tabPanels, tabArea) = (nil, [], nil)
            let (layers, right) = body.splitLeft(min(max(body.width / 5, 34), 48))
            let (curves, lower) = right.splitTop(right.height * 9 / 20)
            let (activations, prediction) = lower.splitRight(min(max(lower.width * 2 / 5, 44), 64))
            fixedPanels = [.layers: layers, .curves: curves, .activations: activations, .prediction: prediction]
        } else {
            let (bar, area) = body.splitTop(1)
            tabBar = bar
            if width >= Self.sidebarSize.width && height >= Self.sidebarSize.height {
                mode = .sidebarWithTabs
                let (layers, main) = area.splitLeft(min(max(area.width * 3 / 10, 34), 44))
                fixedPanels = [.layers: layers]
                tabArea = main
                tabPanels = [.curves, .activations, .prediction]
            } else {
                mode = .tabs
                fixedPanels = [:]
                tabArea = area
                tabPanels = Panel.allCases
            }
        }
    }

    /// Every panel on screen while `selectedTab` is the chosen tab, with its rectangle. A
    /// `selectedTab` that has no tab in this mode (the layer list beside the tabs) shows the first tab.
    public func visiblePanels(selectedTab: Panel) -> [Panel: Rect] {
        var panels = fixedPanels
        if let tabArea, let shown = tabPanels.contains(selectedTab) ? selectedTab : tabPanels.first {
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
        var lines: [String] = []
        for word in tooSmallMessage.split(separator: " ") {
            if let last = lines.last, last.count + 1 + word.count <= grid.width {
                lines[lines.count - 1] = last + " " + word
            } else {
                lines.append(String(word))
            }
        }
        let top = max((grid.height - lines.count) / 2, 0)
        for (index, line) in lines.enumerated() {
            grid.writeLine(line, in: Rect(x: 0, y: top + index, width: grid.width, height: 1), alignment: .center, style: theme.warning)
        }
    }
}
