/// Text attributes a cell can carry besides its colours.
public struct CellAttributes: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let bold = CellAttributes(rawValue: 1 << 0)
    /// Swap foreground and background: visible even when the terminal has no colours.
    public static let reverse = CellAttributes(rawValue: 1 << 1)
}

/// Colours and attributes to draw with; `nil` colours mean the terminal's own default.
public struct Style: Sendable, Hashable {
    public var foreground: Color?
    public var background: Color?
    public var attributes: CellAttributes

    public init(foreground: Color? = nil, background: Color? = nil, attributes: CellAttributes = []) {
        self.foreground = foreground
        self.background = background
        self.attributes = attributes
    }

    /// The terminal's default colours, no attributes.
    public static let plain = Style()

    /// This style with `extra` attributes added.
    public func adding(_ extra: CellAttributes) -> Style {
        var style = self
        style.attributes.formUnion(extra)
        return style
    }
}

/// One terminal cell: a single-width glyph with its style.
///
/// The glyph is one Unicode scalar; ConvScope draws only narrow characters (ASCII, box drawing,
/// block elements, Braille), so one scalar always fills exactly one column.
public struct Cell: Sendable, Hashable {
    public var glyph: Unicode.Scalar
    public var style: Style

    public init(_ glyph: Unicode.Scalar = " ", style: Style = .plain) {
        self.glyph = glyph
        self.style = style
    }

    public var foreground: Color? { style.foreground }
    public var background: Color? { style.background }
    public var attributes: CellAttributes { style.attributes }

    /// A space in the terminal's default colours.
    public static let blank = Cell()
}
