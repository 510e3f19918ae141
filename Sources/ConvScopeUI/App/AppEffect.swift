import ConvKit

/// Something a key asks the app to do outside its own state: steer the training session, write
/// files, measure compressed copies, or leave. `AppModel` returns these; the event loop
/// (`TerminalApp`) carries them out.
public enum AppEffect: Sendable, Equatable {
    /// Pause a running session, resume a paused one.
    case togglePause
    /// One training step (while paused).
    case step
    /// Multiply the learning rate on top of its schedule.
    case scaleLearningRate(Float)
    /// Save a checkpoint to the session's checkpoint path.
    case save
    /// Pause, then save; the model quits once the save is confirmed (see `AppModel.observe`).
    case saveAndQuit
    /// Stop training and give the terminal back.
    case quit
    /// Write the current heatmap or grid to a PNG in the export folder.
    case export(ExportKind)
    /// Compress a copy of the current weights and measure it (the compression view's p, P, i).
    case compress(CompressionMethod)
    /// Write the newest compressed model to a checkpoint in the export folder (w).
    case writeCompressed
    /// Repaint every cell (Ctrl-L).
    case repaint
    /// Run the learning-rate range test on a copy of the weights (`L`), or cancel it.
    case findLearningRate
    case cancelLearningRateSearch
}

/// What `e` and `E` write.
public enum ExportKind: Sendable, Equatable {
    /// Image | heatmap | overlay of the current class-activation map.
    case heatmap
    /// The selected layer's feature maps, and its filters when it is a convolution.
    case grid
    /// The explanation board: the image and every map shown, each captioned with its deletion and insertion
    /// scores, and the sanity curve under them.
    case explanations
    /// The features view's grid of synthesised inputs (feature visualisation by optimisation).
    case visualization
}
