/// A model or batch that would need more memory than the machine has: the typed refusal that front ends
/// word (naming the layer with the largest share and the bytes).
public struct MemoryLimitError: Error, Sendable {
    /// The spec string of the model.
    public let model: String
    public let use: MemoryEstimate.Use
    /// Estimated bytes in all.
    public let bytes: Double
    public let budget: MemoryBudget
    /// The layer (or the run's share) needing the most.
    public let largest: MemoryEstimate.Part
    /// The checkpoint the model was read from, when it was.
    public let source: String?
    /// The run's own shares, when the whole training run was checked.
    public var run: MemoryEstimate.Run? = nil
}
