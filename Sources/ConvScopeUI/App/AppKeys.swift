/// Every key of the app with what it does: the help overlay (`?`) lists these, in this order.
/// `AppModel.handle` is the one place that acts on them; a test checks the two agree.
public enum AppKeys {
    public static let bindings: [KeyBinding] = [
        KeyBinding("space", "pause / resume training"),
        KeyBinding("n", "one training step (while paused)"),
        KeyBinding("+ / -", "learning rate x1.25 / x0.8"),
        KeyBinding("tab / S-tab", "next / previous panel"),
        KeyBinding("1-8", "curves, layers, features, grad-cam, confusion, compression, health, explain"),
        KeyBinding("↑↓ / j k", "select layer (PgUp PgDn g G: page, ends)"),
        KeyBinding("← →", "previous / next test image"),
        KeyBinding("r", "random test image"),
        KeyBinding("x", "next misclassified image"),
        KeyBinding("c / C", "next class to explain / back to predicted"),
        KeyBinding("m", "method (explain view: the sanity curve's): Grad-CAM, ++, Layer, HiRes, XGrad, Score, Ablation, Eigen, CAM"),
        KeyBinding("M", "explain view: next method group (CAM, pixel gradients, perturbation)"),
        KeyBinding("R", "explain view: sanity curve cascading / independent randomisation"),
        KeyBinding("v", "colour scale: per map, per layer, global"),
        KeyBinding("l", "log scale for the loss curve"),
        KeyBinding("e", "export the heatmap (explain view: the board) to PNG"),
        KeyBinding("E", "export the feature-map (and filter) grid, or the synthesised inputs"),
        KeyBinding("o", "features view: feature maps / inputs synthesised to maximise each channel"),
        KeyBinding("p / P", "compression view: prune a copy, 30% of weights / 25% of filters"),
        KeyBinding("i", "compression view: int8-quantise a copy"),
        KeyBinding("w", "compression view: write the newest compressed model"),
        KeyBinding("h / H", "health view: strip metric / distribution shown"),
        KeyBinding("L", "learning-rate range test on a copy (a applies)"),
        KeyBinding("D", "A/B view of --compare B: tab page, ← → flips"),
        KeyBinding("[ ] \\ t", "time: earlier / later weight snapshot / live; t marks it for diff mode"),
        KeyBinding("s", "save a checkpoint"),
        KeyBinding("Ctrl-L", "repaint the screen"),
        KeyBinding("?", "this help (Esc closes)"),
        KeyBinding("q", "quit (asks when training is unsaved)"),
    ]

    /// Keys that steer training: unavailable while watching a run another process trains.
    public static let trainingKeys: Set<String> = ["space", "n", "+ / -", "s"]

    /// The bindings for a watched run (`convscope watch`): the training keys marked unavailable.
    public static let watchingBindings: [KeyBinding] = bindings.map { binding in
        trainingKeys.contains(binding.key) ? KeyBinding(binding.key, "unavailable: another process trains this run") : binding
    }
}
