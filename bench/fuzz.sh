#!/usr/bin/env bash
# Long fuzz campaign of one target (doc/robustness.md):
#   bench/fuzz.sh TARGET SECONDS        e.g. bench/fuzz.sh fuzz_onnx 3600
# Builds the libFuzzer targets (clang, ASan+UBSan) into build-fuzz/ (FUZZ_BUILD_DIR) when needed, then runs
# TARGET at nice 15 with -rss_limit_mb=1024 -malloc_limit_mb=1024 -timeout=10 on a corpus kept between runs in
# build-fuzz/fuzz-corpus/TARGET. FUZZ_RUNS=N also stops after N executions. Prints executions, cov/ft and the
# findings; a crash's input lands in test/fuzz/regressions/TARGET/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ $# -ne 2 ]; then sed -n '2,7p' "$0"; exit 2; fi
BUILD="${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ -DQT_FUZZ=ON \
        -DCMAKE_CXX_FLAGS_RELEASE="-O1 -gline-tables-only" > /dev/null
fi
nice -n 10 cmake --build "$BUILD" -j "$(nproc)" --target "$1" > /dev/null
FUZZ_NICE="${FUZZ_NICE:-15}" FUZZ_KEEP_CORPUS=1 FUZZ_JOBS=1 exec "$ROOT/test/fuzz/run_fuzzers.sh" "$BUILD" "$2" "$1"
