import XCTest
import ConvScopeUI

/// Stands in for ncurses' alloc_pair: reuses identical pairs and, when full, recycles the least
/// recently allocated one, or (`failsWhenFull`, as ncurses 6.4 does) fails until `reset`.
private final class FakePairAllocator {
    let capacity: Int
    let failsWhenFull: Bool
    private(set) var calls = 0
    private(set) var resets = 0
    private var pairs: [(foreground: Int32, background: Int32)] = []
    private var order: [Int32] = []

    init(capacity: Int, failsWhenFull: Bool = false) {
        self.capacity = capacity
        self.failsWhenFull = failsWhenFull
    }

    func reset() {
        resets += 1
        pairs.removeAll()
        order.removeAll()
    }

    func allocate(_ foreground: Int32, _ background: Int32) -> Int32 {
        calls += 1
        if let index = pairs.firstIndex(where: { $0 == (foreground, background) }) { return Int32(index + 1) }
        if pairs.count < capacity {
            pairs.append((foreground, background))
            order.append(Int32(pairs.count))
            return Int32(pairs.count)
        }
        if failsWhenFull { return -1 }
        let victim = order.removeFirst()
        pairs[Int(victim) - 1] = (foreground, background)
        order.append(victim)
        return victim
    }
}

final class ColorPairCacheTests: XCTestCase {
    func testSameColoursAskCursesOnce() {
        let allocator = FakePairAllocator(capacity: 10)
        var cache = ColorPairCache(mode: .palette256, allocatePair: allocator.allocate, resetPairs: allocator.reset)
        let first = cache.pair(foreground: .red, background: .blue)
        XCTAssertEqual(cache.pair(foreground: .red, background: .blue), first)
        XCTAssertEqual(allocator.calls, 1)
        XCTAssertNotEqual(cache.pair(foreground: .blue, background: .red), first)
    }

    /// With 256 colours, endless new shades map onto the same few pairs: the table never fills and
    /// so never resets, and the memory of shades must stay bounded by itself.
    func testTheMemoryOfShadesStaysBoundedWhenTheTableNeverFills() {
        let allocator = FakePairAllocator(capacity: 1000, failsWhenFull: true)
        var cache = ColorPairCache(mode: .palette256, allocatePair: allocator.allocate, resetPairs: allocator.reset)
        let first = cache.pair(foreground: Color(hex: 0xFF0000), background: Color(hex: 0x000000))
        var peak = 0
        for shade in 0..<(3 * ColorPairCache.rememberedLimit) {
            // 196,608 distinct dark greens and blues on black: a few dozen 256-colour pairs.
            let pair = cache.pair(foreground: Color(hex: UInt32(shade)), background: Color(hex: 0))
            XCTAssertGreaterThan(pair, 0)
            peak = max(peak, cache.rememberedCount)
        }
        XCTAssertLessThanOrEqual(peak, ColorPairCache.rememberedLimit)
        XCTAssertEqual(allocator.resets, 0, "the table itself never filled")
        XCTAssertEqual(cache.pair(foreground: Color(hex: 0xFF0000), background: Color(hex: 0x000000)), first, "pairs stay valid")
    }

    func testColoursAreQuantisedBeforeAllocation() {
        var requested: [(Int32, Int32)] = []
        var cache = ColorPairCache(mode: .palette256, allocatePair: { foreground, background in
            requested.append((foreground, background))
            return 1
        }, resetPairs: {})
        _ = cache.pair(foreground: .red, background: nil)
        XCTAssertEqual(requested.first?.0, 196)
        XCTAssertEqual(requested.first?.1, -1)
    }

    func testDefaultColoursAndNoColourModeUsePairZero() {
        let allocator = FakePairAllocator(capacity: 10)
        var cache = ColorPairCache(mode: .palette256, allocatePair: allocator.allocate, resetPairs: allocator.reset)
        XCTAssertEqual(cache.pair(foreground: nil, background: nil), 0)
        var colourless = ColorPairCache(mode: .none, allocatePair: allocator.allocate, resetPairs: allocator.reset)
        XCTAssertEqual(colourless.pair(foreground: .red, background: .green), 0)
        XCTAssertEqual(allocator.calls, 0)
    }

    func testFailedAllocationFallsBackToDefaultColours() {
        var resets = 0
        var cache = ColorPairCache(mode: .palette8, allocatePair: { _, _ in -1 }, resetPairs: { resets += 1 })
        XCTAssertEqual(cache.pair(foreground: .red, background: nil), 0)
        XCTAssertEqual(resets, 1, "one fresh start was tried")
    }

    func testRecycledPairIsDetectedAndForgotten() {
        let allocator = FakePairAllocator(capacity: 2)
        var cache = ColorPairCache(mode: .palette256, allocatePair: allocator.allocate, resetPairs: allocator.reset)
        let redPair = cache.pair(foreground: .red, background: nil)
        _ = cache.pair(foreground: .green, background: nil)
        XCTAssertFalse(cache.takeRecycledFlag())
        let bluePair = cache.pair(foreground: .blue, background: nil)
        XCTAssertEqual(bluePair, redPair, "the table was full: red's pair was recycled")
        XCTAssertTrue(cache.takeRecycledFlag())
        XCTAssertFalse(cache.takeRecycledFlag(), "the flag clears once taken")
        let callsBefore = allocator.calls
        _ = cache.pair(foreground: .red, background: nil)
        XCTAssertEqual(allocator.calls, callsBefore + 1, "red is asked for again instead of reusing a stale pair")
    }

    func testAFullTableStartsOverInsteadOfRunningOut() {
        let allocator = FakePairAllocator(capacity: 2, failsWhenFull: true)
        var cache = ColorPairCache(mode: .trueColor, allocatePair: allocator.allocate, resetPairs: allocator.reset)
        _ = cache.pair(foreground: .red, background: nil)
        _ = cache.pair(foreground: .green, background: nil)
        XCTAssertFalse(cache.takeRecycledFlag())
        let third = cache.pair(foreground: .blue, background: nil)
        XCTAssertGreaterThan(third, 0, "never out of pairs")
        XCTAssertEqual(allocator.resets, 1)
        XCTAssertTrue(cache.takeRecycledFlag(), "everything on screen needs repainting")
        for step in 0..<50 {
            XCTAssertGreaterThan(cache.pair(foreground: Color(red: UInt8(step), green: 9, blue: 9), background: nil), 0)
        }
    }
}
