import ArgumentParser
import ConvKit
import ConvRender

// Options with a fixed set of values parse straight into the engine's enums: the parser refuses any other
// value with the list of choices, so commands never re-check a string or force-unwrap its parse.

extension TestTimeAugmentation: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}
extension ActivationMapMethod: ExpressibleByArgument {}
extension ColorScaleScope: ExpressibleByArgument {}
extension AttributionBaseline: ExpressibleByArgument {}

extension ExplanationMethod: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument) }
    /// Empty, so that a wrong value gets the parser's one-line error; the help text lists the methods.
    public static var allValueStrings: [String] { [] }
    public var defaultValueDescription: String { rawValue }
}

extension Optimizer.Kind: ExpressibleByArgument {
    /// Muon only comes inside `--recipe airbench`: the parser takes the name so that
    /// `TrainingOptions.validate` can say so, but help and completions do not offer it.
    public static var allValueStrings: [String] { ["sgd", "adam", "adamw"] }
}

extension Recipe {
    /// `--recipe`'s value; a retired name is refused with where it went (`Recipe.retiredNames`).
    init(option text: String) throws {
        guard let recipe = Recipe(rawValue: text) else {
            let choices = Recipe.allCases.map(\.rawValue)
            let pointer = Recipe.retiredNames[text].map { " (\($0))" } ?? ""
            throw ValidationError("must be \(choices.dropLast().joined(separator: ", ")) or \(choices.last ?? ""), not '\(text)'\(pointer)")
        }
        self = recipe
    }
}

/// `--colormap`: the colour maps a heat map can use.
enum ColormapName: String, CaseIterable, ExpressibleByArgument {
    case jet, viridis, inferno

    var colormap: Colormap {
        switch self {
        case .jet: return .jet
        case .viridis: return .viridis
        case .inferno: return .inferno
        }
    }
}

/// `gradcam --style`: what the PNG shows.
enum HeatMapStyle: String, CaseIterable, ExpressibleByArgument {
    /// The map over the image.
    case overlay
    /// The map alone.
    case heatmap
    /// Image, map and overlay side by side, captioned.
    case strip
}

/// `sanity --mode`: one of the engine's randomisations, or both in turn.
enum SanityModeChoice: String, CaseIterable, ExpressibleByArgument {
    case cascading, independent, both

    /// The randomisations to run, in order.
    var modes: [SanityCheck.Mode] {
        switch self {
        case .cascading: return [.cascading]
        case .independent: return [.independent]
        case .both: return SanityCheck.Mode.allCases
        }
    }
}
