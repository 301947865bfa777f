#!/usr/bin/env bash
# Runs fuzz targets of a QT_FUZZ build for a bounded time each, on their seed corpus (test/fuzz/corpus/<target>),
# their regression inputs (test/fuzz/regressions/<target>) and, when ../shared is present, its small model files.
#   test/fuzz/run_fuzzers.sh BUILD_DIR SECONDS [TARGET ...]     (default: every target, two at a time)
# Environment: QT_SHARED_DIR (default ../shared), FUZZ_JOBS (targets run at once, default nproc), FUZZ_RUNS (also
# stop after this many executions), FUZZ_NICE (nice level, default 0), FUZZ_KEEP_CORPUS=1 (keep
# BUILD_DIR/fuzz-corpus/<target> between runs).
# Limits of every run: -rss_limit_mb=1024 -malloc_limit_mb=1024 -timeout=10. A crash, leak, timeout or
# oversized allocation fails the script; its input is copied to test/fuzz/regressions/<target>/ (to commit).
# One summary line per target: executions, coverage (cov/ft), crashes.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [ $# -lt 2 ]; then sed -n '2,9p' "$0"; exit 2; fi
BUILD="$(cd "$1" && pwd)"
SECONDS_EACH="$2"
shift 2
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(fuzz_tnnproto fuzz_tnnmodel fuzz_caffe_prototxt fuzz_caffemodel fuzz_onnx fuzz_txt
                                      fuzz_npy fuzz_stats fuzz_model_run fuzz_image)
JOBS="${FUZZ_JOBS:-$(nproc)}"
SHARED="${QT_SHARED_DIR:-$(cd "$ROOT/.." && pwd)/shared}"
FUZZ_DIR="$ROOT/test/fuzz"
SEP=$'\n@@QTFUZZ-MODEL@@\n'  # keep in sync with fuzz_model_run.cc

dict_of() {
  case "$1" in
    fuzz_tnnproto|fuzz_model_run) echo "$FUZZ_DIR/tnnproto.dict" ;;
    fuzz_caffe_prototxt) echo "$FUZZ_DIR/caffe_prototxt.dict" ;;
    fuzz_onnx) echo "$FUZZ_DIR/onnx.dict" ;;
    fuzz_npy) echo "$FUZZ_DIR/npy.dict" ;;
  esac
}

# Model files of ../shared up to 256 KB (larger ones slow every mutation down) as extra seeds.
shared_seeds() {
  local t="$1" out="$2" f
  [ -d "$SHARED/models" ] || return 0
  small() { [ "$(stat -c %s "$1")" -le 262144 ]; }
  case "$t" in
    fuzz_tnnproto)
      find "$SHARED/models" -name '*.tnnproto' | while read -r f; do cp "$f" "$out/shared_$(basename "$f")"; done ;;
    fuzz_caffe_prototxt)
      find "$SHARED/models" -name '*.prototxt' | while read -r f; do cp "$f" "$out/shared_$(basename "$f")"; done ;;
    fuzz_onnx|fuzz_model_run)
      find "$SHARED/models" -name '*.onnx' | while read -r f; do small "$f" && cp "$f" "$out/shared_$(basename "$f")"; done
      if [ "$t" = fuzz_model_run ]; then
        find "$SHARED/models" -name '*.tnnproto' | while read -r f; do
          local m="${f%.tnnproto}.tnnmodel"
          if [ -f "$m" ] && small "$m"; then
            { cat "$f"; printf '%s' "$SEP"; cat "$m"; } > "$out/shared_$(basename "${f%.tnnproto}").tnn"
          fi
        done
      fi ;;
    fuzz_caffemodel)
      find "$SHARED/models" -name '*.caffemodel' | while read -r f; do small "$f" && cp "$f" "$out/shared_$(basename "$f")"; done ;;
  esac
  return 0
}

run_one() {
  local t="$1" exe="$BUILD/bin/$1"
  local corpus="$BUILD/fuzz-corpus/$t" artifacts="$BUILD/fuzz-artifacts/$t/" log="$BUILD/fuzz-logs/$t.log"
  if [ ! -x "$exe" ]; then echo "$t: $exe not built (a QT_FUZZ build)"; return 1; fi
  [ "${FUZZ_KEEP_CORPUS:-0}" = 1 ] || rm -rf "$corpus"
  rm -rf "$artifacts"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  cp "$FUZZ_DIR/corpus/$t/"* "$corpus/" 2>/dev/null
  [ -d "$FUZZ_DIR/regressions/$t" ] && cp "$FUZZ_DIR/regressions/$t/"* "$corpus/" 2>/dev/null
  shared_seeds "$t" "$corpus"
  local args=(-max_total_time="$SECONDS_EACH" -rss_limit_mb=1024 -malloc_limit_mb=1024 -timeout=10
              -print_final_stats=1 -artifact_prefix="$artifacts")
  [ -n "${FUZZ_RUNS:-}" ] && args+=(-runs="$FUZZ_RUNS")
  local dict
  dict="$(dict_of "$t")"
  [ -n "$dict" ] && args+=(-dict="$dict")
  local rc=0 start
  start="$(date +%s)"
  (cd "$BUILD" && nice -n "${FUZZ_NICE:-0}" "$exe" "${args[@]}" "$corpus" > "$log" 2>&1) || rc=$?
  local execs cov ft
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  cov="$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)"
  local found
  found="$(ls "$artifacts" 2>/dev/null | wc -l)"
  printf '%-20s %10s execs in %ss  %-22s  crashes/leaks/timeouts/ooms: %s  (log %s)\n' "$t" "${execs:-?}" \
         "$(( $(date +%s) - start ))" "${cov:-cov: ?}" "$found" "$log"
  if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
    mkdir -p "$FUZZ_DIR/regressions/$t"
    cp "$artifacts"* "$FUZZ_DIR/regressions/$t/" 2>/dev/null
    grep -m3 -E 'ERROR|SUMMARY|==[0-9]+==' "$log"
    echo "$t: FAILED (exit $rc); inputs copied to test/fuzz/regressions/$t/"
    return 1
  fi
  return 0
}

status=0
for t in "${TARGETS[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || status=1; done
  run_one "$t" &
done
while [ "$(jobs -rp | wc -l)" -gt 0 ]; do wait -n || status=1; done
wait || status=1
exit $status
