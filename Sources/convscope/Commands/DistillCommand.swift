import ArgumentParser
import ConvKit
import ConvPresent
import Foundation

/// `convscope distill`: train a student model against a trained teacher.
struct DistillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distill",
        abstract: "Train a (smaller) student model from a trained teacher's soft targets (Hinton et al. 2015).",
        discussion: """
            loss = alpha * T^2 * KL(softmax(teacher/T) || softmax(student/T)) + (1 - alpha) * cross-entropy(labels). \
            A higher temperature T shows the student more of the teacher's view of which wrong classes are close.
            """)

    @Option(name: .long, help: "The trained teacher's .safetensors checkpoint.")
    var teacher: String

    @Option(name: .long, help: "Where to save the student.")
    var checkpoint: String

    @Option(name: .long, help: "Softmax temperature for the soft targets.")
    var temperature: Float = 4

    @Option(name: .long, help: "Weight of the soft-target loss (the rest goes to the labels).")
    var alpha: Float = 0.9

    @OptionGroup var data: DataOptions
    @OptionGroup var training: TrainingOptions

    func validate() throws {
        guard temperature > 0 else { throw ValidationError("--temperature must be positive") }
        guard (0...1).contains(alpha) else { throw ValidationError("--alpha must be between 0 and 1") }
    }

    func run() throws {
        let teacherModel = try RunCheckpoint.load(teacher)
        try requireMemory(teacherModel.network, for: .inference(batch: training.config.batchSize), checkpoint: teacher)
        let dataset = try data.load(trainLimit: training.trainLimit)
        let trainer = try Trainer(config: training.config, dataset: dataset)
        trainer.teacher = (
            teacherModel.network,
            DistillationLoss(temperature: temperature, alpha: alpha, hard: CrossEntropyLoss(labelSmoothing: training.labelSmoothing))
        )
        printError("teacher: \(teacherModel.network.spec.text) (\(teacherModel.network.parameterCount.formatted) parameters)")
        printError("student: \(trainer.network.spec.text) (\(trainer.network.parameterCount.formatted) parameters)")
        printError("distillation: T = \(temperature), alpha = \(alpha); \(trainer.config.summary)")
        let metrics = checkpoint.hasSuffix(".safetensors") ? String(checkpoint.dropLast(".safetensors".count)) + ".jsonl" : checkpoint + ".jsonl"
        try runTraining(
            trainer, checkpoint: checkpoint, metrics: metrics,
            extraMetadata: ["distilled_from": teacher, "temperature": "\(temperature)", "alpha": "\(alpha)"], resumable: false)
        let rows = [
            ModelReport.measure("teacher", .float(teacherModel.network), file: teacher, testSet: dataset.test),
            ModelReport.measure("student", .float(trainer.network), file: checkpoint, testSet: dataset.test),
        ]
        printReport(rows, dataset: dataset)
    }
}
