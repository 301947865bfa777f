#!/usr/bin/env python3
"""UltraFace's ONNX exports through the tools, against OpenCV dnn (an fp32 engine nobody here wrote).

The six files of models/zoo/ultraface_onnx (RFB-320 and slim-320: the plain exports, which decode the boxes in the
graph with Slice, Mul, Add, Exp, Concat on run-time tensors; the _simplified and _without_postprocessing ones)
run in build/bin/model_run on two face images, with the zoo's preprocessing (RGB, minus 127, times 0.0078125,
1x3x240x320). Each output must agree with cv2.dnn.readNetFromONNX within 1e-3 of that output's range
(max - min of OpenCV's values). Then quantization_cmd quantizes the plain RFB-320 file with default flags on 8
calibration images; the int8 model must run in model_run with finite outputs of the same dims, quantized
convolutions, and the box-decoding layers (every layer from the first StridedSliceV2 on: Slice, Mul, Add, Exp,
Sub, Div, Concat) float.
Exits 77 (ctest's skip code) with a message when the shared folder or python3-opencv/numpy is absent.
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_setup import bin_and_shared_args, opencv_and_folder  # noqa: E402
from model_outputs import read_outputs  # noqa: E402

MODELS = ['version-RFB-320', 'version-slim-320', 'version-RFB-320_simplified', 'version-slim-320_simplified',
          'version-RFB-320_without_postprocessing', 'version-slim-320_without_postprocessing']
FLAGS = ['-n', '127,127,127', '-s', '0.0078125,0.0078125,0.0078125']


def run(bin_dir, tool, args):
    return subprocess.run([os.path.join(bin_dir, tool)] + args, capture_output=True, text=True)


def opencv_outputs(cv2, np, onnx, image):
    net = cv2.dnn.readNetFromONNX(onnx)
    img = cv2.imread(image, cv2.IMREAD_COLOR)
    img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    if img.shape[:2] != (240, 320):
        img = cv2.resize(img, (320, 240), interpolation=cv2.INTER_LINEAR)
    x = (img.astype(np.float32).transpose(2, 0, 1)[None] - 127.0) * 0.0078125
    net.setInput(x)
    names = net.getUnconnectedOutLayersNames()
    return dict(zip(names, net.forward(names)))


def compare(args, cv2, np, images, tmp):
    failures = 0
    for model in MODELS:
        onnx = os.path.join(args.shared, 'models', 'zoo', 'ultraface_onnx', model + '.onnx')
        worst = {}
        for image in images:
            out = os.path.join(tmp, 'out.txt')
            r = run(args.bin, 'model_run', ['-p', onnx, '-i', image, '-o', out] + FLAGS)
            if r.returncode != 0:
                print(f'FAIL {model}: model_run failed: {r.stderr.strip()}')
                failures += 1
                break
            ours = read_outputs(out)
            ref = opencv_outputs(cv2, np, onnx, image)
            if sorted(ours) != sorted(ref):
                print(f'FAIL {model}: outputs {sorted(ours)}, OpenCV has {sorted(ref)}')
                failures += 1
                break
            for name, blob in ours.items():
                want = ref[name]
                got = np.array(blob['values'], dtype=np.float32)
                if list(want.shape) != blob['dims'] or got.size != want.size:
                    print(f'FAIL {model}: {name} dims {blob["dims"]}, OpenCV {list(want.shape)}')
                    failures += 1
                    continue
                want = want.flatten()
                span = float(want.max() - want.min())
                diff = float(np.abs(got - want).max())
                prev = worst.get(name, (0.0, span))
                worst[name] = (max(prev[0], diff), max(prev[1], span))
        for name, (diff, span) in sorted(worst.items()):
            ok = diff <= 1e-3 * span
            failures += 0 if ok else 1
            print(f'{"ok  " if ok else "FAIL"} {model}: {name} max|ours - opencv| {diff:.3g} '
                  f'(range {span:.3g}, bound 1e-3 of it: {1e-3 * span:.3g}) over {len(images)} images')
    return failures


def quantize(args, np, calib, images, tmp):
    failures = 0

    def check(ok, what):
        nonlocal failures
        print(('ok   ' if ok else 'FAIL ') + what)
        failures += 0 if ok else 1

    onnx = os.path.join(args.shared, 'models', 'zoo', 'ultraface_onnx', 'version-RFB-320.onnx')
    prefix = os.path.join(tmp, 'rfb')
    r = run(args.bin, 'quantization_cmd', ['-p', onnx, '-i', calib, '-o', prefix] + FLAGS)
    proto, model = prefix + '.quantized.tnnproto', prefix + '.quantized.tnnmodel'
    check(r.returncode == 0 and os.path.exists(proto) and os.path.exists(model),
          'quantization_cmd -p version-RFB-320.onnx (default flags, 8 images) writes a TNN int8 model: ' +
          (r.stderr.strip().split('\n')[-1] if r.stderr.strip() else 'exit 0'))
    if not os.path.exists(proto):
        return failures
    with open(proto) as f:
        layers = [line.strip().strip('"').split() for line in f if line.startswith('"') and ',' in line]
    types = [l[0] for l in layers if l]
    check(types.count('QuantizedConvolution') > 0, f'{types.count("QuantizedConvolution")} quantized convolutions')
    # The decoding starts at the first slice of the heads' output and runs to the end of the layer list.
    first = next((k for k, t in enumerate(types) if t.replace('Quantized', '') == 'StridedSliceV2'), len(types))
    decode = types[first:]
    check(len(decode) > 0 and all(not t.startswith('Quantized') for t in decode),
          f'the {len(decode)} box-decoding layers stay float: {sorted(set(decode))}')
    for image in images:
        fp32, int8 = os.path.join(tmp, 'fp32.txt'), os.path.join(tmp, 'int8.txt')
        a = run(args.bin, 'model_run', ['-p', onnx, '-i', image, '-o', fp32] + FLAGS)
        b = run(args.bin, 'model_run', ['-p', proto, '-m', model, '-i', image, '-o', int8] + FLAGS)
        check(a.returncode == 0 and b.returncode == 0, f'model_run of the int8 model on {os.path.basename(image)}: '
              + b.stderr.strip())
        if a.returncode or b.returncode:
            continue
        ours, ref = read_outputs(int8), read_outputs(fp32)
        for name in sorted(ref):
            got = np.array(ours.get(name, {'values': []})['values'], dtype=np.float32)
            want = np.array(ref[name]['values'], dtype=np.float32)
            same = name in ours and ours[name]['dims'] == ref[name]['dims'] and np.isfinite(got).all()
            diff = float(np.abs(got - want).max()) if same else float('nan')
            check(same, f'int8 {name}: dims {ref[name]["dims"]}, finite; max|int8 - fp32| {diff:.3g}')
    return failures


def main():
    args = bin_and_shared_args()
    folder = os.path.join(args.shared, 'models', 'zoo', 'ultraface_onnx')
    libs = opencv_and_folder(folder)
    if libs is None:
        return 77
    cv2, np = libs
    val = os.path.join(args.shared, 'data', 'faces', 'val')
    calib_src = os.path.join(args.shared, 'data', 'faces', 'calib')
    pick = lambda d, n: [os.path.join(d, f) for f in sorted(os.listdir(d))
                         if f.lower().endswith(('.jpg', '.jpeg', '.png', '.bmp'))][:n]
    images = pick(val, 2)
    with tempfile.TemporaryDirectory() as tmp:
        calib = os.path.join(tmp, 'calib')
        os.mkdir(calib)
        for path in pick(calib_src, 8):
            os.symlink(path, os.path.join(calib, os.path.basename(path)))
        failures = compare(args, cv2, np, images, tmp) + quantize(args, np, calib, images, tmp)
    print('PASS' if failures == 0 else f'FAIL: {failures} check(s)')
    return 0 if failures == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
