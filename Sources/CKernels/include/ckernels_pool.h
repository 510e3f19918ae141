// A persistent pool of worker threads for ConvScope's parallel loops (Parallel.forEach in ConvKit).
#ifndef CKERNELS_POOL_H
#define CKERNELS_POOL_H

#include <stddef.h>

/// One iteration of a pooled loop: `index` in 0..<iterations, `context` as given to ckernels_pool_run.
typedef void (*ckernels_pool_body)(void *context, long index);

/// Starts `threads` worker threads (once per process; later calls return the first call's result).
/// Returns how many threads the pool has (0 when `threads` < 1 or none could be created).
int ckernels_pool_start(int threads);

/// Runs body(context, i) for every i in 0..<iterations exactly once, on the calling thread and the pool's
/// workers, and returns 1 after every iteration has finished. Everything the caller wrote before the call
/// is visible to the iterations, and everything the iterations wrote is visible to the caller afterwards.
/// Returns 0 without running anything when the pool is in use by another loop (a concurrent caller, or a
/// loop nested in a pooled iteration) or was not started: the caller then runs the loop another way.
int ckernels_pool_run(long iterations, ckernels_pool_body body, void *context);

#endif
