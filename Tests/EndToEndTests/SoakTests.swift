import ConvScopeUI
import Foundation
import XCTest

/// The soak: the real app on the synthetic set, typed at by a seeded random stream of every key it
/// knows and resized between 40x12 and 250x80, for `CONVSCOPE_SOAK_SECONDS` (default 120; `make soak`
/// runs 600). It must not crash or hang (each answer within 2 s), show no error the keys did not
/// cause, keep its resident memory within 10% of its size after the first minute, and give the
/// terminal back. `CONVSCOPE_SOAK_SEED` replays a stream; `CONVSCOPE_SOAK_MODEL` picks the model
/// (default tiny); `CONVSCOPE_SOAK_REPORT` names a file for the summary. See `SoakRun`.
final class SoakTests: XCTestCase {
    func testSoakEveryKeyStaysResponsiveAndGivesTheTerminalBack() throws {
        try TmuxDriver.requireTmux()
        let binary = try TmuxDriver.binary()
        let settings = try SoakSettings.fromEnvironment()
        print("soak: seed \(settings.seed), model \(settings.model), \(Int(settings.seconds)) s (replay: CONVSCOPE_SOAK_SEED=\(settings.seed))")
        var report = try SoakRun(settings: settings, binary: binary).run()
        report.checkMemory()
        report.checkCoverage()
        print(report.summary)
        if let path = ProcessInfo.processInfo.environment["CONVSCOPE_SOAK_REPORT"], !path.isEmpty {
            let timeline = "resident memory (s:MB): " + report.memoryTimeline() + "\n"
            try (report.summary + "\n" + timeline + report.failures.map { "failure: " + $0 + "\n" }.joined()).write(
                toFile: path, atomically: true, encoding: .utf8)
        }
        for failure in report.failures {
            XCTFail("soak (seed \(settings.seed), replay with CONVSCOPE_SOAK_SEED=\(settings.seed)): \(failure)")
        }
    }

    /// Every row of the help overlay has its keys in the soak's stream, so a new key is soaked too.
    func testTheSoakKnowsEveryKeyOfTheHelp() {
        XCTAssertEqual(SoakKeys.vocabulary.map(\.binding), AppKeys.bindings.map(\.key))
        for (binding, keys) in SoakKeys.vocabulary where binding != "q" {
            XCTAssertFalse(keys.isEmpty, "\(binding) has tmux keys")
        }
    }

    /// The stream is the same for the same seed, keeps the learning-rate scale in its bounds and
    /// predicts the help overlay as `AppModel` handles keys.
    func testTheKeyStreamIsReplayableAndBounded() {
        var first = SoakKeyStream(seed: 42), second = SoakKeyStream(seed: 42), other = SoakKeyStream(seed: 43)
        var same = true, differs = false
        for _ in 0..<3000 {
            let action = first.next(screenIsTooSmall: false)
            same = same && action == second.next(screenIsTooSmall: false)
            differs = differs || action != other.next(screenIsTooSmall: false)
            XCTAssertTrue((SoakKeyStream.lowestRate...SoakKeyStream.highestRate).contains(first.ratePower))
        }
        XCTAssertTrue(same)
        XCTAssertTrue(differs)
        XCTAssertTrue(SoakKeys.helpShows(after: ["?"], startingFrom: false))
        XCTAssertFalse(SoakKeys.helpShows(after: ["?", "?"], startingFrom: false))
        XCTAssertFalse(SoakKeys.helpShows(after: ["?", "j"], startingFrom: false))
        XCTAssertTrue(SoakKeys.helpShows(after: ["j", "?"], startingFrom: true))
        XCTAssertFalse(SoakKeys.helpShows(after: ["Escape"], startingFrom: true))
    }

    /// The status row's error style is told apart from the ordinary bar and from colour number 7.
    func testTheStatusRowParserFindsTheErrorStyle() {
        XCTAssertEqual(StatusRow.parse("\u{1B}[1;7m\u{1B}[38;5;160m export failed: x   ? help  q quit").isError, true)
        XCTAssertEqual(StatusRow.parse("\u{1B}[1;7m\u{1B}[38;5;160m export failed: x   ? help  q quit").text, "export failed: x   ? help  q quit")
        XCTAssertEqual(StatusRow.parse("\u{1B}[38;5;250m\u{1B}[48;5;236m space pause  ? help").isError, false)
        XCTAssertEqual(StatusRow.parse("\u{1B}[38;5;7m\u{1B}[48;2;7;7;7m saved").isError, false)
        XCTAssertEqual(StatusRow.parse("\u{1B}[7m\u{1B}[0m plain").isError, false)
    }
}
