#!/usr/bin/env python3
"""Zoo models against OpenCV dnn (an fp32 engine nobody here wrote), then quantized with default flags:
--model mobilenet_v2: the opset-13 ONNX file through model_run against OpenCV on the opset-10 form of the same weights
(OpenCV 4.6 reads that one), on imagenet_val photos; --model hyperlpr: the HyperLPR plate regressor (Caffe) on
plates/val photos. Inputs are preprocessed here into .npy tensors so both engines see the same floats; every output
must agree within 1e-3 of its range. Then quantization_cmd with default flags on 8 calibration images, and the int8
model must run. Exits 77 (ctest's skip code) with a message when the shared folder or python3-opencv is absent."""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model_outputs import read_values  # noqa: E402

Z = 'models/zoo/'
MODELS = {
    'mobilenet_v2': dict(ours=[Z + 'mobilenet_v2_tf2/tf2_mobilenet_v2_1.0_224_ptq.dequant.opset13.onnx'],
                         cv=Z + 'mobilenet_v2_tf2/tf2_mobilenet_v2_1.0_224_ptq.dequant.opset10.onnx', cv_weights=None,
                         hw=(224, 224), mean=(127.5,) * 3, scale=(0.00784314,) * 3, bgr=False,
                         data=('data/imagenet_calib', 'data/imagenet_val')),
    'hyperlpr': dict(ours=[Z + 'hyperlpr_finemapping_caffe/HorizonalFinemapping.prototxt',
                           Z + 'hyperlpr_finemapping_caffe/HorizonalFinemapping.caffemodel'],
                     cv=Z + 'hyperlpr_finemapping_caffe/HorizonalFinemapping.prototxt',
                     cv_weights=Z + 'hyperlpr_finemapping_caffe/HorizonalFinemapping.caffemodel',
                     hw=(16, 66), mean=(0.0,) * 3, scale=(0.00392157,) * 3, bgr=True,
                     data=('data/plates/calib', 'data/plates/val')),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bin', required=True)
    ap.add_argument('--shared', required=True)
    ap.add_argument('--model', required=True, choices=sorted(MODELS))
    ap.add_argument('--count', type=int, default=4)
    args = ap.parse_args()
    m = MODELS[args.model]
    if not os.path.exists(os.path.join(args.shared, m['cv'])):
        print(f'SKIP: {os.path.join(args.shared, m["cv"])} is absent')
        return 77
    try:
        import cv2
        import numpy as np
    except ImportError as e:
        print(f'SKIP: {e} (python3-opencv and python3-numpy are needed)')
        return 77
    if m['cv_weights']:
        net = cv2.dnn.readNetFromCaffe(os.path.join(args.shared, m['cv']), os.path.join(args.shared, m['cv_weights']))
    else:
        net = cv2.dnn.readNetFromONNX(os.path.join(args.shared, m['cv']))
    model = ['-p', os.path.join(args.shared, m['ours'][0])] + (
        ['-m', os.path.join(args.shared, m['ours'][1])] if len(m['ours']) > 1 else [])
    h, w = m['hw']
    folder = os.path.join(args.shared, m['data'][1])
    images = sorted(f for f in os.listdir(folder) if f.lower().endswith(('.jpg', '.jpeg', '.png', '.bmp')))
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, name in enumerate(images[:args.count]):
            img = cv2.resize(cv2.imread(os.path.join(folder, name), cv2.IMREAD_COLOR), (w, h),
                             interpolation=cv2.INTER_LINEAR)
            if not m['bgr']:
                img = img[:, :, ::-1]
            x = (img.astype(np.float32) - np.array(m['mean'], np.float32)) * np.array(m['scale'], np.float32)
            x = np.ascontiguousarray(x.transpose(2, 0, 1)[None])
            npy = os.path.join(tmp, f'{k}.npy')
            np.save(npy, x)
            out = os.path.join(tmp, f'{k}.txt')
            r = subprocess.run([os.path.join(args.bin, 'model_run')] + model + ['-i', npy, '-o', out],
                               capture_output=True, text=True)
            if r.returncode != 0:
                failures.append(f'model_run on {name}: {r.stderr.strip()}')
                continue
            ours = read_values(out)
            net.setInput(x)
            names = net.getUnconnectedOutLayersNames()
            theirs = dict(zip(names, net.forward(names)))
            for blob, values in ours.items():
                ref = theirs.get(blob)
                if ref is None and len(theirs) == 1 and len(ours) == 1:
                    ref = next(iter(theirs.values()))
                if ref is None:
                    failures.append(f'{name}: OpenCV has no output {blob} ({list(theirs)})')
                    continue
                a, b = np.array(values), ref.astype(np.float64).reshape(-1)
                rng = max(float(np.ptp(b)), 1e-6)
                err = float(np.abs(a - b).max())
                print(f'{args.model} {name} {blob}: max |ours - OpenCV| {err:.3g}, range {rng:.3g} ({err / rng:.2e})')
                if err > 1e-3 * rng:
                    failures.append(f'{name} {blob}: differs from OpenCV by {err:.4g} (range {rng:.4g})')
        calib = os.path.join(tmp, 'calib')
        os.makedirs(calib)
        src = os.path.join(args.shared, m['data'][0])
        for name in sorted(os.listdir(src))[:8]:
            if name.lower().endswith(('.jpg', '.jpeg', '.png', '.bmp')):
                shutil.copy(os.path.join(src, name), calib)
        pre = ['-n', ','.join(map(str, m['mean'])), '-s', ','.join(map(str, m['scale']))] + (['-r', '1'] if m['bgr'] else [])
        q = os.path.join(tmp, 'q')
        r = subprocess.run([os.path.join(args.bin, 'quantization_cmd')] + model + pre +
                           ['-i', calib, '-o', q, '--report', '2'], capture_output=True, text=True)
        if r.returncode != 0:
            failures.append('quantization_cmd: ' + r.stderr.strip())
        else:
            r = subprocess.run([os.path.join(args.bin, 'model_run'), '-p', q + '.quantized.tnnproto', '-m',
                                q + '.quantized.tnnmodel', '-i', os.path.join(tmp, '0.npy'), '-o',
                                os.path.join(tmp, 'q.txt')], capture_output=True, text=True)
            if r.returncode != 0:
                failures.append('int8 model_run: ' + r.stderr.strip())
    for f in failures:
        print('FAIL:', f)
    print(f'{args.model}:', 'FAILED' if failures else 'passed')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
