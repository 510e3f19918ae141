#!/usr/bin/env bash
# Builds and runs ConvScope's libFuzzer harnesses (Fuzz/Harnesses) against the parsers in ConvKit and the
# PNG decoder in ConvRender.
#
#   Fuzz/fuzz.sh build [release|smoke]     build .build-fuzz/<mode>/convscope-fuzz and its fuzz-<harness> links
#   Fuzz/fuzz.sh run [release|smoke] SECONDS [HARNESS...]
#                                          fuzz each harness for SECONDS (all harnesses by default), one at a time
#   Fuzz/fuzz.sh smoke [BUDGET]            CI: build smoke, then share what is left of BUDGET s (115) among them
#
# release builds with -O (fast executions, for long runs); smoke with -Onone (about a third of the build
# time, for CI). Both keep Swift's overflow and bounds checks and add AddressSanitizer. The ConvKit sources,
# ConvRender's PNG codec (Sources/ConvRender/PNG, with FUZZ_IN_CONVKIT: its module is then ConvKit) and the
# harnesses are compiled as one module, so harnesses reach internal parsers; the C kernels are compiled
# without instrumentation (the parsers do not use them).
#
# Runs read the seeds in Fuzz/corpus/<harness> (never written) and the dictionary Fuzz/dict/<harness>.dict
# when there is one, and keep what they learn in .build-fuzz/corpus/<harness>; crashes, leaks, timeouts and
# out-of-memory inputs land in .build-fuzz/artifacts/<harness>/. Limits: 2 GB resident, 512 MB in one
# allocation, 10 s per input (60 s in the unoptimised smoke build).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
out_root="$root/.build-fuzz"
harnesses=(safetensors metadata metrics spec png cifar10 json history)

build() {
    local mode="${1:-release}" optimization
    case "$mode" in
        release) optimization=-O ;;
        smoke) optimization=-Onone ;;
        *) echo "fuzz.sh: unknown build mode '$mode' (release or smoke)" >&2; exit 2 ;;
    esac
    local out="$out_root/$mode"
    # The package's C targets (the kernels, the signal-time cleanup), each with a module map as SwiftPM makes one.
    local c_targets=(CKernels CCleanup) target header
    mkdir -p "$out/cobjects" "$out/modulemap"
    : >"$out/modulemap/module.modulemap"
    for target in "${c_targets[@]}"; do
        header=$(find "Sources/$target/include" -name '*.h' | head -n 1)
        printf 'module %s {\n    header "%s/%s"\n    export *\n}\n' "$target" "$root" "$header" >>"$out/modulemap/module.modulemap"
        for source in "Sources/$target"/*.c; do
            clang -O2 -fPIC -I"Sources/$target/include" -c "$source" -o "$out/cobjects/$target-$(basename "$source" .c).o" &
        done
    done
    wait
    local blas_cflags blas_libs png_cflags
    blas_cflags=$(pkg-config --cflags openblas)
    blas_libs=$(pkg-config --libs-only-L openblas)
    png_cflags=$(pkg-config --cflags libpng)
    # shellcheck disable=SC2046,SC2086
    swiftc "$optimization" -wmo -num-threads 2 -parse-as-library -swift-version 6 -module-name ConvKit -D FUZZ_IN_CONVKIT \
        -sanitize=fuzzer,address \
        -Xcc -fmodule-map-file=Sources/CBLAS/module.modulemap -Xcc -fmodule-map-file=Sources/CPNG/module.modulemap \
        -Xcc -fmodule-map-file="$out/modulemap/module.modulemap" -I Sources/CKernels/include -I Sources/CCleanup/include \
        $blas_cflags $png_cflags $blas_libs \
        $(find Sources/ConvKit Sources/ConvRender/PNG Fuzz/Harnesses -name '*.swift' | sort) "$out"/cobjects/*.o \
        -o "$out/convscope-fuzz" 2>&1 |
        { grep -v "ld.gold: warning: Cannot export local symbol" || true; }
    [ -x "$out/convscope-fuzz" ] || { echo "fuzz.sh: the build failed" >&2; exit 1; }
    for name in "${harnesses[@]}"; do ln -sf convscope-fuzz "$out/fuzz-$name"; done
}

run() {
    local mode="${1:-release}" seconds="${2:-180}"
    shift 2 || true
    local chosen=("$@")
    [ ${#chosen[@]} -gt 0 ] || chosen=("${harnesses[@]}")
    # -Onone is several times slower than -O: the smoke allows more before calling an input a hang.
    local out="$out_root/$mode" failed=0 timeout=10
    [ "$mode" = smoke ] && timeout=60
    printf '%-12s %10s %8s %7s %7s %7s  %s\n' harness executions exec/s cov ft corpus result
    for name in "${chosen[@]}"; do
        [ -d "Fuzz/corpus/$name" ] || { echo "fuzz.sh: no harness '$name' (Fuzz/corpus/$name is missing)" >&2; exit 2; }
        mkdir -p "$out_root/corpus/$name" "$out_root/artifacts/$name"
        local log="$out_root/artifacts/$name/last-run.log" status=0 dict=()
        [ -f "Fuzz/dict/$name.dict" ] && dict=(-dict="Fuzz/dict/$name.dict")
        # Swift's own backtracer would hold the crashing process for many seconds; libFuzzer reports crashes.
        SWIFT_BACKTRACE=enable=no ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=0" \
            "$out/fuzz-$name" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout="$timeout" \
            -max_len=65536 -print_final_stats=1 "${dict[@]}" -artifact_prefix="$out_root/artifacts/$name/" \
            "$out_root/corpus/$name" "Fuzz/corpus/$name" >"$log" 2>&1 || status=$?
        local runs rate cov ft corpus result
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
        ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
        corpus=$(grep -o 'corp: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
        if [ "$status" = 0 ]; then
            result="ok"
        else
            failed=1
            result="FAILED (exit $status): $(grep -m1 -E '^(==[0-9]+==ERROR|SUMMARY|.*Fatal error)' "$log" || echo 'see the log') -- $log"
        fi
        printf '%-12s %10s %8s %7s %7s %7s  %s\n' "$name" "${runs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corpus:-?}" "$result"
    done
    return $failed
}

# CI's smoke: the smoke build, then every harness for an equal share of what is left of BUDGET seconds (115
# by default, so the whole takes under 2 minutes however long the build took), at least 2 s each.
smoke() {
    local budget="${1:-115}" start=$SECONDS
    build smoke
    local left=$((budget - (SECONDS - start)))
    # About 1.5 s a harness goes to starting up and replaying the corpus.
    local each=$(((left * 2 - 3 * ${#harnesses[@]}) / (2 * ${#harnesses[@]})))
    [ "$each" -ge 2 ] || each=2
    echo "fuzz.sh: built in $((SECONDS - start)) s; $each s per harness"
    run smoke "$each"
}

command="${1:-}"
shift || true
case "$command" in
    build) build "$@" ;;
    run) run "$@" ;;
    smoke) smoke "$@" ;;
    *) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
