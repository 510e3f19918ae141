/// The soak's seeded stream of things a user does to the app: bursts of keys, a trip to the quit
/// dialog and back, a trip to the compression view, a resize. The same seed gives the same stream
/// (the actions taken depend on nothing else, except that the driver turns a quit trip into a plain
/// burst when the dialog could not appear; see `SoakRun`).
///
/// The stream opens with a tour that presses every key of `SoakKeys.vocabulary` once and visits the
/// extreme sizes, so even a one-minute soak covers everything early; random actions follow.
struct SoakKeyStream {
    /// One thing the driver does between two checks of the screen.
    enum Action: Equatable {
        /// tmux key names typed in one go (a fast typist), then a check that the app took them.
        case keys([String])
        /// q, some keys the dialog must ignore, then a key that cancels it (never y or n, which quit).
        case quitDialog(ignored: [String], cancel: String)
        /// The compression view, then one of its keys.
        case compression(String)
        /// The terminal resized to `width` x `height`.
        case resize(width: Int, height: Int)
    }

    /// The smallest and largest sizes the soak uses (the issue's 40x12 and 250x80).
    static let smallest = (width: 40, height: 12)
    static let largest = (width: 250, height: 80)

    private var random: SplitMix64
    private var tour: [Action]
    /// The learning-rate scale as a power of 1.25 (`+` adds one, `-` takes one away): kept between
    /// `lowestRate` and `highestRate` so the keys never drive the run to divergence, which would be
    /// an error the keys caused rather than one the soak is looking for.
    private(set) var ratePower = 0
    private var actionsSinceCompression = 0
    static let actionsBetweenCompressions = 200
    static let highestRate = 3
    static let lowestRate = -8

    init(seed: UInt64) {
        random = SplitMix64(seed: seed)
        // The measurements first and w last, so that there is a measured copy to write by then.
        var tour: [Action] = ["p", "P", "i"].map(Action.compression)
        tour += (SoakKeys.vocabulary.flatMap(\.keys) + SoakKeys.unknown).filter { !SoakKeys.compressionKeys.contains($0) }.map { .keys([$0]) }
        tour += [
            .quitDialog(ignored: ["j"], cancel: "c"),
            .resize(width: SoakKeyStream.largest.width, height: SoakKeyStream.largest.height),
            .keys(["3", "j", "j", "E"]),
            .resize(width: SoakKeyStream.smallest.width, height: SoakKeyStream.smallest.height),
            .keys(["j", "Right"]),
            .resize(width: 80, height: 24),
            .compression("w"),
        ]
        self.tour = tour.reversed()
    }

    /// The next action; `screenIsTooSmall` makes a resize likelier (little happens on that screen).
    mutating func next(screenIsTooSmall: Bool) -> Action {
        let action = tour.popLast() ?? randomAction(screenIsTooSmall: screenIsTooSmall)
        if case .keys(let keys) = action { return .keys(keys.map { boundingRate($0) }) }
        return action
    }

    private mutating func randomAction(screenIsTooSmall: Bool) -> Action {
        let roll = random.below(100)
        if roll < (screenIsTooSmall ? 40 : 6) { return randomResize() }
        actionsSinceCompression += 1
        if roll < 90 { return .keys(burst()) }
        if roll < 94 {
            // A measurement keeps a core busy for seconds (25 s for the simple preset on a busy machine):
            // now and then, not at every chance.
            guard actionsSinceCompression >= SoakKeyStream.actionsBetweenCompressions else { return .keys(burst()) }
            actionsSinceCompression = 0
            return .compression(SoakKeys.compressionKeys[random.below(SoakKeys.compressionKeys.count)])
        }
        let ignored = (0..<random.below(3)).map { _ in SoakKeys.ignoredByQuitDialog[random.below(SoakKeys.ignoredByQuitDialog.count)] }
        return .quitDialog(ignored: ignored, cancel: SoakKeys.cancelsQuitDialog[random.below(SoakKeys.cancelsQuitDialog.count)])
    }

    /// One to four keys; Escape only last (a key right behind it would read as Alt-key).
    private mutating func burst() -> [String] {
        var keys = (0..<1 + random.below(4)).map { _ in weightedKey() }
        if let escape = keys.firstIndex(of: "Escape") { keys = Array(keys[...escape]) }
        return keys
    }

    private mutating func weightedKey() -> String {
        let total = SoakKeys.weightedKeys.reduce(0) { $0 + $1.weight }
        var pick = random.below(total)
        for (key, weight) in SoakKeys.weightedKeys {
            if pick < weight { return key }
            pick -= weight
        }
        return SoakKeys.weightedKeys[0].key
    }

    /// A random size: often an extreme or either side of a layout boundary, otherwise anywhere in the range.
    private mutating func randomResize() -> Action {
        let (small, large) = (SoakKeyStream.smallest, SoakKeyStream.largest)
        // The layouts change at 60x18, 100x28 and 160x45 (`ScreenLayout`).
        let landmarks = [
            (small.width, small.height), (large.width, large.height), (80, 24), (60, 18), (59, 18), (60, 17), (100, 28), (99, 28),
            (160, 45), (159, 45), (160, 44), (200, 60),
        ]
        if random.below(2) == 0 {
            let (width, height) = landmarks[random.below(landmarks.count)]
            return .resize(width: width, height: height)
        }
        let width = small.width + random.below(large.width - small.width + 1)
        return .resize(width: width, height: small.height + random.below(large.height - small.height + 1))
    }

    /// `+` at the highest allowed rate becomes `-` and `-` at the lowest becomes `+`; counts the rest.
    private mutating func boundingRate(_ key: String) -> String {
        switch key {
        case "+", "=":
            if ratePower >= SoakKeyStream.highestRate { ratePower -= 1; return "-" }
            ratePower += 1
        case "-", "_":
            if ratePower <= SoakKeyStream.lowestRate { ratePower += 1; return "+" }
            ratePower -= 1
        default: break
        }
        return key
    }
}

/// Every key the app knows, as tmux names it, grouped by the help overlay's rows.
enum SoakKeys {
    /// The help overlay's key column (`AppKeys.bindings`) and the tmux keys that stand for it. A test
    /// checks that this covers every binding, so a new key cannot be left out of the soak.
    static let vocabulary: [(binding: String, keys: [String])] = [
        ("space", ["Space"]),
        ("n", ["n"]),
        ("+ / -", ["+", "-", "=", "_"]),
        ("tab / S-tab", ["Tab", "BTab"]),
        ("1-8", ["1", "2", "3", "4", "5", "6", "7", "8"]),
        ("↑↓ / j k", ["Up", "Down", "j", "k", "PPage", "NPage", "g", "G", "Home", "End"]),
        ("← →", ["Left", "Right"]),
        ("r", ["r"]),
        ("x", ["x"]),
        ("c / C", ["c", "C"]),
        ("m", ["m"]),
        ("M", ["M"]),
        ("R", ["R"]),
        ("v", ["v"]),
        ("l", ["l"]),
        ("e", ["e"]),
        ("E", ["E"]),
        ("o", ["o"]),
        ("p / P", ["p", "P"]),
        ("i", ["i"]),
        ("w", ["w"]),
        ("h / H", ["h", "H"]),
        ("L", ["L"]),
        // Without --compare, D only says how to start the A/B view (not an error).
        ("D", ["D"]),
        // The time scrubber: moves the views' time, never training.
        ("[ ] \\ t", ["[", "]", "\\", "t"]),
        ("s", ["s"]),
        ("Ctrl-L", ["C-l"]),
        ("?", ["?", "Escape"]),
        // q goes through `Action.quitDialog`, which cancels it: the soak quits only at its end.
        ("q", []),
    ]

    /// Keys the app does not use: they must change nothing.
    static let unknown = ["z", "F5", "Enter", "BSpace", "DC", "0"]

    /// The compression view's own keys (with `6` before them in `Action.compression`).
    static let compressionKeys = ["p", "P", "i", "w"]

    /// Keys the quit dialog ignores, and the ones that close it without quitting.
    static let ignoredByQuitDialog = ["j", "Space", "?", "e", "s", "+", "6", "Left"]
    static let cancelsQuitDialog = ["c", "C", "Escape", "q"]

    /// How often each key is typed in random bursts: the everyday ones more, the ones that write files
    /// or start measurements less (they cost the shared machine the most).
    static let weightedKeys: [(key: String, weight: Int)] = {
        let rare: Set<String> = ["e", "E", "s", "p", "P", "i", "w", "C-l", "Escape", "?"]
        var keys = vocabulary.flatMap(\.keys).map { ($0, rare.contains($0) ? 2 : 6) }
        keys += unknown.map { ($0, 1) }
        return keys
    }()

    /// Whether the help overlay shows after `keys`, starting from `showing`: any key closes it, and
    /// `?` or Escape do nothing else (`AppModel.handle`); `?` opens it.
    static func helpShows(after keys: [String], startingFrom showing: Bool) -> Bool {
        var showing = showing
        for key in keys {
            if showing {
                showing = false
                if key == "?" || key == "Escape" { continue }
            }
            if key == "?" { showing = true }
        }
        return showing
    }
}

/// SplitMix64 (Steele, Lea and Flood 2014): a small generator whose stream depends only on the seed,
/// so a soak can be replayed from the seed it printed.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in 0..<bound (bound > 0), by rejection so no value is favoured.
    mutating func below(_ bound: Int) -> Int {
        let limit = UInt64(bound)
        let threshold = (0 &- limit) % limit
        while true {
            let value = next()
            if value >= threshold { return Int(value % limit) }
        }
    }
}
