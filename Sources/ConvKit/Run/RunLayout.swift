/// The run directory: a small, open layout in which any trainer (ConvScope's `train --run-dir`, a
/// PyTorch script through `convscope_torch.RunWriter`) leaves what `convscope watch` follows.
///
/// ```
/// DIR/run.json                                 RunManifest: format name, version, spec, classes, plan
/// DIR/metrics.jsonl                            MetricsRecord lines, appended
/// DIR/checkpoints/step-000000390.safetensors   ConvScope checkpoints (RunCheckpoint's metadata keys)
/// ```
///
/// Every whole file is written atomically (a hidden temporary file in the same folder, renamed into
/// place), so a name without a leading dot always holds a complete file; metrics lines are appended
/// one `write` each, and a reader takes a line only once its newline is there. `docs/run-directory.md`
/// is the specification for other implementations.
public enum RunLayout {
    /// The format's name in `run.json`.
    public static let formatName = "convscope-run"
    /// The version this code writes and reads fully; readers accept older versions and say when a
    /// newer one may hold what they do not understand.
    public static let version = 1

    public static let manifestFile = "run.json"
    public static let metricsFile = "metrics.jsonl"
    public static let checkpointsFolder = "checkpoints"
    public static let checkpointExtension = ".safetensors"

    /// `step-000000390.safetensors`: zero-padded so that names sort by step.
    public static func checkpointName(step: Int) -> String {
        let digits = String(max(step, 0))
        return "step-" + String(repeating: "0", count: max(0, 9 - digits.count)) + digits + checkpointExtension
    }

    /// `directory/name`.
    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
