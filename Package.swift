// swift-tools-version:6.0
// ConvScope: train a convolutional network on CIFAR-10 in the terminal and watch it learn.
import PackageDescription

let package = Package(
    name: "ConvScope",
    products: [
        .executable(name: "convscope", targets: ["convscope"]),
        .library(name: "ConvKit", targets: ["ConvKit"]),
        .library(name: "ConvPresent", targets: ["ConvPresent"]),
        .library(name: "ConvRender", targets: ["ConvRender"]),
        .library(name: "ConvScopeUI", targets: ["ConvScopeUI"]),
    ],
    dependencies: [
        // Subcommands, help text and exit codes for the `convscope` command line.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries, each a module map plus a shim header of `static inline` wrappers.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CCurses", providers: [.apt(["libncurses-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),

        // The engine's hot loops in C: convolutions (direct and Winograd), pooling, GELU, and the int8 and
        // bf16 matrix products. The float kernels are compiled once per instruction-set path (portable, AVX2,
        // AVX-512); the int8 product has an AVX2 and a portable version, the bf16 product needs avx512_bf16.
        // dispatch.c picks the path once, from the CPU and CONVSCOPE_KERNELS, and a convolution keeps the
        // kernels of the path its ConvolutionPlan was made on. Built at SwiftPM's release level (-O2), without
        // unsafe flags, so that other packages can depend on the library products: the kernels are written so
        // that -O2 unrolls what matters, and -O3 is 1-2% faster (docs/performance.md, "Build flags").
        .target(name: "CKernels"),

        // Async-signal-safe cleanup: the registry of temporary files that signal handlers delete, and the
        // command line's interrupt handlers (compiled once, so its state is single).
        .target(name: "CCleanup"),

        // The engine: tensors, layers, models, training, data, interpretation, compression, file formats.
        // Built with Swift's checks on: its hot loops are in CKernels and OpenBLAS, and the parsers of
        // untrusted files here keep their bounds and overflow checks (docs/performance.md).
        .target(name: "ConvKit", dependencies: ["CBLAS", "CKernels", "CCleanup"]),
        // The presentation layer the app and the command line share: how the engine's values and events are
        // worded for people (status lines, divergences, tables, numbers, durations).
        .target(name: "ConvPresent", dependencies: ["ConvKit"]),
        // The pictures the app and the command line share: the engine's maps, filters and curves coloured,
        // labelled and laid out (font, colormaps, charts), and the PNG codec, the one module linking libpng.
        .target(name: "ConvRender", dependencies: ["ConvKit", "CPNG"]),
        // The terminal app: renders engine snapshots into a cell grid and blits it with curses.
        .target(name: "ConvScopeUI", dependencies: ["ConvKit", "ConvPresent", "ConvRender", "CCurses", "CTerminal"]),
        // Async-signal-safe terminal restoration (signal handlers), compiled once so its state is single.
        .target(name: "CTerminal", dependencies: ["CCurses", "CCleanup"]),
        // The thin command line over both.
        .executableTarget(
            name: "convscope",
            dependencies: [
                "ConvKit", "ConvPresent", "ConvRender", "ConvScopeUI", "CCleanup",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // What the test targets share: skips with a reason CI's strict mode can judge, the one way to find a
        // Python with torch, and the check that the end-to-end tests drive a current binary.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "ConvKitTests", dependencies: ["ConvKit", "CCleanup", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "ConvPresentTests", dependencies: ["ConvPresent", "ConvKit"]),
        .testTarget(name: "ConvRenderTests", dependencies: ["ConvRender", "ConvKit", "CPNG", "TestSupport"]),
        .testTarget(name: "ConvScopeUITests", dependencies: ["ConvScopeUI", "ConvPresent", "ConvRender", "ConvKit", "TestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["ConvKit", "ConvRender", "ConvScopeUI", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
