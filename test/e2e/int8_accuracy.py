#!/usr/bin/env python3
"""INT8 accuracy of quantization_cmd's default flags on the real models of ../shared, measured by model_eval
against the fp32 model on labelled validation images nobody here chose:

- LeNet (Caffe, converted to TNN): calibrated on mnist/calib (PNG) and again on mnist/calib_txt (the same digits
  as NCHW txt tensors): both runs must write the same model (same scales), which loses at most 0.3 points of
  top-1 on the 1000 images of mnist/val.
- SqueezeNet v1.1: calibrated on the 200 images of imagenet_calib, loses at most 1.0 point of top-1 on the 300
  images of imagenet_val.

Exit 77 (skipped) when ../shared is absent."""
import json
import os
import subprocess
import sys
import tempfile

BIN, SHARED = sys.argv[1], sys.argv[2]


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print(f"FAIL: {' '.join(cmd)}\n{r.stderr[-3000:]}")
        sys.exit(1)
    return r


def Loss(r):
    """Top-1 points lost, from whole image counts (fractions of the JSON times the image count) so that a bound of
    exactly 3 images in 300 is not lost to floating point."""
    lost = round(r['fp32']['top1'] * r['labelled']) - round(r['int8']['top1'] * r['labelled'])
    return 100.0 * lost / r['labelled']


def evaluate(model_dir, proto, model, prefix, val, pre, json_path):
    run([os.path.join(BIN, 'model_eval'), '-p', os.path.join(model_dir, proto), '-m', os.path.join(model_dir, model),
         '--int8_proto', prefix + '.quantized.tnnproto', '--int8_model', prefix + '.quantized.tnnmodel',
         '-i', val, '--json', json_path] + pre)
    return json.load(open(json_path))


def main():
    if not os.path.isdir(os.path.join(SHARED, 'models')):
        print(f"shared folder {SHARED} is absent: skipping")
        return 77
    q = os.path.join(BIN, 'quantization_cmd')
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        lenet = os.path.join(SHARED, 'models', 'lenet')
        mnist = os.path.join(SHARED, 'data', 'mnist')
        base = ['-p', os.path.join(lenet, 'lenet.tnnproto'), '-m', os.path.join(lenet, 'lenet.tnnmodel')]
        png, txt = os.path.join(tmp, 'lenet_png'), os.path.join(tmp, 'lenet_txt')
        run([q] + base + ['-i', os.path.join(mnist, 'calib'), '-s', '0.00390625', '-o', png])
        run([q] + base + ['-i', os.path.join(mnist, 'calib_txt'), '-o', txt])
        same = all(open(png + e, 'rb').read() == open(txt + e, 'rb').read()
                   for e in ('.quantized.tnnproto', '.quantized.tnnmodel'))
        print(f"{'ok  ' if same else 'FAIL'} LeNet calibrated from PNG and from txt tensors: identical models")
        failures += not same
        r = evaluate(lenet, 'lenet.tnnproto', 'lenet.tnnmodel', png, os.path.join(mnist, 'val'), ['-s', '0.00390625'],
                     os.path.join(tmp, 'lenet.json'))
        loss = Loss(r)
        ok = loss <= 0.3
        print(f"{'ok  ' if ok else 'FAIL'} LeNet on {r['images']} mnist/val images: fp32 {100 * r['fp32']['top1']:.2f} %, "
              f"int8 {100 * r['int8']['top1']:.2f} % (loss {loss:.2f} <= 0.3), agreement "
              f"{100 * r['top1_agreement']:.2f} %")
        failures += not ok

        sq = os.path.join(SHARED, 'models', 'squeezenet_v1.1')
        pre = ['-r', '1', '-n', '104,117,123']
        prefix = os.path.join(tmp, 'squeezenet')
        run([q, '-p', os.path.join(sq, 'squeezenet_v1.1.tnnproto'), '-m', os.path.join(sq, 'squeezenet_v1.1.tnnmodel'),
             '-i', os.path.join(SHARED, 'data', 'imagenet_calib'), '-o', prefix] + pre)
        r = evaluate(sq, 'squeezenet_v1.1.tnnproto', 'squeezenet_v1.1.tnnmodel', prefix,
                     os.path.join(SHARED, 'data', 'imagenet_val'), pre, os.path.join(tmp, 'sq.json'))
        loss = Loss(r)
        ok = loss <= 1.0
        print(f"{'ok  ' if ok else 'FAIL'} SqueezeNet v1.1 on {r['images']} imagenet_val images: fp32 "
              f"{100 * r['fp32']['top1']:.2f} %, int8 {100 * r['int8']['top1']:.2f} % (loss {loss:.2f} <= 1.0), top-5 "
              f"{100 * r['int8']['top5']:.2f} %, agreement {100 * r['top1_agreement']:.2f} %, output cosine "
              f"{r['output_cosine']:.5f}")
        failures += not ok
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
