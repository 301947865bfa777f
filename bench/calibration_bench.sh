#!/usr/bin/env bash
# Calibration speed of quantization_cmd on SqueezeNet v1.1 and the 200 images of ../shared/data/imagenet_calib:
# wall time, inputs/s and peak memory at 1 and 2 threads for both kinds of parallelism, then re-runs from saved
# statistics with other methods. With NCNN2TABLE=<ncnn2table> and NCNN_PARAM_DIR=<dir with squeezenet_v1.1-opt.param
# and .bin> and/or TNN_QUANTIZATION_CMD=<TNN's quantization_cmd> set, the peers run in the same loop, side by side.
# Each round also times our default flags (reported apart: -b auto scores candidates with extra forward passes) and,
# when NCNN_PARAM_DIR holds mobilenet_v2_r.param/.bin (benchncnn's mobilenet_v2 with weights from
# `ncnnoptimize mobilenet_v2.param null ...`: the same 1.0/224 architecture), MobileNetV2 on the same images, ours
# on ../shared's ONNX MobileNetV2.
#   bench/calibration_bench.sh [build/bin] [../shared] [rounds]
set -euo pipefail
BIN=${1:-build/bin}
SHARED=${2:-../shared}
ROUNDS=${3:-3}
M=$SHARED/models/squeezenet_v1.1
CALIB=$SHARED/data/imagenet_calib
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ours=(-p "$M/squeezenet_v1.1.tnnproto" -m "$M/squeezenet_v1.1.tnnmodel" -i "$CALIB" -r 1 -n 104,117,123)
MV2=$SHARED/models/zoo/mobilenet_v2_tf2/tf2_mobilenet_v2_1.0_224_ptq.dequant.opset13.onnx
mv2=(-p "$MV2" -i "$CALIB" -n 127.5,127.5,127.5 -s 0.00784314,0.00784314,0.00784314)

now() { date +%s.%N; }
wall() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
summary() { grep '^wrote' "$1" | sed 's/.* in /  /'; }

echo "SqueezeNet v1.1, $(ls "$CALIB" | wc -l) calibration images, -b 2 -w 1 -t 1"
for round in $(seq "$ROUNDS"); do
  for mode in images kernels; do
    for threads in 1 2; do
      t0=$(now)
      "$BIN/quantization_cmd" "${ours[@]}" -b 2 -w 1 -t 1 --threads "$threads" --calib_parallel "$mode" \
        -o "$TMP/q" 2> "$TMP/log"
      t1=$(now)
      echo "round $round  ours  --calib_parallel $mode --threads $threads: $(wall "$t0" "$t1") s wall$(summary "$TMP/log")"
    done
  done
  if [ -n "${NCNN2TABLE:-}" ]; then
    ls -1 "$CALIB"/* | sort > "$TMP/list.txt"
    t0=$(now)
    "$NCNN2TABLE" "$NCNN_PARAM_DIR/squeezenet_v1.1-opt.param" "$NCNN_PARAM_DIR/squeezenet_v1.1-opt.bin" "$TMP/list.txt" \
      "$TMP/ncnn.table" mean=[104,117,123] norm=[1,1,1] shape=[227,227,3] pixel=BGR thread=2 method=kl > /dev/null 2>&1
    t1=$(now)
    echo "round $round  ncnn2table method=kl thread=2: $(wall "$t0" "$t1") s wall"
  fi
  t0=$(now)
  "$BIN/quantization_cmd" "${ours[@]}" --threads 2 -o "$TMP/q" 2> "$TMP/log"
  t1=$(now)
  echo "round $round  ours  default flags --threads 2: $(wall "$t0" "$t1") s wall$(summary "$TMP/log")"
  if [ -n "${NCNN2TABLE:-}" ] && [ -f "${NCNN_PARAM_DIR:-}/mobilenet_v2_r.param" ]; then
    t0=$(now)
    "$NCNN2TABLE" "$NCNN_PARAM_DIR/mobilenet_v2_r.param" "$NCNN_PARAM_DIR/mobilenet_v2_r.bin" "$TMP/list.txt" \
      "$TMP/mv2.table" mean=[127.5,127.5,127.5] norm=[0.00784314,0.00784314,0.00784314] shape=[224,224,3] \
      pixel=RGB thread=2 method=kl > /dev/null 2>&1
    t1=$(now)
    echo "round $round  MobileNetV2  ncnn2table method=kl thread=2: $(wall "$t0" "$t1") s wall"
    for flags in "-b 2 -w 1 -t 1" ""; do
      t0=$(now)
      # shellcheck disable=SC2086
      "$BIN/quantization_cmd" "${mv2[@]}" $flags --threads 2 -o "$TMP/m" 2> "$TMP/log"
      t1=$(now)
      echo "round $round  MobileNetV2  ours ${flags:-default flags} --threads 2: $(wall "$t0" "$t1") s wall$(summary "$TMP/log")"
    done
  fi
done
if [ -n "${TNN_QUANTIZATION_CMD:-}" ]; then
  t0=$(now)
  "$TNN_QUANTIZATION_CMD" -p "$M/squeezenet_v1.1.tnnproto" -m "$M/squeezenet_v1.1.tnnmodel" -i "$CALIB" -b 2 -w 1 -t 1 \
    -r 1 -n 104,117,123 -s 1,1,1 -o "$TMP/tnn" > /dev/null 2>&1
  t1=$(now)
  echo "TNN quantization_cmd -b 2 -w 1 -t 1: $(wall "$t0" "$t1") s wall"
fi

echo "re-runs from saved statistics (--stats), 2 threads:"
"$BIN/quantization_cmd" "${ours[@]}" --stats "$TMP/calib.stats" --report 0 -o "$TMP/s" 2> "$TMP/log"
echo "  collecting them: $(summary "$TMP/log")"
for flags in "-b 0 -w 0 -t 1" "-b 2 -w 1 -t 1" "-b 6 -w 1 -t 1" "-b 4 -w 0 -t 2" "-b 2 -w 0 -t 0"; do
  t0=$(now)
  # shellcheck disable=SC2086
  "$BIN/quantization_cmd" "${ours[@]}" --stats "$TMP/calib.stats" $flags -o "$TMP/s" 2> "$TMP/log"
  t1=$(now)
  echo "  $flags: $(wall "$t0" "$t1") s wall$(summary "$TMP/log")"
done
