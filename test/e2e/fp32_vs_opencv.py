#!/usr/bin/env python3
"""FP32 engine check against an independent reference: OpenCV dnn running the Caffe model.

Runs build/bin/model_run on the TNN model and OpenCV dnn on the Caffe model of the same network, on the same
images and preprocessing, and compares the output probabilities (max abs difference) and the top-1 class.
Exits 77 (ctest's skip code) with a message when the shared folder or python3-opencv is absent.
"""
import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model_outputs import read_values  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bin', required=True)
    ap.add_argument('--shared', required=True)
    ap.add_argument('--model', choices=['squeezenet', 'lenet'], required=True)
    ap.add_argument('--count', type=int, default=20)
    ap.add_argument('--tol', type=float, default=1e-4)
    args = ap.parse_args()

    try:
        import cv2
        import numpy as np
    except ImportError:
        print('SKIP: python3-opencv / numpy are not installed')
        return 77
    if not os.path.isdir(args.shared):
        print(f'SKIP: shared folder {args.shared} is absent')
        return 77

    m = os.path.join(args.shared, 'models')
    d = os.path.join(args.shared, 'data')
    if args.model == 'squeezenet':
        proto = os.path.join(m, 'squeezenet_v1.1', 'squeezenet_v1.1.tnnproto')
        weights = os.path.join(m, 'squeezenet_v1.1', 'squeezenet_v1.1.tnnmodel')
        net = cv2.dnn.readNetFromCaffe(os.path.join(m, 'squeezenet_v1.1', 'deploy.prototxt'),
                                       os.path.join(m, 'squeezenet_v1.1', 'squeezenet_v1.1.caffemodel'))
        folder = os.path.join(d, 'imagenet_val')
        flags = ['-r', '1', '-n', '104,117,123']
        size, mean, scale, gray = (227, 227), (104, 117, 123), 1.0, False
    else:
        proto = os.path.join(m, 'lenet', 'lenet.tnnproto')
        weights = os.path.join(m, 'lenet', 'lenet.tnnmodel')
        net = cv2.dnn.readNetFromCaffe(os.path.join(m, 'lenet', 'lenet_deploy_v2.prototxt'),
                                       os.path.join(m, 'lenet', 'lenet_v2.caffemodel'))
        folder = os.path.join(d, 'mnist', 'val')
        flags = ['-n', '0', '-s', '0.00390625']
        size, mean, scale, gray = (28, 28), (0,), 0.00390625, True

    images = sorted(f for f in os.listdir(folder) if f.lower().endswith(('.jpeg', '.jpg', '.png')))[:args.count]
    worst, top1_same = 0.0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in images:
            path = os.path.join(folder, name)
            img = cv2.imread(path, cv2.IMREAD_GRAYSCALE if gray else cv2.IMREAD_COLOR)
            if img.shape[:2] != (size[1], size[0]):
                img = cv2.resize(img, size, interpolation=cv2.INTER_LINEAR)
            x = img.astype(np.float32)
            if gray:
                x = x[None, None, :, :]
            else:
                x = x.transpose(2, 0, 1)[None]
            x = (x - np.array(mean, dtype=np.float32).reshape(1, -1, 1, 1)) * np.float32(scale)
            net.setInput(x)
            ref = net.forward().flatten()

            out = os.path.join(tmp, 'out.txt')
            cmd = [os.path.join(args.bin, 'model_run'), '-p', proto, '-m', weights, '-i', path, '-o', out] + flags
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                print('FAIL: model_run failed:', ' '.join(cmd), r.stderr)
                return 1
            ours = np.array(read_values(out)['prob'], dtype=np.float32)
            if ours.shape != ref.shape:
                print(f'FAIL: {name}: output has {ours.size} values, OpenCV has {ref.size}')
                return 1
            diff = float(np.abs(ours - ref).max())
            same = int(ours.argmax()) == int(ref.argmax())
            top1_same += same
            worst = max(worst, diff)
            print(f'{name}: max|dprob| {diff:.3g} top1 ours {ours.argmax()} opencv {ref.argmax()}')
    print(f'{args.model}: {len(images)} images, worst max|dprob| {worst:.3g}, top-1 identical {top1_same}/{len(images)}')
    if worst >= args.tol or top1_same != len(images):
        print(f'FAIL: tolerance {args.tol} and identical top-1 required')
        return 1
    print('PASS')
    return 0


if __name__ == '__main__':
    sys.exit(main())
