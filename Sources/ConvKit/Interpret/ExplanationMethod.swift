import Foundation

/// The pixel-attribution methods: how much each input pixel (each colour channel of it) counts for a
/// class score. They need no global average pooling and answer at the input's full resolution.
///
/// Each follows Captum's definition on the normalised input (docs/explanations.md): the `attribution`
/// is what Captum's `attribute` returns, channel for channel.
public enum PixelAttributionMethod: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Vanilla gradient (Simonyan et al. 2014): `|d logit_c / d x|` (Captum's `Saliency`, `abs=True`).
    case saliency
    /// SmoothGrad (Smilkov et al. 2017): the mean saliency of `samples` copies of the image with
    /// Gaussian noise of standard deviation `noise * (max - min)` of the normalised image.
    case smoothGrad = "smoothgrad"
    /// Integrated Gradients (Sundararajan et al. 2017): `(x - x') * integral_0^1 grad(x' + a (x - x')) da`,
    /// with Captum's Gauss-Legendre quadrature of `steps` points. Its sum should equal
    /// `logit(x) - logit(x')` (completeness); the difference is reported.
    case integratedGradients = "integrated-gradients"
    /// Guided Backpropagation (Springenberg et al. 2015): the input gradient with every ReLU passing
    /// back only positive gradients.
    case guidedBackprop = "guided-backprop"
    /// Guided Grad-CAM (Selvaraju et al. 2017): guided backpropagation times Grad-CAM at the layer,
    /// upsampled to the input by nearest neighbour (Captum's `GuidedGradCam`).
    case guidedGradCAM = "guided-gradcam"
    /// Occlusion (Zeiler & Fergus 2014): the logit drop when a `patch x patch` square (all channels) is
    /// set to the mean colour, slid by `stride`; each pixel averages the windows covering it.
    case occlusion
    /// RISE (Petsiuk et al. 2018): the class probability of the image under `masks` random smooth masks,
    /// averaged with the masks as weights and divided by the keep probability.
    case rise

    public var description: String {
        switch self {
        case .saliency: return "Saliency"
        case .smoothGrad: return "SmoothGrad"
        case .integratedGradients: return "Integrated Gradients"
        case .guidedBackprop: return "Guided Backprop"
        case .guidedGradCAM: return "Guided Grad-CAM"
        case .occlusion: return "Occlusion"
        case .rise: return "RISE"
        }
    }

    /// Whether negative values mean something (evidence against the class): drawn with a diverging
    /// palette. Saliency and SmoothGrad are magnitudes, RISE a weighted probability.
    public var isSigned: Bool {
        switch self {
        case .saliency, .smoothGrad, .rise: return false
        case .integratedGradients, .guidedBackprop, .guidedGradCAM, .occlusion: return true
        }
    }

    /// Whether the method reads a layer (Guided Grad-CAM's Grad-CAM).
    public var usesLayer: Bool { self == .guidedGradCAM }

    /// Whether one map costs many passes (run on a worker, with progress).
    public var isSlow: Bool { self == .occlusion || self == .rise || self == .smoothGrad || self == .integratedGradients }
}

/// Any explanation method ConvScope computes: the class-activation family, read at a layer, and the
/// pixel attributions, read at the input.
public enum ExplanationMethod: Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case activation(ActivationMapMethod)
    case pixel(PixelAttributionMethod)

    /// How a method finds its evidence; the app cycles methods family by family.
    public enum Family: String, Sendable, CaseIterable, CustomStringConvertible {
        /// Weighted channels of a layer (CAM, Grad-CAM and relatives, Score-CAM, Eigen-CAM...).
        case classActivation = "cam"
        /// Gradients with respect to the input pixels.
        case gradient
        /// The model's answers to perturbed inputs.
        case perturbation

        public var description: String {
            switch self {
            case .classActivation: return "CAM family"
            case .gradient: return "gradients"
            case .perturbation: return "perturbation"
            }
        }
    }

    public static let allCases: [ExplanationMethod] =
        ActivationMapMethod.allCases.map(ExplanationMethod.activation) + PixelAttributionMethod.allCases.map(ExplanationMethod.pixel)

    /// The CLI spelling: `gradcam`, `integrated-gradients`, ...
    public var rawValue: String {
        switch self {
        case .activation(let method): return method.rawValue
        case .pixel(let method): return method.rawValue
        }
    }

    public init?(rawValue: String) {
        if let method = ActivationMapMethod(rawValue: rawValue) {
            self = .activation(method)
        } else if let method = PixelAttributionMethod(rawValue: rawValue) {
            self = .pixel(method)
        } else {
            return nil
        }
    }

    /// Methods named in a comma-separated list, or every method for `all`.
    public static func list(_ text: String) -> Result<[ExplanationMethod], InterpretError> {
        if text == "all" { return .success(allCases) }
        var methods: [ExplanationMethod] = []
        for name in text.split(separator: ",").map({ String($0).trimmingCharacters(in: .whitespaces) }) {
            guard let method = ExplanationMethod(rawValue: name) else { return .failure(.unknownMethod(name)) }
            if !methods.contains(method) { methods.append(method) }
        }
        return methods.isEmpty ? .failure(.unknownMethod(text)) : .success(methods)
    }

    public var description: String {
        switch self {
        case .activation(let method): return method.description
        case .pixel(let method): return method.description
        }
    }

    public var family: Family {
        switch self {
        case .activation: return .classActivation
        case .pixel(let method):
            switch method {
            case .occlusion, .rise: return .perturbation
            default: return .gradient
            }
        }
    }

    public var isSigned: Bool {
        if case .pixel(let method) = self { return method.isSigned }
        return false
    }

    public var isSlow: Bool {
        switch self {
        case .activation(let method): return method.isSlow
        case .pixel(let method): return method.isSlow
        }
    }

    /// Whether the method reads a layer (the CAM family and Guided Grad-CAM).
    public var usesLayer: Bool {
        switch self {
        case .activation: return true
        case .pixel(let method): return method.usesLayer
        }
    }
}

/// The reference input that Integrated Gradients integrates from.
public enum AttributionBaseline: String, Sendable, Codable, CaseIterable {
    /// A black image (pixel value 0 in every channel, normalised).
    case black
    /// The image blurred by a Gaussian of `AttributionOptions.blurSigma` pixels: what the picture looks
    /// like without its detail.
    case blur
    /// The mean colour: zero in normalised space (Captum's default baseline).
    case mean
}

/// The settings of the methods that have any; one value, saved and passed as data.
public struct AttributionOptions: Sendable, Codable, Equatable {
    /// SmoothGrad: noisy copies averaged.
    public var samples = 25
    /// SmoothGrad: the noise's standard deviation as a fraction of the normalised image's value range
    /// (the paper's 10-20%).
    public var noise: Float = 0.15
    /// Integrated Gradients: quadrature points.
    public var steps = 50
    public var baseline = AttributionBaseline.black
    /// Integrated Gradients' `blur` baseline: the Gaussian's standard deviation in pixels.
    public var blurSigma: Float = 4
    /// Occlusion: the side of the square set to the mean colour, and its step.
    public var patch = 8
    public var stride = 2
    /// RISE: random masks, their grid (cells per side before upsampling) and the probability a cell is kept.
    public var masks = 1000
    public var maskGrid = 8
    public var keepProbability: Float = 0.5
    /// Seed of SmoothGrad's noise and RISE's masks: the same seed gives the same map.
    public var seed: UInt64 = 0

    public init() {}

    /// Nil when every value is usable, else a one-line reason naming the value.
    public func problem(imageSize: Int = 32) -> String? {
        if !(1...10_000).contains(samples) { return "--samples must be between 1 and 10000, not \(samples)" }
        if !(noise >= 0 && noise <= 10) { return "--noise must be between 0 and 10 (a fraction of the image's range), not \(noise)" }
        if !(1...10_000).contains(steps) { return "--steps must be between 1 and 10000, not \(steps)" }
        if !(blurSigma > 0 && blurSigma <= 64) { return "the blur baseline's sigma must be in (0, 64] pixels, not \(blurSigma)" }
        if !(1...imageSize).contains(patch) { return "--patch must be between 1 and \(imageSize) pixels, not \(patch)" }
        if !(1...patch).contains(stride) { return "--stride must be between 1 and the patch (\(patch)), not \(stride)" }
        if !(1...100_000).contains(masks) { return "--masks must be between 1 and 100000, not \(masks)" }
        if !(2...imageSize).contains(maskGrid) { return "the RISE grid must be between 2 and \(imageSize) cells, not \(maskGrid)" }
        if !(keepProbability > 0 && keepProbability < 1) { return "the RISE keep probability must be in (0, 1), not \(keepProbability)" }
        return nil
    }
}

/// Reports a slow method's progress (0...1); returning false cancels it.
public typealias ExplanationProgress = (Double) -> Bool
