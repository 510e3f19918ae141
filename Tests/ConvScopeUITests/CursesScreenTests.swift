import Foundation
import XCTest
import ConvScopeUI

final class CursesScreenTests: XCTestCase {
    func testRefusesToStartWhenStandardOutputIsNotATerminal() throws {
        let savedOutput = dup(STDOUT_FILENO)
        var pipeEnds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&pipeEnds), 0)
        dup2(pipeEnds[1], STDOUT_FILENO)
        defer {
            dup2(savedOutput, STDOUT_FILENO)
            close(savedOutput)
            close(pipeEnds[0])
            close(pipeEnds[1])
        }
        XCTAssertThrowsError(try CursesScreen()) { error in
            XCTAssertEqual(error as? TerminalError, .notATerminal(stream: "standard output"))
            XCTAssertTrue("\(error)".contains("convscope train"))
        }
    }
}
