/// Maps a cell's (foreground, background) colours to a curses colour-pair number.
///
/// Colours are quantised for the `ColorMode` (`TerminalPalette.cursesColor`) and the pair comes from
/// `allocatePair`, which in the real backend is ncurses' `alloc_pair`: it reuses the pair of an
/// identical colour combination. Results are remembered so that steady frames never reach curses.
///
/// The pair table fills up in a long session of changing pictures (65,536 pairs go in seconds of
/// CIFAR-10 heatmaps), and ncurses 6.4's `alloc_pair` then fails rather than recycling (measured:
/// `free_pair` does not make room either). So when an allocation fails, `resetPairs` (ncurses'
/// `reset_color_pairs`) empties the table and allocation starts over; one frame needs far fewer
/// pairs than the table holds. When a pair number comes back holding a different combination than
/// before (an implementation that does recycle), the memory is dropped likewise. Either way
/// `takeRecycledFlag()` tells the backend that cells already on screen changed colour and need
/// redrawing.
///
/// The memory is keyed by the colours as drawn (24-bit), and with 256 or 8 colours many of them share
/// a pair, so the table need never fill while the memory grows with every new shade of every picture:
/// it is forgotten (the pairs stay valid) once it holds `rememberedLimit` combinations. Unbounded, it
/// grew for as long as the app ran (docs/performance.md, "Memory").
public struct ColorPairCache {
    /// Colour combinations remembered at most: steady frames reuse far fewer, and re-asking curses
    /// for a pair it has (`alloc_pair` finds identical ones) only costs a lookup.
    public static let rememberedLimit = 1 << 16

    public let mode: ColorMode
    private let reservedDirectColors: Int
    private let allocatePair: (_ foreground: Int32, _ background: Int32) -> Int32
    private let resetPairs: () -> Void
    private var pairsByColors: [UInt64: Int32] = [:]
    private var colorsByPair: [Int32: UInt64] = [:]
    private var recycled = false

    /// - Parameters:
    ///   - reservedDirectColors: in `.trueColor` mode, how many low colour numbers the terminfo entry
    ///     keeps for its palette (`TerminalPalette.cursesColor`).
    ///   - allocatePair: returns the pair for two curses colour numbers (-1 is the default colour), or a
    ///     negative number when none can be had.
    ///   - resetPairs: empties the pair table, so that allocation can start over.
    public init(
        mode: ColorMode, reservedDirectColors: Int = 8, allocatePair: @escaping (Int32, Int32) -> Int32,
        resetPairs: @escaping () -> Void
    ) {
        self.mode = mode
        self.reservedDirectColors = reservedDirectColors
        self.allocatePair = allocatePair
        self.resetPairs = resetPairs
    }

    /// The pair for a style's colours; 0 (the terminal's default colours) in `.none` mode, for two
    /// default colours, or when curses could not allocate one.
    public mutating func pair(foreground: Color?, background: Color?) -> Int32 {
        guard mode != .none, foreground != nil || background != nil else { return 0 }
        let key = ColorPairCache.key(foreground, background)
        if let pair = pairsByColors[key] { return pair }
        let foregroundNumber = TerminalPalette.cursesColor(for: foreground, mode: mode, reservedDirectColors: reservedDirectColors)
        let backgroundNumber = TerminalPalette.cursesColor(for: background, mode: mode, reservedDirectColors: reservedDirectColors)
        var pair = allocatePair(foregroundNumber, backgroundNumber)
        if pair <= 0 {
            // The table is full: start it over. Every pair on screen is gone, so repaint everything.
            resetPairs()
            pairsByColors.removeAll(keepingCapacity: true)
            colorsByPair.removeAll(keepingCapacity: true)
            recycled = true
            pair = allocatePair(foregroundNumber, backgroundNumber)
        }
        guard pair > 0 else { return 0 }
        let contents = UInt64(UInt32(bitPattern: foregroundNumber)) << 32 | UInt64(UInt32(bitPattern: backgroundNumber))
        if let previous = colorsByPair[pair], previous != contents {
            // Every remembered key may now point at a redefined pair; start over.
            pairsByColors.removeAll(keepingCapacity: true)
            recycled = true
        }
        colorsByPair[pair] = contents
        if pairsByColors.count >= ColorPairCache.rememberedLimit { pairsByColors.removeAll(keepingCapacity: true) }
        pairsByColors[key] = pair
        return pair
    }

    /// How many colour combinations are remembered now (at most `rememberedLimit`).
    public var rememberedCount: Int { pairsByColors.count }

    /// Whether a pair was recycled since the last call, and clears the flag.
    public mutating func takeRecycledFlag() -> Bool {
        defer { recycled = false }
        return recycled
    }

    /// Two optional colours as one dictionary key: 25 bits each (a presence bit and RGB).
    private static func key(_ foreground: Color?, _ background: Color?) -> UInt64 {
        func bits(_ color: Color?) -> UInt64 { color.map { 1 << 24 | UInt64($0.packed) } ?? 0 }
        return bits(foreground) << 32 | bits(background)
    }
}
