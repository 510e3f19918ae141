// OpenBLAS's single-precision matrix product rate: the ceiling for everything the engine lowers to sgemm.
// Times C = A B for N x N matrices (default 1024), best of 10 after a warm-up, and prints GFLOP/s.
//
//   cc -O2 bench/sgemm-rate.c $(pkg-config --cflags --libs openblas) -o /tmp/sgemm-rate
//   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=2 /tmp/sgemm-rate [N]
//
// docs/results.md quotes a program like this one for the rate on both cores and on one
// (OPENBLAS_NUM_THREADS=1); the kernel OpenBLAS chose is printed with the result.
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

char *openblas_get_corename(void);

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 1024;
    if (n < 1 || n > 16384) {
        fprintf(stderr, "N must be 1...16384, not '%s'\n", argv[1]);
        return 2;
    }
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n), *c = malloc(sizeof(float) * n * n);
    if (!a || !b || !c) {
        fprintf(stderr, "cannot allocate three %d x %d matrices\n", n, n);
        return 1;
    }
    for (long i = 0; i < (long)n * n; i++) {
        a[i] = (float)(i % 7) - 3;
        b[i] = (float)(i % 5) - 2;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
    double best = 1e30;
    for (int round = 0; round < 10; round++) {
        double start = seconds();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
        double took = seconds() - start;
        if (took < best) best = took;
    }
    printf("sgemm %d x %d x %d: %.1f GFLOP/s (best of 10, %d threads, OpenBLAS kernel %s)\n", n, n, n,
           2.0 * n * n * n / best * 1e-9, openblas_get_num_threads(), openblas_get_corename());
    free(a);
    free(b);
    free(c);
    return 0;
}
