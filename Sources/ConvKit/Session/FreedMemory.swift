#if canImport(Glibc)
import Glibc
#endif

/// Hands memory that a large, finished piece of work freed back to the system.
///
/// glibc keeps freed blocks for reuse in the arena of the thread that freed them, and after a large
/// block is freed it raises its mmap threshold, so later buffers of that size come from the arena
/// too and stay resident when freed. A compression measurement runs the model at batch 256 (about
/// 150 MB of activations for the tiny preset) on whichever worker thread the lab's queue is given,
/// so without a trim each arena it visits keeps that much: in a soak of the app its resident memory
/// climbed from 160 MB to 330 MB and more as the compression view was used. `malloc_trim` returns
/// the free pages of every arena; it takes milliseconds, once per measurement.
enum FreedMemory {
    static func release() {
        #if canImport(Glibc)
        // glibc's <malloc.h> is not part of the Glibc module: look the function up instead (another
        // C library without it makes this a no-op).
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }  // RTLD_DEFAULT
        let trim = unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
        _ = trim(0)
        #endif
    }
}
