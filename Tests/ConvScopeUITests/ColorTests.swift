import ConvKit
import ConvRender
import XCTest
import ConvScopeUI

final class ColorTests: XCTestCase {
    func testPureRedIsIndex196In256ColourMode() {
        XCTAssertEqual(TerminalPalette.xterm256Index(nearest: .red), 196)
        XCTAssertEqual(TerminalPalette.cursesColor(for: .red, mode: .palette256), 196)
    }

    func testMidGreyUsesTheGreyRamp() {
        let index = TerminalPalette.xterm256Index(nearest: Color(grey: 128))
        XCTAssertEqual(index, 244, "8 + 10 * 12 = 128 is on the ramp")
        XCTAssertEqual(TerminalPalette.xterm256Color(index: index), Color(grey: 128))
    }

    func testCubeBeatsRampWhenItIsCloser() {
        // (95, 95, 95) is exactly a cube colour; the nearest ramp grey (98) is further away.
        XCTAssertEqual(TerminalPalette.xterm256Index(nearest: Color(grey: 95)), 16 + 36 + 6 + 1)
        XCTAssertEqual(TerminalPalette.xterm256Index(nearest: .white), 231)
        XCTAssertEqual(TerminalPalette.xterm256Index(nearest: .black), 16)
        // A slightly tinted grey is still nearer to the ramp than to any cube colour.
        XCTAssertEqual(TerminalPalette.xterm256Index(nearest: Color(red: 60, green: 58, blue: 56)), 232 + 5)
    }

    func testEveryFixedPaletteColourMapsBackToItsOwnIndex() {
        for index in 16...255 {
            XCTAssertEqual(TerminalPalette.xterm256Index(nearest: TerminalPalette.xterm256Color(index: index)), index)
        }
    }

    func testNearestIsNeverWorseThanAnyOtherPaletteEntry() {
        var random = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let color = Color(red: .random(in: 0...255, using: &random), green: .random(in: 0...255, using: &random),
                              blue: .random(in: 0...255, using: &random))
            let chosen = color.squaredDistance(to: TerminalPalette.xterm256Color(index: TerminalPalette.xterm256Index(nearest: color)))
            let best = (16...255).map { color.squaredDistance(to: TerminalPalette.xterm256Color(index: $0)) }.min()!
            XCTAssertEqual(chosen, best, "\(color)")
        }
    }

    func testEightColourModePicksTheNearestBasicColour() {
        XCTAssertEqual(TerminalPalette.cursesColor(for: .red, mode: .palette8), 1)
        XCTAssertEqual(TerminalPalette.cursesColor(for: Color(red: 10, green: 20, blue: 200), mode: .palette8), 4)
        XCTAssertEqual(TerminalPalette.cursesColor(for: .white, mode: .palette8), 7)
        XCTAssertEqual(TerminalPalette.cursesColor(for: Color(grey: 30), mode: .palette8), 0)
    }

    func testTrueColourPacksRGBAndAvoidsTheReservedPaletteNumbers() {
        XCTAssertEqual(TerminalPalette.cursesColor(for: Color(hex: 0x123456), mode: .trueColor), 0x123456)
        // (0, 0, 5) would be ANSI colour 5 on xterm-direct: nudged to green 1.
        XCTAssertEqual(TerminalPalette.cursesColor(for: Color(hex: 0x000005), mode: .trueColor), 0x000105)
        XCTAssertEqual(TerminalPalette.cursesColor(for: .black, mode: .trueColor, reservedDirectColors: 256), 0x000100)
    }

    func testDefaultColourAndNoColourModeGiveMinusOne() {
        XCTAssertEqual(TerminalPalette.cursesColor(for: nil, mode: .palette256), -1)
        XCTAssertEqual(TerminalPalette.cursesColor(for: .red, mode: .none), -1)
    }

    func testDetectionFromEnvironmentAndTerminfo() {
        XCTAssertEqual(ColorMode.detect(environment: ["NO_COLOR": "1"], terminalColors: 256, terminalIsDirect: true), .none)
        XCTAssertEqual(ColorMode.detect(environment: ["NO_COLOR": "yes", "COLORTERM": "truecolor"], terminalColors: 256, terminalIsDirect: false), .none)
        XCTAssertEqual(ColorMode.detect(environment: [:], terminalColors: 1 << 24, terminalIsDirect: true), .trueColor)
        XCTAssertEqual(ColorMode.detect(environment: ["COLORTERM": "truecolor"], terminalColors: 1 << 24, terminalIsDirect: true), .trueColor)
        XCTAssertEqual(ColorMode.detect(environment: [:], terminalColors: 256, terminalIsDirect: false), .palette256)
        XCTAssertEqual(ColorMode.detect(environment: [:], terminalColors: 16, terminalIsDirect: false), .palette8)
        XCTAssertEqual(ColorMode.detect(environment: [:], terminalColors: 8, terminalIsDirect: false), .palette8)
        XCTAssertEqual(ColorMode.detect(environment: [:], terminalColors: 0, terminalIsDirect: false), .none)
        XCTAssertEqual(ColorMode.detect(environment: [:], terminalColors: 2, terminalIsDirect: false), .none)
    }

    func testTruecolorRequestWithoutDirectTerminfoFallsBackTo256() {
        let environment = ["COLORTERM": "24bit", "TERM": "xterm-256color"]
        XCTAssertTrue(ColorMode.truecolorRequested(by: environment))
        XCTAssertEqual(ColorMode.detect(environment: environment, terminalColors: 256, terminalIsDirect: false), .palette256)
        XCTAssertFalse(ColorMode.truecolorRequested(by: ["COLORTERM": "yes"]))
    }

    func testTruecolorRequestsTryTheDirectColourEntryOfTheFamily() {
        XCTAssertEqual(ColorMode.directTerminalType(for: ["COLORTERM": "truecolor", "TERM": "xterm-256color"]), "xterm-direct")
        XCTAssertEqual(ColorMode.directTerminalType(for: ["COLORTERM": "24bit", "TERM": "tmux-256color"]), "tmux-direct")
        XCTAssertNil(ColorMode.directTerminalType(for: ["COLORTERM": "truecolor", "TERM": "xterm-direct"]))
        XCTAssertNil(ColorMode.directTerminalType(for: ["TERM": "xterm-256color"]))
        XCTAssertNil(ColorMode.directTerminalType(for: ["COLORTERM": "truecolor"]))
    }

    func testEmptyNoColorFollowsTheConventionAndKeepsColour() {
        XCTAssertEqual(ColorMode.detect(environment: ["NO_COLOR": ""], terminalColors: 256, terminalIsDirect: false), .palette256)
    }

    func testEngineColoursConvert() {
        XCTAssertEqual(Color((r: 1, g: 2, b: 3)), Color(red: 1, green: 2, blue: 3))
        XCTAssertEqual(Color(Colormap.jet.color(at: 0)), Color(red: 0, green: 0, blue: 128))
    }
}

final class MonochromeGlyphTests: XCTestCase {
    func testHalfBlockCellsBecomeShadesByBrightness() {
        func halfBlock(_ top: Color, _ bottom: Color?) -> Cell { Cell("▀", style: Style(foreground: top, background: bottom)) }
        XCTAssertEqual(TerminalPalette.monochromeGlyph(for: halfBlock(.black, .black)), " ")
        XCTAssertEqual(TerminalPalette.monochromeGlyph(for: halfBlock(.white, .white)), "█")
        XCTAssertEqual(TerminalPalette.monochromeGlyph(for: halfBlock(.white, .black)), "▒")
        XCTAssertEqual(TerminalPalette.monochromeGlyph(for: halfBlock(.white, nil)), "█")
    }

    func testOtherCellsKeepTheirGlyph() {
        XCTAssertEqual(TerminalPalette.monochromeGlyph(for: Cell("a", style: Style(foreground: .white))), "a")
        XCTAssertEqual(TerminalPalette.monochromeGlyph(for: Cell("▀")), "▀")
    }
}
