#!/usr/bin/env python3
"""Writes data/tnn_runtime/<model>.txt: TNN's own runtime (NAIVE device, fp32) on the zoo's TNN files, the reference
for tnn_zoo_vs_tnn_runtime.py. Run by hand with a TNN build outside the repository (Tencent/TNN @ f0cb081, CPU and
X86 devices) and a small runner that loads a .tnnproto/.tnnmodel pair, feeds a float NCHW .npy unchanged and writes
model_run's output format:
    make_tnn_runtime_fixtures.py --shared ../shared --tnn_run /path/to/tnn_run
Per model, per input image, per output blob: its dims, its value count, the sum and the sum of |x| of all values,
and every k-th value (k such that at most 2000 are kept)."""
import argparse
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tnn_zoo_inputs as zi  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--shared', required=True)
    ap.add_argument('--tnn_run', required=True)
    ap.add_argument('--device', default='NAIVE')
    args = ap.parse_args()
    out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'tnn_runtime')
    os.makedirs(out_dir, exist_ok=True)
    for model, (rel, h, w, mean, scale) in zi.MODELS.items():
        prefix = os.path.join(args.shared, 'models', 'zoo', rel)
        lines = [f'# TNN f0cb081 {args.device} fp32 on {rel}, inputs: {h}x{w} faces/val images']
        with tempfile.TemporaryDirectory() as tmp:
            for i, image in enumerate(zi.face_images(args.shared)):
                npy = os.path.join(tmp, f'in{i}.npy')
                zi.write_input(cv2, np, image, h, w, mean, scale, npy)
                out = os.path.join(tmp, f'out{i}.txt')
                subprocess.run([args.tnn_run, '-p', prefix + '.tnnproto', '-m', prefix + '.tnnmodel', '-d',
                                args.device, '-i', npy, '-o', out], check=True)
                for name, blob in sorted(zi.read_outputs(out).items()):
                    v = np.array(blob['values'], np.float64)
                    k = zi.sample_stride(len(v))
                    lines.append(f'output {i} {os.path.basename(image)} {name} dims {" ".join(map(str, blob["dims"]))} '
                                 f'count {len(v)} sum {v.sum():.9g} abssum {np.abs(v).sum():.9g} '
                                 f'min {v.min():.9g} max {v.max():.9g} stride {k}')
                    lines.append(' '.join(f'{x:.9g}' for x in v[::k]))
        with open(os.path.join(out_dir, model + '.txt'), 'w') as f:
            f.write('\n'.join(lines) + '\n')
        print('wrote', model)


if __name__ == '__main__':
    main()
