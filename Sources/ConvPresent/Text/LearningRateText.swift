import ConvKit
import Foundation

/// How the app and the command line word a learning-rate range test's suggestion (`LearningRateChart` in
/// ConvScopeUI draws its curve).
public enum LearningRateText {
    /// `suggested learning rate 0.0316 (a tenth of 0.316, where the smoothed loss was lowest); steepest fall at 0.1`.
    public static func summary(_ result: LearningRateFinder.Result) -> String {
        guard let suggested = result.suggestedRate else {
            return result.points.isEmpty
                ? "no finite loss at any rate: lower --start"
                : "no minimum of the loss within the range: raise --end (or --steps) and try again"
        }
        var text = "suggested learning rate \(HealthText.number(suggested)) (a tenth of \(HealthText.number(suggested * 10)), "
            + "where the smoothed loss was lowest)"
        if let steepest = result.steepestRate { text += "; steepest fall at \(HealthText.number(steepest))" }
        return text
    }
}
