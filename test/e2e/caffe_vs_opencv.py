#!/usr/bin/env python3
"""The tools on Caffe models, checked against OpenCV dnn reading the same Caffe files.

--model lenet: the legacy V1 LeNet (lenet.prototxt + lenet_iter_10000.caffemodel), imported by our tools, classifies
every digit of data/mnist/val; top-1 must be >= 98 % and equal to OpenCV dnn's on every image. quantization_cmd
must also quantize the Caffe model (the output is TNN).
--model squeezenet: model_run on the Caffe SqueezeNet, on model_convert's TNN files made from it, and on the TNN
model in ../shared give the same probabilities (max abs difference < 1e-5), close to OpenCV dnn's (< 1e-4).
Exits 77 (ctest's skip code) with a message when the shared folder or python3-opencv is absent.
"""
import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model_outputs import read_values  # noqa: E402


def model_run(bin_dir, proto, weights, image, flags, out):
    cmd = [os.path.join(bin_dir, 'model_run'), '-p', proto, '-m', weights, '-i', image, '-o', out] + flags
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError('model_run failed: ' + ' '.join(cmd) + ': ' + r.stderr.strip())
    return read_values(out)['prob']


def lenet(args, cv2, np, tmp):
    m = os.path.join(args.shared, 'models', 'lenet')
    proto, weights = os.path.join(m, 'lenet.prototxt'), os.path.join(m, 'lenet_iter_10000.caffemodel')
    folder = os.path.join(args.shared, 'data', 'mnist', 'val')
    labels = {}
    with open(os.path.join(folder, 'labels.txt')) as f:
        for line in f:
            name, digit = line.split()
            labels[name] = int(digit)
    names = sorted(labels)[:args.count]
    n = len(names)
    x = np.stack([cv2.imread(os.path.join(folder, name), cv2.IMREAD_GRAYSCALE).astype(np.float32)[None]
                  for name in names]) * np.float32(0.00390625)

    # One model_run per digit would spend minutes starting processes: the Caffe model goes through model_convert
    # (whose output is the imported graph, written as TNN), its input line is widened to a batch of all digits,
    # and one model_run classifies them from a .npy of the same preprocessing. The direct path (model_run on the
    # Caffe files and the PNG) must agree on the first digits.
    converted = os.path.join(tmp, 'lenet')
    r = subprocess.run([os.path.join(args.bin, 'model_convert'), '-p', proto, '-m', weights, '-o', converted],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError('model_convert failed: ' + r.stderr.strip())
    text = open(converted + '.tnnproto').read()
    if '"data 4 1 1 28 28 0 ,"' not in text:
        raise RuntimeError('unexpected input line in the converted LeNet')
    with open(converted + '.tnnproto', 'w') as f:
        f.write(text.replace('"data 4 1 1 28 28 0 ,"', f'"data 4 {n} 1 28 28 0 ,"'))
    np.save(os.path.join(tmp, 'digits.npy'), x)
    probs = np.array(model_run(args.bin, converted + '.tnnproto', converted + '.tnnmodel',
                               os.path.join(tmp, 'digits.npy'), [], os.path.join(tmp, 'out.txt')),
                     dtype=np.float32).reshape(n, -1)
    direct_worst = 0.0
    for i, name in enumerate(names[:20]):
        p = np.array(model_run(args.bin, proto, weights, os.path.join(folder, name), ['-n', '0', '-s', '0.00390625'],
                               os.path.join(tmp, 'one.txt')), dtype=np.float32)
        direct_worst = max(direct_worst, float(np.abs(p - probs[i]).max()))
        if p.argmax() != probs[i].argmax():
            raise RuntimeError(f'{name}: model_run on the Caffe files gives top-1 {p.argmax()}, the batch '
                               f'{probs[i].argmax()}')

    net = cv2.dnn.readNetFromCaffe(proto, weights)
    net.setInput(x)
    ref = net.forward().reshape(n, -1)
    ours_top1, ref_top1 = probs.argmax(1), ref.argmax(1)
    truth = np.array([labels[name] for name in names])
    correct = int((ours_top1 == truth).sum())
    agree = int((ours_top1 == ref_top1).sum())
    for i in np.nonzero(ours_top1 != ref_top1)[0]:
        print(f'{names[i]}: top-1 ours {ours_top1[i]} opencv {ref_top1[i]}')
    worst = float(np.abs(probs - ref).max())
    print(f'LeNet V1 (Caffe) on {n} digits: top-1 {correct}/{n} = {100.0 * correct / n:.1f} %, '
          f'top-1 identical to OpenCV dnn on {agree}/{n}, max |dprob| {worst:.3g} '
          f'(model_run on the Caffe files vs the batch, first 20: {direct_worst:.3g})')
    failed = correct < 0.98 * n or agree != n or direct_worst >= 1e-5

    out = os.path.join(tmp, 'q')
    r = subprocess.run([os.path.join(args.bin, 'quantization_cmd'), '-p', proto, '-m', weights, '-i',
                        os.path.join(args.shared, 'data', 'mnist', 'calib'), '-s', '0.00390625', '-o', out],
                       capture_output=True, text=True)
    quantized = r.returncode == 0 and 'QuantizedConvolution' in open(out + '.quantized.tnnproto').read()
    print(f"quantization_cmd on the Caffe LeNet: exit {r.returncode}, "
          f"{'TNN int8 model written' if quantized else 'no int8 model: ' + r.stderr.strip()}")
    failed = failed or not quantized
    print('FAIL' if failed else 'PASS')
    return 1 if failed else 0


def squeezenet(args, cv2, np, tmp):
    m = os.path.join(args.shared, 'models', 'squeezenet_v1.1')
    proto, weights = os.path.join(m, 'deploy.prototxt'), os.path.join(m, 'squeezenet_v1.1.caffemodel')
    converted = os.path.join(tmp, 'sq')
    r = subprocess.run([os.path.join(args.bin, 'model_convert'), '-p', proto, '-m', weights, '-o', converted],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print('FAIL: model_convert:', r.stderr.strip())
        return 1
    models = {'caffe': (proto, weights),
              'converted': (converted + '.tnnproto', converted + '.tnnmodel'),
              'tnn': (os.path.join(m, 'squeezenet_v1.1.tnnproto'), os.path.join(m, 'squeezenet_v1.1.tnnmodel'))}
    net = cv2.dnn.readNetFromCaffe(proto, weights)
    folder = os.path.join(args.shared, 'data', 'imagenet_val')
    images = sorted(f for f in os.listdir(folder) if f.endswith('.JPEG'))[:args.count]
    worst_tnn = worst_conv = worst_cv = 0.0
    for name in images:
        path = os.path.join(folder, name)
        p = {k: np.array(model_run(args.bin, v[0], v[1], path, ['-r', '1', '-n', '104,117,123'],
                                   os.path.join(tmp, 'out.txt')), dtype=np.float32) for k, v in models.items()}
        img = cv2.resize(cv2.imread(path, cv2.IMREAD_COLOR), (227, 227), interpolation=cv2.INTER_LINEAR)
        x = img.astype(np.float32).transpose(2, 0, 1)[None] - np.array([104, 117, 123], np.float32).reshape(1, 3, 1, 1)
        net.setInput(x)
        ref = net.forward().flatten()
        worst_tnn = max(worst_tnn, float(np.abs(p['caffe'] - p['tnn']).max()))
        worst_conv = max(worst_conv, float(np.abs(p['caffe'] - p['converted']).max()))
        worst_cv = max(worst_cv, float(np.abs(p['caffe'] - ref).max()))
        print(f"{name}: top-1 caffe {p['caffe'].argmax()} converted {p['converted'].argmax()} "
              f"tnn {p['tnn'].argmax()} opencv {ref.argmax()}")
    print(f'SqueezeNet v1.1 on {len(images)} images, max |dprob|: Caffe import vs TNN model {worst_tnn:.3g}, '
          f'vs model_convert output {worst_conv:.3g}, vs OpenCV dnn {worst_cv:.3g}')
    failed = worst_tnn >= 1e-5 or worst_conv >= 1e-5 or worst_cv >= 1e-4
    print('FAIL' if failed else 'PASS')
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bin', required=True)
    ap.add_argument('--shared', required=True)
    ap.add_argument('--model', choices=['squeezenet', 'lenet'], required=True)
    ap.add_argument('--count', type=int, default=1000)
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
    with tempfile.TemporaryDirectory() as tmp:
        try:
            return (lenet if args.model == 'lenet' else squeezenet)(args, cv2, np, tmp)
        except RuntimeError as e:
            print('FAIL:', e)
            return 1


if __name__ == '__main__':
    sys.exit(main())
