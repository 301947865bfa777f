#!/usr/bin/env python3
"""ONNX import checked end to end through the tools, against references nobody here wrote.

--case squeezenet: build/bin/model_run -p squeezenet_v1.1.onnx (no -m) against OpenCV dnn's readNetFromONNX on
    the same images and preprocessing (BGR, minus 104,117,123, 227x227): max |dprob| and top-1.
--case mnist: the CNTK mnist model (IR 3, opset 1, weights in Constant nodes) on the 3 inputs shipped with it,
    against the 3 reference outputs of its npz files (|ours - ref| <= 1e-4 * max(1, |ref|)) and against OpenCV.
--case cli: model_run's output file for an ONNX model, its one-line errors (ONNX given with -m, truncated ONNX:
    exit 1, no output file), and quantization_cmd writing a TNN int8 model from an ONNX model.
Exits 77 (ctest's skip code) with a message when the shared folder or python3-opencv/numpy is absent.
"""
import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model_outputs import read_outputs  # noqa: E402


def model_run(bin_dir, args):
    return subprocess.run([os.path.join(bin_dir, 'model_run')] + args, capture_output=True, text=True)


def squeezenet(args, cv2, np):
    onnx = os.path.join(args.shared, 'models', 'squeezenet_v1.1', 'squeezenet_v1.1.onnx')
    net = cv2.dnn.readNetFromONNX(onnx)
    folder = os.path.join(args.shared, 'data', 'imagenet_val')
    images = sorted(f for f in os.listdir(folder) if f.endswith('.JPEG'))[:args.count]
    worst, top1_same = 0.0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in images:
            path = os.path.join(folder, name)
            img = cv2.imread(path, cv2.IMREAD_COLOR)
            if img.shape[:2] != (227, 227):
                img = cv2.resize(img, (227, 227), interpolation=cv2.INTER_LINEAR)
            x = img.astype(np.float32).transpose(2, 0, 1)[None]
            x = x - np.array((104, 117, 123), dtype=np.float32).reshape(1, 3, 1, 1)
            net.setInput(x)
            ref = net.forward().flatten()
            out = os.path.join(tmp, 'out.txt')
            r = model_run(args.bin, ['-p', onnx, '-i', path, '-r', '1', '-n', '104,117,123', '-o', out])
            if r.returncode != 0:
                print('FAIL: model_run failed:', r.stderr)
                return 1
            ours = np.array(read_outputs(out)['prob']['values'], dtype=np.float32)
            if ours.shape != ref.shape:
                print(f'FAIL: {name}: {ours.size} values, OpenCV has {ref.size}')
                return 1
            diff = float(np.abs(ours - ref).max())
            same = int(ours.argmax()) == int(ref.argmax())
            worst, top1_same = max(worst, diff), top1_same + same
            print(f'{name}: max|dprob| {diff:.3g} top1 ours {ours.argmax()} opencv {ref.argmax()}')
    print(f'squeezenet_v1.1.onnx: {len(images)} images, worst max|dprob| {worst:.3g}, '
          f'top-1 identical {top1_same}/{len(images)}')
    if worst >= args.tol or top1_same != len(images):
        print(f'FAIL: max|dprob| < {args.tol} and identical top-1 required')
        return 1
    print('PASS')
    return 0


def mnist(args, cv2, np):
    folder = os.path.join(args.shared, 'models', 'mnist_cntk_onnx')
    onnx = os.path.join(folder, 'mnist_model.onnx')
    net = cv2.dnn.readNetFromONNX(onnx)
    worst_ref, worst_cv = 0.0, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(3):
            data = np.load(os.path.join(folder, f'mnist_test_data_{k}.npz'))
            x = data['inputs'].astype(np.float32).reshape(1, 1, 28, 28)
            ref = data['outputs'].astype(np.float32).flatten()
            npy = os.path.join(tmp, f'in{k}.npy')
            np.save(npy, x)
            out = os.path.join(tmp, 'out.txt')
            r = model_run(args.bin, ['-p', onnx, '-i', npy, '-o', out])
            if r.returncode != 0:
                print('FAIL: model_run failed:', r.stderr)
                return 1
            blob = read_outputs(out)['Plus214_Output_0']
            ours = np.array(blob['values'], dtype=np.float32)
            net.setInput(x)
            cv = net.forward().flatten()
            if blob['dims'] != [1, 10] or ours.shape != ref.shape:
                print(f'FAIL: output dims {blob["dims"]}, expected [1, 10]')
                return 1
            err_ref = float((np.abs(ours - ref) / np.maximum(1.0, np.abs(ref))).max())
            err_cv = float(np.abs(ours - cv).max())
            worst_ref, worst_cv = max(worst_ref, err_ref), max(worst_cv, err_cv)
            print(f'mnist_test_data_{k}: max |ours-ref|/max(1,|ref|) {err_ref:.3g}, max |ours-opencv| {err_cv:.3g}, '
                  f'argmax ours {ours.argmax()} ref {ref.argmax()}')
            if err_ref > 1e-4 or ours.argmax() != ref.argmax():
                print('FAIL: |ours - ref| <= 1e-4 * max(1, |ref|) and the same argmax required')
                return 1
    print(f'mnist_cntk_onnx: 3 reference outputs, worst relative error {worst_ref:.3g}, worst vs OpenCV {worst_cv:.3g}')
    print('PASS')
    return 0


def cli(args, cv2, np):
    onnx = os.path.join(args.shared, 'models', 'mnist_cntk_onnx', 'mnist_model.onnx')
    image = os.path.join(args.shared, 'data', 'mnist', 'val', 'mnist_test_00000.png')
    failures = 0

    def check(ok, what):
        nonlocal failures
        print(('ok   ' if ok else 'FAIL ') + what)
        failures += 0 if ok else 1

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, 'out.txt')
        r = model_run(args.bin, ['-p', onnx, '-i', image, '-s', '0.00392156862745098', '-o', out])
        check(r.returncode == 0, 'model_run -p mnist_model.onnx -i digit.png -o out.txt exits 0: ' + r.stderr.strip())
        if r.returncode == 0:
            blobs = read_outputs(out)
            check(list(blobs) == ['Plus214_Output_0'] and blobs['Plus214_Output_0']['dims'] == [1, 10] and
                  len(blobs['Plus214_Output_0']['values']) == 10, 'out.txt holds "# Plus214_Output_0 1 10" and 10 values')
            os.remove(out)

        r = model_run(args.bin, ['-p', onnx, '-m', onnx, '-i', image, '-o', out])
        check(r.returncode == 1 and 'given with -p alone' in r.stderr and r.stderr.count('\n') == 1 and
              not os.path.exists(out), 'an ONNX model given with -m: one-line error, exit 1, no output: ' + r.stderr.strip())

        truncated = os.path.join(tmp, 'truncated.onnx')
        with open(onnx, 'rb') as f:
            data = f.read()
        with open(truncated, 'wb') as f:
            f.write(data[:len(data) // 2])
        r = model_run(args.bin, ['-p', truncated, '-i', image, '-o', out])
        check(r.returncode == 1 and 'not an ONNX model' in r.stderr and truncated in r.stderr and
              r.stderr.count('\n') == 1 and not os.path.exists(out),
              'a truncated ONNX file: one-line error naming it, exit 1, no output: ' + r.stderr.strip())

        prefix = os.path.join(tmp, 'mnist')
        calib = os.path.join(args.shared, 'data', 'mnist', 'calib')
        r = subprocess.run([os.path.join(args.bin, 'quantization_cmd'), '-p', onnx, '-i', calib, '-s',
                            '0.00392156862745098', '-o', prefix], capture_output=True, text=True)
        proto = prefix + '.quantized.tnnproto'
        check(r.returncode == 0 and os.path.exists(proto) and os.path.exists(prefix + '.quantized.tnnmodel'),
              'quantization_cmd -p mnist_model.onnx writes a TNN int8 model: ' + r.stderr.strip().split('\n')[-1])
        if os.path.exists(proto):
            with open(proto) as f:
                text = f.read()
            check('QuantizedConvolution' in text and 'QuantizedInnerProduct' in text,
                  'the int8 model has quantized convolutions and the inner product')
    print('PASS' if failures == 0 else f'FAIL: {failures} check(s)')
    return 0 if failures == 0 else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bin', required=True)
    ap.add_argument('--shared', required=True)
    ap.add_argument('--case', choices=['squeezenet', 'mnist', 'cli'], required=True)
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
    return {'squeezenet': squeezenet, 'mnist': mnist, 'cli': cli}[args.case](args, cv2, np)


if __name__ == '__main__':
    sys.exit(main())
