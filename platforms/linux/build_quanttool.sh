#!/usr/bin/env bash
# Builds the quantization tools (Release) into build/, every tool in build/bin/.
#   platforms/linux/build_quanttool.sh          install missing Debian packages, configure, build
#   platforms/linux/build_quanttool.sh --test   ... then run the whole test suite with ctest, then the robustness
#                                               stage: an ASan+UBSan clang build of the unit tests and the fuzz
#                                               targets in BUILD_DIR-sanitize, its unit tests, and every fuzz target
#                                               for QT_FUZZ_SECONDS (default 30) on its corpus (doc/robustness.md)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
RUN_TESTS=0
for arg in "$@"; do
  case "$arg" in
    --test) RUN_TESTS=1 ;;
    -h|--help) sed -n '2,4p' "$0"; exit 0 ;;
    *) echo "build_quanttool.sh: unknown option '$arg'" >&2; exit 2 ;;
  esac
done

# The Debian packages the build and the tests need (DEVELOPERS.md explains each).
PACKAGES=(cmake g++ make libeigen3-dev libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev libjpeg-dev libpng-dev
          libprotobuf-dev protobuf-compiler libgflags-dev libgtest-dev libgmock-dev libonnx-dev
          libonnx-testdata python3 python3-numpy python3-opencv python3-onnx chromium)
# The robustness stage of --test: clang with Debian's compiler-rt (ASan, UBSan, libFuzzer).
[ "$RUN_TESTS" -eq 1 ] && PACKAGES+=(clang libclang-rt-dev)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing missing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

JOBS="$(nproc)"
cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release
cmake --build "$BUILD_DIR" -j "$JOBS"

if [ "$RUN_TESTS" -eq 1 ]; then
  (cd "$BUILD_DIR" && ctest --output-on-failure -j "$JOBS")

  # Robustness: the self-contained tests (and the replay of the fuzz corpora and regression inputs) under
  # AddressSanitizer and UndefinedBehaviorSanitizer, then each fuzz target for a bounded time.
  SAN_DIR="$BUILD_DIR-sanitize"
  echo "== ASan+UBSan build of the unit tests and fuzz targets in $SAN_DIR"
  cmake -S "$ROOT" -B "$SAN_DIR" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ -DQT_FUZZ=ON \
        -DCMAKE_CXX_FLAGS_RELEASE="-O1 -gline-tables-only" > /dev/null
  cmake --build "$SAN_DIR" -j "$JOBS" --target unit_tests fuzz_targets
  (cd "$SAN_DIR" && ctest --output-on-failure -j "$JOBS" -L unit)
  echo "== fuzz targets, ${QT_FUZZ_SECONDS:-30} s each"
  "$ROOT/test/fuzz/run_fuzzers.sh" "$SAN_DIR" "${QT_FUZZ_SECONDS:-30}"
fi
