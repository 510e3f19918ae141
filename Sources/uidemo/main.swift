// uidemo: every ConvScopeUI widget on fake, animated data, for trying the renderer by hand and in tmux.
//
//   uidemo              run until q (or Ctrl-C)
//   uidemo --measure    draw 200 frames, each repainting every cell, then print the timings
import ConvScopeUI
import Foundation

/// A seedable SplitMix64 generator, so every run shows the same fake data.
struct DemoRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Roughly normal noise (sum of uniforms), mean 0, standard deviation about 1.
    mutating func noise() -> Double {
        (0..<4).map { _ in Double.random(in: -1...1, using: &self) }.reduce(0, +) * 0.87
    }
}

/// A fake training run: a noisy decaying loss that grows by a few steps every frame.
struct FakeTraining {
    static let stepsPerEpoch = 390
    var random = DemoRandom(seed: 7)
    var trainLoss: [ChartPoint] = []
    var validationLoss: [ChartPoint] = []
    var trainAccuracy: [ChartPoint] = []
    var validationAccuracy: [ChartPoint] = []
    var step = 0

    var epoch: Double { Double(step) / Double(Self.stepsPerEpoch) }

    mutating func advance(steps: Int) {
        for _ in 0..<steps {
            step += 1
            let progress = epoch
            let loss = 0.35 + 1.95 * exp(-progress / 1.6) + 0.08 * random.noise()
            trainLoss.append(ChartPoint(x: progress, y: max(loss, 0.05)))
            let accuracy = 0.9 - 0.8 * exp(-progress / 1.4) + 0.03 * random.noise()
            trainAccuracy.append(ChartPoint(x: progress, y: min(max(accuracy, 0), 1)))
            if step % (Self.stepsPerEpoch / 4) == 0 {
                validationLoss.append(ChartPoint(x: progress, y: 0.45 + 1.9 * exp(-progress / 1.8) + 0.03 * random.noise()))
                validationAccuracy.append(ChartPoint(x: progress, y: 0.85 - 0.75 * exp(-progress / 1.6)))
            }
        }
    }
}

let classNames = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
let classColors: [Color] = [
    Color(hex: 0x5FAFFF), Color(hex: 0xFF8700), Color(hex: 0x87D75F), Color(hex: 0xFF5F87), Color(hex: 0xD7AF5F),
    Color(hex: 0xAF87FF), Color(hex: 0x5FD7AF), Color(hex: 0xD75F5F), Color(hex: 0x5F87D7), Color(hex: 0xAFAFAF),
]

let layerRows: [[String]] = [
    ["0", "conv 3→32 3x3", "32x32x32", "896"], ["1", "batchnorm", "32x32x32", "64"], ["2", "relu", "32x32x32", "0"],
    ["3", "conv 32→32 3x3", "32x32x32", "9,248"], ["4", "batchnorm", "32x32x32", "64"], ["5", "relu", "32x32x32", "0"],
    ["6", "maxpool 2", "32x16x16", "0"], ["7", "conv 32→64 3x3", "64x16x16", "18,496"], ["8", "batchnorm", "64x16x16", "128"],
    ["9", "relu", "64x16x16", "0"], ["10", "conv 64→64 3x3", "64x16x16", "36,928"], ["11", "batchnorm", "64x16x16", "128"],
    ["12", "relu", "64x16x16", "0"], ["13", "maxpool 2", "64x8x8", "0"], ["14", "residual 64", "64x8x8", "74,112"],
    ["15", "conv 64→128 3x3", "128x8x8", "73,856"], ["16", "batchnorm", "128x8x8", "256"], ["17", "relu", "128x8x8", "0"],
    ["18", "global avg pool", "128", "0"], ["19", "dropout 0.3", "128", "0"], ["20", "linear 128→10", "10", "1,290"],
    ["21", "softmax", "10", "0"],
]

let helpBindings = [
    KeyBinding("↑ ↓ j k", "move the layer selection"),
    KeyBinding("PgUp PgDn", "move the selection a page"),
    KeyBinding("Tab / S-Tab", "next / previous tab (small screens)"),
    KeyBinding("l", "log / linear loss axis"),
    KeyBinding("n", "new random sample image"),
    KeyBinding("Ctrl-L", "repaint the whole screen"),
    KeyBinding("?", "show / hide this help"),
    KeyBinding("q", "quit"),
]

/// A smooth random picture: a few coloured blobs on a gradient, like a blurry photo.
func randomImage(random: inout DemoRandom, width: Int = 32, height: Int = 32) -> RGBImage {
    var image = RGBImage(width: width, height: height)
    let sky = Color(red: .random(in: 40...200, using: &random), green: .random(in: 60...200, using: &random), blue: .random(in: 120...255, using: &random))
    let ground = Color(red: .random(in: 20...150, using: &random), green: .random(in: 40...160, using: &random), blue: .random(in: 0...90, using: &random))
    let blobs = (0..<4).map { _ in
        (x: Double.random(in: 0..<Double(width), using: &random), y: Double.random(in: 0..<Double(height), using: &random),
         radius: Double.random(in: 3...9, using: &random),
         color: Color(red: .random(in: 0...255, using: &random), green: .random(in: 0...255, using: &random), blue: .random(in: 0...255, using: &random)))
    }
    for y in 0..<height {
        for x in 0..<width {
            var color = sky.mixed(with: ground, by: Double(y) / Double(height - 1))
            for blob in blobs {
                let distance = ((Double(x) - blob.x) * (Double(x) - blob.x) + (Double(y) - blob.y) * (Double(y) - blob.y)).squareRoot()
                color = color.mixed(with: blob.color, by: max(0, 1 - distance / blob.radius))
            }
            image[x, y] = color
        }
    }
    return image
}

/// A moving feature-map-like pattern for heatmap `index` of the selected layer.
func featureMap(index: Int, layer: Int, time: Double, size: Int = 16) -> Heatmap {
    var values = [Float](repeating: 0, count: size * size)
    let frequency = 0.25 + 0.07 * Double(index) + 0.02 * Double(layer)
    for y in 0..<size {
        for x in 0..<size {
            let u = Double(x) - Double(size) / 2, v = Double(y) - Double(size) / 2
            values[y * size + x] = Float(sin(frequency * u + time + Double(index)) * cos(frequency * v - time * 0.7)
                + 0.3 * sin((u * u + v * v).squareRoot() * 0.4 - time))
        }
    }
    return Heatmap(width: size, height: size, values: values, colormap: index % 3 == 2 ? Colormaps.diverging : Colormaps.jet)
}

/// Everything the demo shows, and the UI state the keys change.
struct DemoApp {
    var training = FakeTraining()
    var random = DemoRandom(seed: 42)
    var image: RGBImage
    var probabilities: [Double] = Array(repeating: 0.1, count: 10)
    var layerSelection = ListSelection(itemCount: layerRows.count)
    var selectedTab: Panel = .curves
    var showsHelp = false
    var logScale = true
    var frameMilliseconds = 0.0
    let colorMode: ColorMode
    let truecolorHint: Bool

    init(colorMode: ColorMode, truecolorHint: Bool) {
        self.colorMode = colorMode
        self.truecolorHint = truecolorHint
        image = randomImage(random: &random)
    }

    /// Advances the fake run by one frame's worth of steps and jiggles the prediction.
    mutating func tick() {
        training.advance(steps: 3)
        let confidence = min(training.epoch / 4, 0.9)
        var logits = (0..<10).map { _ in random.noise() }
        logits[3] += 4 * confidence + 0.5
        let exps = logits.map { exp($0) }
        let total = exps.reduce(0, +)
        probabilities = exps.map { $0 / total }
    }

    /// Applies a key; returns false when the demo should quit.
    mutating func handle(_ key: Key, layout: ScreenLayout) -> Bool {
        switch key {
        case .character("q"), .interrupt: return false
        case .character("?"): showsHelp.toggle()
        case .escape: showsHelp = false
        case .tab: selectedTab = layout.tab(after: selectedTab)
        case .backTab: selectedTab = layout.tab(after: selectedTab, offset: -1)
        case .character("l"): logScale.toggle()
        case .character("n"): image = randomImage(random: &random)
        default: layerSelection.handle(key)
        }
        return true
    }

    mutating func render(width: Int, height: Int, time: Double) -> CellGrid {
        var grid = CellGrid(width: width, height: height)
        let layout = ScreenLayout(width: width, height: height)
        guard layout.mode != .tooSmall else {
            layout.drawTooSmallMessage(into: &grid)
            return grid
        }
        drawHeader(into: &grid, in: layout.header)
        if let tabBar = layout.tabBar {
            let shown = layout.tabPanels.contains(selectedTab) ? selectedTab : layout.tabPanels[0]
            Tabs(titles: layout.tabPanels.map(\.title), selectedIndex: layout.tabPanels.firstIndex(of: shown) ?? 0)
                .draw(into: &grid, in: tabBar)
        }
        for (panel, rect) in layout.visiblePanels(selectedTab: selectedTab) {
            let inside = Frame(title: panel.title, isFocused: panel == .layers).draw(into: &grid, in: rect)
            switch panel {
            case .curves: drawCurves(into: &grid, in: inside)
            case .layers: Table(columns: [Table.Column("#", width: 3, alignment: .trailing), Table.Column("layer"),
                                          Table.Column("output", width: 9), Table.Column("params", width: 7, alignment: .trailing)],
                                rows: layerRows).draw(into: &grid, in: inside, selection: &layerSelection)
            case .activations: drawActivations(into: &grid, in: inside, time: time)
            case .prediction: drawPrediction(into: &grid, in: inside)
            }
        }
        StatusLine(left: "j/k select  tab switch  l log axis  ? help  q quit",
                   right: String(format: "%.1f ms/frame", frameMilliseconds)).draw(into: &grid, in: layout.status)
        if showsHelp {
            HelpOverlay(bindings: helpBindings, footer: "? or Esc closes this help").draw(into: &grid, in: layout.screen)
        }
        return grid
    }

    private func drawHeader(into grid: inout CellGrid, in rect: Rect) {
        let state = String(format: "step %d  epoch %.2f", training.step, training.epoch)
        grid.writeLine(" ConvScope ui demo  " + state, in: rect, style: Theme.standard.title)
        let colors = "colours: \(colorMode)" + (truecolorHint ? " (TERM=xterm-direct for 24-bit)" : "") + " "
        let right = colors.count < rect.width / 2 ? colors : "\(colorMode) "
        grid.writeLine(right, in: rect.splitRight(right.count).right, style: Theme.standard.dimText)
    }

    private func drawCurves(into grid: inout CellGrid, in rect: Rect) {
        let (lossArea, accuracyArea) = rect.splitTop(rect.height * 3 / 5)
        BrailleChart(series: [
            ChartSeries(label: "train", color: Color(hex: 0x5FAFFF), points: training.trainLoss),
            ChartSeries(label: "validation", color: Color(hex: 0xFFAF00), points: training.validationLoss),
        ], title: logScale ? "loss (log)" : "loss", logScale: logScale, xAxisName: "epoch").draw(into: &grid, in: lossArea)
        BrailleChart(series: [
            ChartSeries(label: "train", color: Color(hex: 0x87D75F), points: training.trainAccuracy),
            ChartSeries(label: "validation", color: Color(hex: 0xFF5F87), points: training.validationAccuracy),
        ], title: "accuracy", xAxisName: "epoch", yRange: 0...1).draw(into: &grid, in: accuracyArea)
    }

    private func drawActivations(into grid: inout CellGrid, in rect: Rect, time: Double) {
        let layer = layerSelection.selectedIndex
        grid.writeLine("layer \(layer): \(layerRows[layer][1])", in: rect, style: Theme.standard.dimText)
        let area = rect.splitTop(1).rest
        let columns = max(area.width / 18, 1), rows = max(area.height / 9, 1)
        let cellWidth = area.width / columns, cellHeight = area.height / rows
        for index in 0..<(columns * rows) {
            let cell = Rect(x: area.x + (index % columns) * cellWidth, y: area.y + (index / columns) * cellHeight,
                            width: cellWidth - 1, height: cellHeight)
            featureMap(index: index, layer: layer, time: time).draw(into: &grid, in: cell)
        }
    }

    private func drawPrediction(into grid: inout CellGrid, in rect: Rect) {
        let barRows = min(classNames.count, max(rect.height - 4, 0))
        let (imageArea, barsArea) = rect.splitBottom(barRows)
        HalfBlockImage(image: image).draw(into: &grid, in: imageArea)
        let order = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }
        BarChart(rows: order.map { BarRow(label: classNames[$0], value: probabilities[$0], color: classColors[$0], highlighted: $0 == 3) })
            .draw(into: &grid, in: barsArea)
    }
}

func milliseconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
}

let measuring = CommandLine.arguments.contains("--measure")
let screen: CursesScreen
do {
    screen = try CursesScreen()
} catch {
    FileHandle.standardError.write(Data("uidemo: \(error)\n".utf8))
    exit(1)
}

var app = DemoApp(colorMode: screen.colorMode, truecolorHint: screen.truecolorUnavailable)
let clock = ContinuousClock()
let started = clock.now
let frameBudget = 66.0  // about 15 frames per second
var measuredFrames = 0, renderTotal = 0.0, blitTotal = 0.0
var measuredSize = (width: 0, height: 0)

while true {
    let frameStart = clock.now
    app.tick()
    let size = screen.size
    let grid = app.render(width: size.width, height: size.height, time: milliseconds(since: started) / 1000)
    let rendered = milliseconds(since: frameStart)
    if measuring { screen.invalidate() }
    let blitStart = clock.now
    screen.draw(grid)
    let blitted = milliseconds(since: blitStart)
    app.frameMilliseconds = rendered + blitted

    if measuring {
        (measuredFrames, renderTotal, blitTotal, measuredSize) = (measuredFrames + 1, renderTotal + rendered, blitTotal + blitted, size)
        if measuredFrames == 200 { break }
        if screen.readKey(timeoutMilliseconds: 0) == .interrupt { break }
        continue
    }
    let key = screen.readKey(timeoutMilliseconds: max(Int(frameBudget - milliseconds(since: frameStart)), 1))
    if key == .character("\u{0C}") { screen.invalidate() }
    let layout = ScreenLayout(width: size.width, height: size.height)
    if !app.handle(key, layout: layout) { break }
}

screen.stop()
if let signal = screen.lastInterruptSignal {
    print("uidemo: stopped by signal \(signal)")
    exit(128 + signal)
}
if measuring {
    print(String(format: "%d frames at %dx%d, every cell repainted: render %.2f ms, blit %.2f ms per frame",
                 measuredFrames, measuredSize.width, measuredSize.height,
                 renderTotal / Double(measuredFrames), blitTotal / Double(measuredFrames)))
}
