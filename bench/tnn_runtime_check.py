#!/usr/bin/env python3
"""Does TNN's own runtime compute what our model_run computes on the int8 files we write? For every model of
bench/zoo_models.py: quantize with the given flags on its calibration set, then run the int8 file on validation
inputs (preprocessed here into .npy tensors, so both engines see the same floats) with our model_run and with
TNN's runtime (NAIVE and X86 devices) through a runner built outside the repository (Tencent/TNN @ f0cb081; it
feeds a float NCHW .npy unchanged and writes model_run's output format). Prints, per model and device, the largest
|ours - TNN| over the outputs as a share of the output's range. An SSD's detection rows are compared as sets
(sorted): rows of equal score may come in either order.

    bench/tnn_runtime_check.py --bin build/bin --shared ../shared --tnn_run /path/to/tnn_run [--flags ...]
"""
import argparse
import os
import shlex
import subprocess
import sys
import tempfile

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zoo_models as zm  # noqa: E402


def read_outputs(path):
    blobs, name = {}, None
    with open(path) as f:
        for line in f:
            if line.startswith('#'):
                name = line[1:].split()[0]
                blobs[name] = []
            else:
                blobs[name].append(float(line))
    return {k: np.array(v) for k, v in blobs.items()}


def preprocessed(image, dims, pre):
    """The float input our tools make of an image (resize to W x H, RGB unless -r 1, (x - n) * s)."""
    flags = dict(zip(pre[::2], pre[1::2]))
    n = [float(v) for v in flags.get('-n', '0').split(',')]
    s = [float(v) for v in flags.get('-s', '1').split(',')]
    img = cv2.resize(cv2.imread(image, cv2.IMREAD_COLOR), (dims[3], dims[2]), interpolation=cv2.INTER_LINEAR)
    if flags.get('-r') != '1':
        img = img[:, :, ::-1]
    if dims[1] == 1:
        img = cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_BGR2GRAY)[:, :, None]
    x = (img.astype(np.float32) - np.array(n, np.float32)) * np.array(s, np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bin', required=True)
    ap.add_argument('--shared', required=True)
    ap.add_argument('--tnn_run', required=True)
    ap.add_argument('--flags', default='')
    ap.add_argument('--calib', type=int, default=32)
    ap.add_argument('--val', type=int, default=4)
    ap.add_argument('--models', default='')
    args = ap.parse_args()
    names = [n for n in args.models.split(',') if n] or list(zm.MODELS)
    print(f'flags `{args.flags or "(defaults)"}`, {args.val} validation inputs per model\n')
    print('| model | quantized layers | NAIVE: max abs diff / range | X86: max abs diff / range |')
    print('|---|---|---|---|')
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            m = zm.MODELS[name]
            calib = zm.data_folder(args.shared, m, 0, args.calib, tmp)
            prefix = os.path.join(tmp, name)
            q = subprocess.run([os.path.join(args.bin, 'quantization_cmd')] + zm.model_args(args.shared, m) +
                               m['pre'] + ['-i', calib, '-o', prefix, '--report', '0'] + shlex.split(args.flags),
                               capture_output=True, text=True)
            if q.returncode != 0:
                print(f'| {name} | fails to quantize: {q.stderr.strip()[:120]} | | |')
                continue
            proto, model = prefix + '.quantized.tnnproto', prefix + '.quantized.tnnmodel'
            text = open(proto).read()
            quantized = text.count('"Quantized')
            line = text.split('\n')[1].strip('" ,').split()
            dims = [int(v) for v in line[2:2 + int(line[1])]]
            inputs = []
            if m['data'] == 'faces_det4':
                folder = zm.data_folder(args.shared, m, 1, args.val, tmp)
                inputs = sorted(os.path.join(folder, f) for f in os.listdir(folder))
            else:
                for k, image in enumerate(zm.images(os.path.join(args.shared, zm.FOLDERS[m['data']][1]), args.val)):
                    path = os.path.join(tmp, f'{name}_{k}.npy')
                    np.save(path, preprocessed(image, dims, m['pre']))
                    inputs.append(path)
            worst = {'NAIVE': [0.0, 0.0], 'X86': [0.0, 0.0]}
            error = ''
            for k, x in enumerate(inputs):
                ours = os.path.join(tmp, f'{name}_{k}_ours.txt')
                r = subprocess.run([os.path.join(args.bin, 'model_run'), '-p', proto, '-m', model, '-i', x, '-o', ours],
                                   capture_output=True, text=True)
                if r.returncode != 0:
                    error = 'model_run: ' + r.stderr.strip()
                    break
                a = read_outputs(ours)
                for dev in worst:
                    theirs = os.path.join(tmp, f'{name}_{k}_{dev}.txt')
                    r = subprocess.run([args.tnn_run, '-p', proto, '-m', model, '-d', dev, '-i', x, '-o', theirs],
                                       capture_output=True, text=True)
                    if r.returncode != 0:
                        error = f'TNN {dev}: ' + r.stderr.strip()
                        break
                    b = read_outputs(theirs)
                    if m['kind'] == 'ssd':
                        for out in (a, b):
                            for blob, v in out.items():
                                rows = v.reshape(-1, 7)
                                out[blob] = rows[np.lexsort(rows.T[::-1])].ravel()
                    for blob, v in a.items():
                        rng = max(float(np.ptp(b[blob])), float(np.abs(b[blob]).max()) if b[blob].size == 1 else 0,
                                  1e-12)
                        d = float(np.abs(v - b[blob]).max())
                        if d / rng > worst[dev][0] / max(worst[dev][1], 1e-12) or worst[dev][1] == 0:
                            worst[dev] = [d, rng]
            if error:
                print(f'| {name} | {quantized} | {error[:150]} | |')
                continue
            cells = [f'{d:.3g} / {r:.3g} ({d / r:.1e})' for d, r in worst.values()]
            print(f'| {name} | {quantized} | {cells[0]} | {cells[1]} |')
            sys.stdout.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main())
