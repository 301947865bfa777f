#!/usr/bin/env python3
"""The Caffe models of ../shared/models/zoo read directly by our tools, against OpenCV dnn reading the same files.

UltraFace RFB-320 and slim-320 (Permute, Reshape, Concat heads), MTCNN det1-det3 (PReLU, InnerProduct) and the
landmark net det4 (a Slice of its 15-channel input). Per model, fp32 model_run on two inputs must agree with OpenCV
dnn within 1e-3 of each output's range (the report prints the max abs difference; it is ~1e-5). Then
quantization_cmd with default flags calibrates on a few face images (det4: .npy tensors made from them) and
model_run must run the int8 model: same outputs, same shapes, finite values (their agreement is printed).
Preprocessing as in zoo/README.md: RGB, (x - mean) * scale after a resize to the input size.
Exits 77 (ctest's skip code) with a message when the shared folder or python3-opencv is absent.
"""
import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model_outputs import read_arrays  # noqa: E402

ULTRAFACE = ('127,127,127', 0.0078125, 127.0)
MTCNN = ('127.5,127.5,127.5', 0.0078125, 127.5)
# name: (folder, file stem, input H, input W, preprocessing, image inputs or None for det4's .npy)
MODELS = {
    'RFB-320': ('ultraface_caffe', 'RFB-320', 240, 320, ULTRAFACE, ['face1.jpg', 'face2.jpg']),
    'slim-320': ('ultraface_caffe', 'slim-320', 240, 320, ULTRAFACE, ['face1.jpg', 'face2.jpg']),
    'det1': ('mtcnn_caffe', 'det1', 12, 12, MTCNN, ['test1.jpg', '../ultraface_caffe/face1.jpg']),
    'det2': ('mtcnn_caffe', 'det2', 24, 24, MTCNN, ['test1.jpg', '../ultraface_caffe/face1.jpg']),
    'det3': ('mtcnn_caffe', 'det3', 48, 48, MTCNN, ['test1.jpg', '../ultraface_caffe/face1.jpg']),
    'det4': ('mtcnn_caffe', 'det4', 24, 24, MTCNN, None),
}
CALIB_COUNT = 4


def model_run(bin_dir, proto, weights, inp, flags, out, np):
    cmd = [os.path.join(bin_dir, 'model_run'), '-p', proto, '-m', weights, '-i', inp, '-o', out] + flags
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError('model_run failed: ' + ' '.join(cmd) + ': ' + r.stderr.strip())
    return read_arrays(out, np)


def image_tensor(path, h, w, pre, cv2, np):
    """The tools' preprocessing of an image: RGB, bilinear resize, (x - mean) * scale, NCHW."""
    img = cv2.cvtColor(cv2.imread(path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    img = cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    return ((img - np.float32(pre[2])) * np.float32(pre[1])).transpose(2, 0, 1)[None]


def landmark_patches(path, cv2, np):
    """det4's input: five 24x24 RGB patches around the landmarks of a face, stacked on the channels. Here the
    corners and centre of the image resized to 48x48, preprocessed as MTCNN's."""
    img = cv2.cvtColor(cv2.imread(path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    img = (cv2.resize(img, (48, 48), interpolation=cv2.INTER_LINEAR).astype(np.float32) - 127.5) * 0.0078125
    patches = [img[y:y + 24, x:x + 24] for y, x in ((0, 0), (0, 24), (12, 12), (24, 0), (24, 24))]
    return np.concatenate([p.transpose(2, 0, 1) for p in patches])[None].astype(np.float32)


def check_model(name, args, cv2, np, tmp):
    folder, stem, h, w, pre, images = MODELS[name]
    mdir = os.path.join(args.shared, 'models', 'zoo', folder)
    proto, weights = os.path.join(mdir, stem + '.prototxt'), os.path.join(mdir, stem + '.caffemodel')
    flags = ['-n', pre[0], '-s', ','.join([str(pre[1])] * 3)]
    calib_dir = os.path.join(args.shared, 'data', 'faces', 'calib')
    calib_files = sorted(f for f in os.listdir(calib_dir) if f.lower().endswith(('.jpg', '.jpeg', '.png')))
    calib_files = calib_files[:CALIB_COUNT]

    # (our input file, model_run flags, the same tensor for OpenCV)
    cases = []
    if images is None:
        for i, f in enumerate(['../ultraface_caffe/face1.jpg', '../ultraface_caffe/face2.jpg']):
            x = landmark_patches(os.path.join(mdir, f), cv2, np)
            path = os.path.join(tmp, f'{name}_in{i}.npy')
            np.save(path, x)
            cases.append((path, [], x))
    else:
        for f in images:
            path = os.path.join(mdir, f)
            cases.append((path, flags, image_tensor(path, h, w, pre, cv2, np)))

    net = cv2.dnn.readNetFromCaffe(proto, weights)
    failed = False
    worst_abs, worst_rel = 0.0, 0.0
    fp32 = []
    for path, run_flags, x in cases:
        ours = model_run(args.bin, proto, weights, path, run_flags, os.path.join(tmp, 'out.txt'), np)
        fp32.append(ours)
        names = sorted(ours)
        net.setInput(x)
        refs = net.forward(names)
        for blob, ref in zip(names, refs):
            o = ours[blob]
            if o.size != ref.size:
                print(f'{name} {os.path.basename(path)}: output {blob} has {o.shape}, OpenCV {ref.shape}')
                failed = True
                continue
            diff = float(np.abs(o.reshape(ref.shape) - ref).max())
            span = float(ref.max() - ref.min())
            worst_abs = max(worst_abs, diff)
            worst_rel = max(worst_rel, diff / max(span, 1e-12))
            if diff > 1e-3 * max(span, 1e-6):
                print(f'{name} {os.path.basename(path)}: output {blob} differs from OpenCV by {diff:.3g} '
                      f'(range {span:.3g})')
                failed = True
    print(f'{name}: fp32 vs OpenCV dnn on {len(cases)} inputs, outputs {", ".join(sorted(fp32[0]))}: '
          f'max |diff| {worst_abs:.3g} ({worst_rel:.3g} of the output range)')

    # Calibration inputs: a few face images, or for det4 .npy tensors made from them.
    calib = os.path.join(tmp, name + '_calib')
    os.makedirs(calib)
    for i, f in enumerate(calib_files):
        src = os.path.join(calib_dir, f)
        if images is None:
            np.save(os.path.join(calib, f'{i}.npy'), landmark_patches(src, cv2, np))
        else:
            os.symlink(src, os.path.join(calib, f))
    prefix = os.path.join(tmp, name)
    cmd = [os.path.join(args.bin, 'quantization_cmd'), '-p', proto, '-m', weights, '-i', calib, '-o', prefix]
    r = subprocess.run(cmd + (flags if images is not None else []), capture_output=True, text=True)
    if r.returncode != 0:
        print(f'{name}: quantization_cmd failed (exit {r.returncode}): {r.stderr.strip()}')
        return True
    qproto, qmodel = prefix + '.quantized.tnnproto', prefix + '.quantized.tnnmodel'
    if 'QuantizedConvolution' not in open(qproto).read():
        print(f'{name}: the quantized model has no QuantizedConvolution')
        failed = True
    agree = []
    for (path, run_flags, _), ref in zip(cases, fp32):
        q = model_run(args.bin, qproto, qmodel, path, run_flags, os.path.join(tmp, 'qout.txt'), np)
        if sorted(q) != sorted(ref) or any(q[b].shape != ref[b].shape for b in ref):
            print(f'{name}: the int8 model outputs {sorted(q)} {[q[b].shape for b in sorted(q)]}, '
                  f'fp32 {sorted(ref)} {[ref[b].shape for b in sorted(ref)]}')
            failed = True
            continue
        for b in ref:
            if not np.isfinite(q[b]).all():
                print(f'{name}: int8 output {b} has a NaN or Inf')
                failed = True
            span = float(ref[b].max() - ref[b].min())
            agree.append(float(np.abs(q[b] - ref[b]).max()) / max(span, 1e-12))
    print(f'{name}: int8 model from {len(calib_files)} calibration inputs runs; max |int8 - fp32| '
          f'{max(agree) if agree else float("nan"):.3g} of the output range')
    return failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bin', required=True)
    ap.add_argument('--shared', required=True)
    ap.add_argument('--model', choices=sorted(MODELS), action='append',
                    help='model to check (repeatable); default all')
    args = ap.parse_args()
    try:
        import cv2
        import numpy as np
    except ImportError:
        print('SKIP: python3-opencv / numpy are not installed')
        return 77
    if not os.path.isdir(os.path.join(args.shared, 'models', 'zoo')):
        print(f'SKIP: shared folder {args.shared} (with models/zoo) is absent')
        return 77
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.model or list(MODELS):
            try:
                failed = check_model(name, args, cv2, np, tmp) or failed
            except RuntimeError as e:
                print(f'{name}: FAIL: {e}')
                failed = True
    print('FAIL' if failed else 'PASS')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
