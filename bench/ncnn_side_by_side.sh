#!/usr/bin/env bash
# Per-image latency of our engine (quant_bench) against ncnn's benchncnn on the same architectures, side by side:
# each round runs, per model and thread count, benchncnn (min and avg of its loops) right before quant_bench (min
# and median of its runs), fp32 then int8. ncnn is not part of this repository: pass a Release benchncnn built
# elsewhere and a folder with its params (ncnn's benchmark/models, plus any param made with onnx2ncnn/ncnn2int8
# named in the MODELS table below). benchncnn runs with random weights, as its own benchmark does.
#   bench/ncnn_side_by_side.sh BENCHNCNN NCNN_PARAM_DIR [build/bin] [../shared] [rounds] [threads] [loops]
# Our int8 models: SqueezeNet is TNN's own quantization (../shared/golden), the others are quantized here with the
# default flags on their calibration folder (bench/zoo_models.py's folders and preprocessing).
set -euo pipefail
BENCHNCNN=${1:?benchncnn binary}
PARAMS=${2:?folder of ncnn params}
BIN=${3:-build/bin}
SHARED=${4:-../shared}
ROUNDS=${5:-3}
THREADS=${6:-"1 2"}
LOOPS=${7:-20}
BENCHNCNN=$(realpath "$BENCHNCNN")
PARAMS=$(realpath "$PARAMS")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
Z=$SHARED/models/zoo
FACE=(-n 127.5,127.5,127.5 -s 0.00784314,0.00784314,0.00784314)
UF=(-n 127,127,127 -s 0.0078125,0.0078125,0.0078125)

# name | ncnn fp32 param | ncnn int8 param ("-": none) | ncnn shape | our fp32 model (-p[,-m]) | calibration folder
MODELS=(
  "squeezenet|squeezenet.param|squeezenet_int8.param|[227,227,3]|$SHARED/models/squeezenet_v1.1/squeezenet_v1.1.tnnproto,$SHARED/models/squeezenet_v1.1/squeezenet_v1.1.tnnmodel|golden"
  "mobilenet_v2|mobilenet_v2.param|mobilenet_v2_int8.param|[224,224,3]|$Z/mobilenet_v2_tf2/tf2_mobilenet_v2_1.0_224_ptq.dequant.opset13.onnx|$SHARED/data/imagenet_calib"
  "blazeface|blazeface.param|blazeface_int8.param|[128,128,3]|$Z/tnn_blazeface/blazeface.tnnproto,$Z/tnn_blazeface/blazeface.tnnmodel|$SHARED/data/faces/calib"
  "ultraface_rfb320|version-RFB-320.param|version-RFB-320_int8.param|[320,240,3]|$Z/ultraface_onnx/version-RFB-320_simplified.onnx|$SHARED/data/faces/calib"
)

prepare() {  # name fp32 calib -> sets OURS_FP32 and OURS_INT8 (arrays of flags)
  local name=$1 fp32=$2 calib=$3
  IFS=, read -r proto weights <<< "$fp32"
  # quant_bench's -m defaults to SqueezeNet's weights: an ONNX model (one file) needs it emptied.
  OURS_FP32=(-p "$proto" -m "$weights")
  if [ "$calib" = golden ]; then
    OURS_INT8=(--int8_proto "$SHARED/golden/squeezenet_v1.1/expected/b0w0t1.quantized.tnnproto"
               --int8_model "$SHARED/golden/squeezenet_v1.1/expected/b0w0t1.quantized.tnnmodel")
    return
  fi
  local pre=("${FACE[@]}")
  [ "$name" = ultraface_rfb320 ] && pre=("${UF[@]}")
  if [ ! -f "$TMP/$name.quantized.tnnproto" ]; then
    "$BIN/quantization_cmd" "${OURS_FP32[@]}" -i "$calib" "${pre[@]}" --report 0 -o "$TMP/$name" > /dev/null 2>&1
  fi
  OURS_INT8=(--int8_proto "$TMP/$name.quantized.tnnproto" --int8_model "$TMP/$name.quantized.tnnmodel")
}

ncnn_min_avg() {  # param shape threads -> "min avg"
  [ -f "$PARAMS/$1" ] || { echo "- -"; return; }
  "$BENCHNCNN" "$LOOPS" "$3" 0 -1 0 "param=$PARAMS/$1" "shape=$2" 2>&1 |
    awk '/min =/ { for (i = 1; i <= NF; ++i) { if ($i == "min") m = $(i + 2); if ($i == "avg") a = $(i + 2) } }
         END { print (m == "" ? "-" : m), (a == "" ? "-" : a) }'
}

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "benchncnn: $LOOPS loops, min (avg); quant_bench: $((LOOPS * 2)) runs, min (median); ms per image"
printf '%-6s %-17s %-3s | %-17s %-17s | %-17s %-17s\n' round model thr "ncnn fp32" "ours fp32" "ncnn int8" "ours int8"
for round in $(seq "$ROUNDS"); do
  for entry in "${MODELS[@]}"; do
    IFS='|' read -r name nparam nint8 shape fp32 calib <<< "$entry"
    prepare "$name" "$fp32" "$calib"
    for t in $THREADS; do
      read -r nf_min nf_avg <<< "$(ncnn_min_avg "$nparam" "$shape" "$t")"
      read -r ni_min ni_avg <<< "$(ncnn_min_avg "$nint8" "$shape" "$t")"
      "$BIN/quant_bench" "${OURS_FP32[@]}" "${OURS_INT8[@]}" -i "" --threads "$t" --runs $((LOOPS * 2)) \
        > "$TMP/qb.txt" 2>&1
      # quant_bench's latency line: threads, fp32 median / min, int8 median / min, ratio
      read -r of_med of_min oi_med oi_min <<< "$(awk '/^latency per image/ { on = 1; next }
        on && $1 ~ /^[0-9]+$/ { print $2, $4, $5, $7; exit }' "$TMP/qb.txt")"
      printf '%-6s %-17s %-3s | %-17s %-17s | %-17s %-17s\n' "$round" "$name" "$t" "$nf_min ($nf_avg)" \
        "$of_min ($of_med)" "$ni_min ($ni_avg)" "$oi_min ($oi_med)"
    done
  done
done
