import ConvKit

/// A worker's request that diff mode repeats at the marked time: the class it explains and the time of its weights.
protocol MarkableRequest {
    var classIndex: Int? { get set }
    var time: Int? { get set }
}

extension ExplanationRequest: MarkableRequest {}
extension SanityRequest: MarkableRequest {}
