import CCleanup

/// Gives the system back what a finished one-off job freed.
///
/// Called by the app's workers after a job whose buffers peak far above the app's steady size (an
/// explanation, a compression measurement, a learning-rate test, an export): without it the app's
/// resident size stays at the highest peak any of them reached, which the soak read as growth
/// (docs/reliability.md#soak).
public enum FreedMemory {
    public static func release() {
        ccleanup_release_free_memory()
    }
}
