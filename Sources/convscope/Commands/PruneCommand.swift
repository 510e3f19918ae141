import ArgumentParser
import ConvKit
import ConvPresent
import Foundation

/// `convscope prune`: magnitude pruning (masks) or filter pruning (a smaller model).
struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Prune a model: zero the smallest weights (--amount) or remove whole filters (--filters).",
        discussion: """
            --amount 0.3 zeroes the 30% smallest-magnitude weights of every conv and fc layer (--global: 30% of \
            all of them, ranked together). The mask is saved, so `train --resume --checkpoint OUT --epochs N` \
            fine-tunes without regrowing them. --filters 0.25 removes a quarter of each conv layer's filters \
            (smallest L1 norm), shrinking the layer, its batch norm and the next layer: a smaller, faster model.
            """)

    @Option(name: .long, help: "The trained .safetensors checkpoint.")
    var checkpoint: String

    @Option(name: .long, help: "Fraction of weights to zero per layer (unstructured).")
    var amount: Float?

    @Flag(name: .long, help: "With --amount: rank all layers' weights together.")
    var global = false

    @Option(name: .long, help: "Fraction of filters to remove per conv layer (structured).")
    var filters: Float?

    @Option(name: .long, help: "Where to write the pruned checkpoint.")
    var out: String

    @OptionGroup var data: DataOptions

    private static let eitherMethod = "give either --amount or --filters"

    func validate() throws {
        guard (amount == nil) != (filters == nil) else { throw ValidationError(Self.eitherMethod) }
        if let amount, !(0...1).contains(amount) { throw ValidationError("--amount must be a fraction between 0 and 1") }
        if let filters, !(0..<1).contains(filters) { throw ValidationError("--filters must be a fraction in [0, 1)") }
        if global && amount == nil { throw ValidationError("--global goes with --amount") }
    }

    func run() throws {
        let loaded = try RunCheckpoint.load(checkpoint)
        try requireMemory(loaded.network, for: .inference(batch: Benchmark().inferBatch), checkpoint: checkpoint)
        let dataset = try data.load(trainLimit: 0)
        let before = ModelReport.measure("original", .float(loaded.network), file: checkpoint, testSet: dataset.test)
        var metadata = loaded.metadata
        let pruned: Network
        if let amount {
            let results = MagnitudePruning.prune(loaded.network, amount: amount, global: global)
            pruned = loaded.network
            let table = TextTable(
                header: ["parameter", "weights", "zero"],
                rows: results.map { [$0.parameter, $0.count.formatted, String(format: "%.1f%%", $0.sparsity * 100)] })
            print(table.text, terminator: "")
            metadata["pruning"] = "magnitude \(amount)\(global ? " global" : " per layer")"
            try RunCheckpoint.save(
                network: pruned, extraEntries: loaded.optimizerState(forPrunedShapes: false), metadata: metadata, to: out)
        } else if let filters {
            let result = try FilterPruning.prune(loaded.network, fraction: filters)
            pruned = result.network
            for layer in result.layers {
                let note = layer.skipped.map { "kept: \($0)" } ?? "pruned"
                print("\(layer.layer.padding(toLength: 22, withPad: " ", startingAt: 0)) \(layer.before) -> \(layer.after) filters  \(note)")
            }
            print("spec: \(pruned.spec.text)")
            metadata["pruning"] = "filters \(filters)"
            try RunCheckpoint.save(
                network: pruned, extraEntries: loaded.optimizerState(forPrunedShapes: true), metadata: metadata, to: out)
        } else {
            throw ValidationError(Self.eitherMethod)  // `validate` refuses this first
        }
        let after = ModelReport.measure("pruned", .float(pruned), file: out, testSet: dataset.test)
        printReport([before, after], dataset: dataset)
        print("wrote \(out); fine-tune with: convscope train --resume --checkpoint \(out) --epochs N")
    }
}
