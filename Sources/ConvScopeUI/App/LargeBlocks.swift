#if canImport(Glibc)
import Glibc
#endif

/// Makes freed large blocks go back to the system at once, for a process that runs for hours.
///
/// glibc serves a block of 128 KB or more with its own mapping, but after such a block is freed it
/// raises that threshold (up to 32 MB) and its trim threshold (up to 64 MB) to the block's size: from
/// then on buffers of that size come from the arena of the thread that asks, and what is freed stays
/// resident, up to 64 MB per arena. The compression view's measurements run the model at batch 256
/// on whichever worker thread their queue is given, so the app's resident memory rose with every
/// thread that had run one, even with `malloc_trim`. A fixed threshold of 1 MB turns the adjustment
/// off. Training is not slowed: its buffers are reused from step to step, so it maps few more blocks.
/// The measurements are in docs/performance.md ("Memory").
enum LargeBlocks {
    /// Blocks from this size up get their own mapping, returned to the system when freed.
    static let threshold: Int32 = 1 << 20

    static func returnToTheSystemWhenFreed() {
        #if canImport(Glibc)
        // mallopt is declared in <malloc.h>, which the Glibc module leaves out: looked up instead
        // (a C library without it makes this a no-op). M_MMAP_THRESHOLD is -3.
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }  // RTLD_DEFAULT
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        _ = mallopt(-3, threshold)
        #endif
    }
}
