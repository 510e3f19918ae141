/// A model written as a comma-separated spec string, such as `conv32,bn,relu,maxpool,gap,fc10`.
///
/// The same string is shown in the TUI, stored in checkpoints and accepted by `--model`; preset names
/// (`tiny`, `simple`, `vgg`, `resnet20`) expand to their spec. Grammar, one token per layer:
///
/// | token | layer |
/// | --- | --- |
/// | `conv<C>[k<K>][s<S>][p<P>]` | Conv2d to C channels, kernel K (3), stride S (1), padding P (K/2); bias unless `bn` follows |
/// | `bn` | BatchNorm2d |
/// | `relu`, `leakyrelu[<slope>]`, `elu[<alpha>]`, `selu`, `swish`, `gelu`, `sigmoid`, `tanh` | activations |
/// | `maxpool[<K>][s<S>]`, `avgpool[<K>][s<S>]` | pooling, kernel K (2), stride S (= K) |
/// | `gap`, `flatten` | global average pool to a vector; flatten to a vector |
/// | `dropout[<p>]`, `dropout2d[<p>]` | inverted dropout of elements or whole channels, p (0.5) |
/// | `fc<N>` | Linear to N features |
/// | `res<C>[s<S>][m<M>]` | basic residual block with C channels, stride S (1), first conv M wide (C) |
public struct ModelSpec: Sendable, Equatable, CustomStringConvertible {
    /// One parsed token.
    public enum Operation: Sendable, Equatable {
        case conv(channels: Int, kernel: Int, stride: Int, padding: Int)
        case batchNorm
        case activation(Activation.Function)
        case maxPool(kernel: Int, stride: Int)
        case avgPool(kernel: Int, stride: Int)
        case globalAvgPool
        case flatten
        case dropout(Float, channelwise: Bool)
        case fc(Int)
        /// `middle` is the width of the block's first convolution (equal to `channels` unless filter-pruned).
        case residual(channels: Int, stride: Int, middle: Int)

        public var kind: LayerKind {
            switch self {
            case .conv: return .conv
            case .batchNorm: return .bn
            case .activation(let f): return f.kind
            case .maxPool: return .maxpool
            case .avgPool: return .avgpool
            case .globalAvgPool: return .gap
            case .flatten: return .flatten
            case .dropout(_, let channelwise): return channelwise ? .dropout2d : .dropout
            case .fc: return .fc
            case .residual: return .res
            }
        }
    }

    /// A token as written, and what it means.
    ///
    /// `Token(operation:)` writes the shortest token for an operation (used when compression changes
    /// a model's widths).
    public struct Token: Sendable, Equatable {
        public let text: String
        public let operation: Operation

        init(text: String, operation: Operation) {
            self.text = text
            self.operation = operation
        }

        public init(operation: Operation) {
            func number(_ value: Float) -> String {
                // Whole numbers without ".0"; large ones (no `Int` holds 1e30) in Swift's shortest form.
                value == value.rounded() && abs(value) < 1e9 ? String(Int(value)) : String(value)
            }
            let text: String
            switch operation {
            case let .conv(c, k, s, p):
                text = "conv\(c)" + (k != 3 ? "k\(k)" : "") + (s != 1 ? "s\(s)" : "") + (p != k / 2 ? "p\(p)" : "")
            case .batchNorm: text = "bn"
            case .activation(let function):
                switch function {
                case .leakyReLU(let slope): text = slope == 0.01 ? "leakyrelu" : "leakyrelu\(slope)"
                case .elu(let alpha): text = alpha == 1 ? "elu" : "elu\(number(alpha))"
                default: text = function.kind.rawValue
                }
            case let .maxPool(k, s): text = "maxpool" + (k != 2 ? "\(k)" : "") + (s != k ? "s\(s)" : "")
            case let .avgPool(k, s): text = "avgpool" + (k != 2 ? "\(k)" : "") + (s != k ? "s\(s)" : "")
            case .globalAvgPool: text = "gap"
            case .flatten: text = "flatten"
            case let .dropout(p, channelwise): text = (channelwise ? "dropout2d" : "dropout") + (p == 0.5 ? "" : "\(p)")
            case .fc(let n): text = "fc\(n)"
            case let .residual(c, s, m): text = "res\(c)" + (s != 1 ? "s\(s)" : "") + (m != c ? "m\(m)" : "")
            }
            self.init(text: text, operation: operation)
        }
    }

    /// A spec from tokens (for example a pruned copy of another spec's).
    public init(tokens: [Token]) {
        self.tokens = tokens
        presetName = nil
    }

    public let tokens: [Token]
    /// The preset name this spec came from, if any.
    public let presetName: String?

    /// The presets: a tiny net, the default, a VGG-style stack, a CIFAR ResNet-20 and the speed-run nets.
    public static let presets: [(name: String, spec: String)] = [
        ("tiny", "conv16,relu,maxpool,conv32,relu,maxpool,conv64,relu,gap,fc10"),
        ("simple", "conv32,bn,relu,conv32,bn,relu,maxpool,conv64,bn,relu,conv64,bn,relu,maxpool,conv128,bn,relu,gap,fc10"),
        ("vgg", "conv64,bn,relu,conv64,bn,relu,maxpool,conv128,bn,relu,conv128,bn,relu,maxpool,"
            + "conv256,bn,relu,conv256,bn,relu,maxpool,flatten,fc256,relu,dropout0.5,fc10"),
        ("resnet20", "conv16,bn,relu,res16,res16,res16,res32s2,res32,res32,res64s2,res64,res64,gap,fc10"),
        // The `--recipe quick` network, after airbench: a whitening conv, then three blocks of
        // conv-pool-bn-relu-conv-bn-relu at widths 32, 64, 128.
        ("quick", "conv32,relu,conv32,maxpool,bn,relu,conv32,bn,relu,conv64,maxpool,bn,relu,conv64,bn,relu,"
            + "conv128,maxpool,bn,relu,conv128,bn,relu,gap,fc10"),
        // airbench's 94% network: a 2x2 whitening conv (all 12 directions of a 2x2 patch, both signs), then
        // blocks of widths 64, 256, 256 with GELU, on maps of 31, 15, 7 and 3: `--recipe airbench`'s net.
        ("airbench", "conv24k2p0,gelu,conv64,maxpool,bn,gelu,conv64,bn,gelu,conv256,maxpool,bn,gelu,conv256,bn,gelu,"
            + "conv256,maxpool,bn,gelu,conv256,bn,gelu,maxpool3,flatten,fc10"),
    ]

    /// The default model.
    public static let defaultPreset = "simple"

    /// Preset names that were retired, with the new name: refused with a pointer rather than read as a
    /// spec (`fast` became `quick` on 2026-12-03, so that each speed-run recipe shares its preset's name).
    public static let retiredPresets = ["fast": "quick"]

    /// Specs longer than this (in UTF-8 bytes) are refused unread; the longest preset has about 200.
    public static let maximumTextLength = 10_000
    /// Channel counts, widths and output sizes above this are refused as typing mistakes (or hostile
    /// input) before any arithmetic on them; whether a model fits in memory is judged separately.
    public static let maximumWidth = 1 << 16
    /// Kernel sizes, strides, paddings and pool sizes above this are refused (inputs are 32 x 32).
    public static let maximumWindow = 1024

    /// Parses a preset name or a spec string.
    public init(_ text: String) throws(ModelSpecError) {
        guard text.utf8.count <= ModelSpec.maximumTextLength else {
            throw ModelSpecError(
                tokenIndex: nil, token: "",
                reason: "the model spec is \(text.utf8.count) bytes long, more than the limit of \(ModelSpec.maximumTextLength)")
        }
        let trimmed = text.trimmingWhitespace().lowercased()
        if let renamed = ModelSpec.retiredPresets[trimmed] {
            throw ModelSpecError(tokenIndex: nil, token: trimmed, reason: "the preset '\(trimmed)' is now called '\(renamed)'")
        }
        if let preset = ModelSpec.presets.first(where: { $0.name == trimmed }) {
            try self.init(parsing: preset.spec, presetName: preset.name)
        } else {
            try self.init(parsing: trimmed, presetName: nil)
        }
    }

    private init(parsing text: String, presetName: String?) throws(ModelSpecError) {
        let pieces = text.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingWhitespace() }
        guard !(pieces.count == 1 && pieces[0].isEmpty) else {
            throw ModelSpecError(tokenIndex: nil, token: "", reason: "the model spec is empty")
        }
        var tokens: [Token] = []
        for (index, piece) in pieces.enumerated() {
            do {
                tokens.append(Token(text: piece, operation: try ModelSpec.parseToken(piece.lowercased())))
            } catch let reason {
                throw ModelSpecError(tokenIndex: index, token: piece, reason: reason.text)
            }
        }
        self.tokens = tokens
        self.presetName = presetName
    }

    /// The spec as a comma-separated string (the form stored in checkpoints).
    public var text: String { tokens.map(\.text).joined(separator: ",") }
    public var description: String { text }

    /// Layer kinds, longest first so that `dropout2d` wins over `dropout` and `leakyrelu` over `relu`.
    private static let kindsByLength = LayerKind.allCases.sorted { $0.rawValue.count > $1.rawValue.count }

    private static func kindPrefix(of token: String) -> LayerKind? {
        kindsByLength.first { token.hasPrefix($0.rawValue) }
    }

    private struct Reason: Error { let text: String }

    private static func parseToken(_ token: String) throws(Reason) -> Operation {
        guard !token.isEmpty else { throw Reason(text: "empty layer (two commas in a row?)") }
        guard let kind = kindPrefix(of: token) else {
            throw Reason(text: "unknown layer; expected one of \(LayerKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var scanner = ArgumentScanner(String(token.dropFirst(kind.rawValue.count)))
        func finish<T>(_ value: T) throws(Reason) -> T {
            guard scanner.isAtEnd else { throw Reason(text: "unexpected '\(scanner.rest)' after \(kind.rawValue)") }
            return value
        }
        /// `value`, checked to be at least 1 (0 when `zero`) and at most `limit`.
        func bounded(_ value: Int?, _ what: String, _ limit: Int, zero: Bool = false) throws(Reason) -> Int? {
            guard let value else { return nil }
            if value < (zero ? 0 : 1) { throw Reason(text: "\(what) must be at least \(zero ? 0 : 1), not \(value)") }
            if value > limit {
                // The scanner saturates at Int.max: such a number is not worth echoing.
                throw Reason(text: "\(what) must be at most \(limit)" + (value < Int.max ? ", not \(value)" : ""))
            }
            return value
        }
        func positive(_ value: Int?, _ what: String) throws(Reason) -> Int? {
            try bounded(value, what, ModelSpec.maximumWindow)
        }
        func width(_ value: Int?, _ what: String) throws(Reason) -> Int? {
            try bounded(value, what, ModelSpec.maximumWidth)
        }
        func finite(_ value: Float?, _ what: String) throws(Reason) -> Float? {
            if let value, !value.isFinite { throw Reason(text: "\(what) must be a finite number") }
            return value
        }
        switch kind {
        case .conv:
            guard let channels = try width(scanner.integer(), "the channel count") else {
                throw Reason(text: "conv needs an output channel count, as in conv32")
            }
            let kernel = try positive(scanner.labelled("k"), "the kernel size") ?? 3
            let stride = try positive(scanner.labelled("s"), "the stride") ?? 1
            let padding = try bounded(scanner.labelled("p"), "the padding", ModelSpec.maximumWindow, zero: true) ?? kernel / 2
            guard padding <= kernel / 2 else {
                throw Reason(text: "padding \(padding) is more than half the kernel size \(kernel)")
            }
            return try finish(.conv(channels: channels, kernel: kernel, stride: stride, padding: padding))
        case .maxpool, .avgpool:
            let kernel = try positive(scanner.integer(), "the pool size") ?? 2
            let stride = try positive(scanner.labelled("s"), "the stride") ?? kernel
            return try finish(kind == .maxpool ? .maxPool(kernel: kernel, stride: stride) : .avgPool(kernel: kernel, stride: stride))
        case .res:
            guard let channels = try width(scanner.integer(), "the channel count") else {
                throw Reason(text: "res needs a channel count, as in res64 or res64s2")
            }
            let stride = try positive(scanner.labelled("s"), "the stride") ?? 1
            let middle = try width(scanner.labelled("m"), "the middle width") ?? channels
            return try finish(.residual(channels: channels, stride: stride, middle: middle))
        case .fc:
            guard let features = try width(scanner.integer(), "the output size") else {
                throw Reason(text: "fc needs an output size, as in fc10")
            }
            return try finish(.fc(features))
        case .dropout, .dropout2d:
            let p = try finite(scanner.decimal(), "the dropout probability") ?? 0.5
            guard p >= 0 && p < 1 else { throw Reason(text: "dropout probability must be in [0, 1), not \(p)") }
            return try finish(.dropout(p, channelwise: kind == .dropout2d))
        case .leakyrelu:
            return try finish(.activation(.leakyReLU(slope: finite(scanner.decimal(), "the slope") ?? 0.01)))
        case .elu:
            return try finish(.activation(.elu(alpha: finite(scanner.decimal(), "alpha") ?? 1)))
        case .bn: return try finish(.batchNorm)
        case .relu: return try finish(.activation(.relu))
        case .selu: return try finish(.activation(.selu))
        case .swish: return try finish(.activation(.swish))
        case .gelu: return try finish(.activation(.gelu))
        case .sigmoid: return try finish(.activation(.sigmoid))
        case .tanh: return try finish(.activation(.tanh))
        case .gap: return try finish(.globalAvgPool)
        case .flatten: return try finish(.flatten)
        }
    }
}

/// Why a model spec was refused, pointing at the offending token.
public struct ModelSpecError: Error, CustomStringConvertible, Equatable {
    /// Zero-based position of the token, or nil when the problem is the whole spec.
    public let tokenIndex: Int?
    public let token: String
    public let reason: String

    public var description: String {
        guard let tokenIndex else { return "bad model spec: \(reason)" }
        return "bad model spec at token \(tokenIndex + 1) '\(token)': \(reason)"
    }
}

/// Reads the numeric arguments that follow a layer name (`32k5s2p1`, `0.3`).
private struct ArgumentScanner {
    private let characters: [Character]
    private var position = 0

    init(_ text: String) { characters = Array(text) }

    var isAtEnd: Bool { position == characters.count }
    var rest: String { String(characters[position...]) }

    /// A run of ASCII digits as an integer, saturating at `Int.max` (the caller refuses it as too large).
    mutating func integer() -> Int? {
        var end = position
        var value = 0
        while end < characters.count, let digit = characters[end].asciiValue, digit >= 48, digit <= 57 {
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int(digit - 48))
            value = overflow1 || overflow2 ? Int.max : sum
            end += 1
        }
        guard end > position else { return nil }
        position = end
        return value
    }

    /// An integer preceded by `label`, such as `k5`.
    mutating func labelled(_ label: Character) -> Int? {
        guard position < characters.count, characters[position] == label else { return nil }
        let saved = position
        position += 1
        if let value = integer() { return value }
        position = saved
        return nil
    }

    mutating func decimal() -> Float? {
        var end = position
        while end < characters.count,
            characters[end].isNumber || characters[end] == "." || characters[end] == "e" || characters[end] == "-"
                || characters[end] == "+"
        {
            end += 1
        }
        guard end > position, let value = Float(String(characters[position..<end])) else { return nil }
        position = end
        return value
    }
}

extension String {
    func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
