#!/usr/bin/env python3
"""A tiny Caffe-SSD detector, generated here, run by model_run and by OpenCV dnn: the detections must agree.

The net (input 1x3x32x32): conv1 (stride 2, 16x16) → Normalize (per position, per-channel scale) → conv2 (stride 2,
8x8); on both feature maps a loc and a conf head (3x3 convolutions, Permute 0 2 3 1, Flatten) and a PriorBox (one
with max_size and ratio 2, one with ratios 2 and 3, clip and an explicit step); Concat of the heads and of the priors
(axis 2), Reshape → Softmax → Flatten of the confidences, DetectionOutput (3 classes, CENTER_SIZE, NMS 0.45,
keep_top_k 20; confidence_threshold 0.05, then 0.8 where fewer boxes than keep_top_k pass, and 0.99 where none does). Weights are random (fixed seed); the caffemodel is written with a small protobuf encoder, so the
test needs no Caffe. Sizes are whole pixels, where Caffe/TNN (which truncate them) and OpenCV (which does not)
agree. OpenCV orders the rows by score over all labels, Caffe by label then score: rows are compared as sets
sorted by (label, -score); labels and count must be equal, scores and boxes within 1e-5. Where nothing is
detected, Caffe (and model_run) write one [0, -1, ...] row and OpenCV none.
Also model_convert's TNN files of the net must give the same rows, and quantization_cmd's int8 model must run
(its priors Concat kept float). Exits 77 when python3-opencv is absent.
"""
import argparse
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model_outputs import read_arrays  # noqa: E402

NUM_CLASSES = 3
KEEP_TOP_K = 20

PROTOTXT = '''name: "tiny_ssd"
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 dim: 32 dim: 32 } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 8 kernel_size: 3 pad: 1 stride: 2 } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "conv1_norm" type: "Normalize" bottom: "conv1" top: "conv1_norm"
  norm_param { across_spatial: false channel_shared: false } }
layer { name: "conv2" type: "Convolution" bottom: "conv1" top: "conv2"
  convolution_param { num_output: 8 kernel_size: 3 pad: 1 stride: 2 } }
layer { name: "relu2" type: "ReLU" bottom: "conv2" top: "conv2" }
''' + ''.join('''layer {{ name: "{f}_loc" type: "Convolution" bottom: "{f}" top: "{f}_loc"
  convolution_param {{ num_output: {loc} kernel_size: 3 pad: 1 }} }}
layer {{ name: "{f}_loc_perm" type: "Permute" bottom: "{f}_loc" top: "{f}_loc_perm"
  permute_param {{ order: 0 order: 2 order: 3 order: 1 }} }}
layer {{ name: "{f}_loc_flat" type: "Flatten" bottom: "{f}_loc_perm" top: "{f}_loc_flat" flatten_param {{ axis: 1 }} }}
layer {{ name: "{f}_conf" type: "Convolution" bottom: "{f}" top: "{f}_conf"
  convolution_param {{ num_output: {conf} kernel_size: 3 pad: 1 }} }}
layer {{ name: "{f}_conf_perm" type: "Permute" bottom: "{f}_conf" top: "{f}_conf_perm"
  permute_param {{ order: 0 order: 2 order: 3 order: 1 }} }}
layer {{ name: "{f}_conf_flat" type: "Flatten" bottom: "{f}_conf_perm" top: "{f}_conf_flat" flatten_param {{ axis: 1 }} }}
layer {{ name: "{f}_priorbox" type: "PriorBox" bottom: "{f}" bottom: "data" top: "{f}_priorbox"
  prior_box_param {{ {prior} }} }}
'''.format(f=f, loc=n * 4, conf=n * NUM_CLASSES, prior=prior) for f, n, prior in [
    ('conv1_norm', 4, 'min_size: 8 max_size: 16 aspect_ratio: 2 flip: true clip: false '
                      'variance: 0.1 variance: 0.1 variance: 0.2 variance: 0.2 offset: 0.5'),
    ('conv2', 6, 'min_size: 16 max_size: 28 aspect_ratio: 2 aspect_ratio: 3 flip: true clip: true '
                 'variance: 0.1 variance: 0.1 variance: 0.2 variance: 0.2 step: 4'),
]) + '''layer { name: "mbox_loc" type: "Concat" bottom: "conv1_norm_loc_flat" bottom: "conv2_loc_flat" top: "mbox_loc"
  concat_param { axis: 1 } }
layer { name: "mbox_conf" type: "Concat" bottom: "conv1_norm_conf_flat" bottom: "conv2_conf_flat" top: "mbox_conf"
  concat_param { axis: 1 } }
layer { name: "mbox_priorbox" type: "Concat" bottom: "conv1_norm_priorbox" bottom: "conv2_priorbox"
  top: "mbox_priorbox" concat_param { axis: 2 } }
layer { name: "mbox_conf_reshape" type: "Reshape" bottom: "mbox_conf" top: "mbox_conf_reshape"
  reshape_param { shape { dim: 0 dim: -1 dim: %d } } }
layer { name: "mbox_conf_softmax" type: "Softmax" bottom: "mbox_conf_reshape" top: "mbox_conf_softmax"
  softmax_param { axis: 2 } }
layer { name: "mbox_conf_flatten" type: "Flatten" bottom: "mbox_conf_softmax" top: "mbox_conf_flatten"
  flatten_param { axis: 1 } }
layer { name: "detection_out" type: "DetectionOutput" bottom: "mbox_loc" bottom: "mbox_conf_flatten"
  bottom: "mbox_priorbox" top: "detection_out"
  detection_output_param { num_classes: %d share_location: true background_label_id: 0
    nms_param { nms_threshold: 0.45 top_k: 100 } code_type: CENTER_SIZE keep_top_k: %d
    confidence_threshold: THRESHOLD } }
''' % (NUM_CLASSES, NUM_CLASSES, KEEP_TOP_K)
# 0.05 keeps more than keep_top_k candidates of both labels; 0.8 fewer (padding rows), and none on some inputs
# (Caffe's no-detection row), 0.99 none.
THRESHOLDS = ['0.05', '0.8', '0.99']

# layer name → blob shapes (weights, bias): what the caffemodel holds.
WEIGHT_SHAPES = {
    'conv1': [(8, 3, 3, 3), (8,)],
    'conv1_norm': [(8,)],
    'conv2': [(8, 8, 3, 3), (8,)],
    'conv1_norm_loc': [(16, 8, 3, 3), (16,)],
    'conv1_norm_conf': [(12, 8, 3, 3), (12,)],
    'conv2_loc': [(24, 8, 3, 3), (24,)],
    'conv2_conf': [(18, 8, 3, 3), (18,)],
}


# ---- A minimal protobuf writer for NetParameter { layer { name blobs { shape data } } } ------------------------

def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7f
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(number, payload):
    """A length-delimited field (wire type 2)."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def blob_proto(shape, values):
    dims = b''.join(varint(d) for d in shape)
    shape_msg = field(1, dims)                                    # BlobShape.dim, packed
    data = field(5, struct.pack('<%df' % len(values), *values))   # BlobProto.data, packed
    return field(7, shape_msg) + data                             # BlobProto.shape = 7


def caffemodel(weights):
    net = b''
    for name, blobs in weights.items():
        layer = field(1, name.encode())                           # LayerParameter.name
        for shape, values in blobs:
            layer += field(7, blob_proto(shape, values))          # LayerParameter.blobs
        net += field(100, layer)                                  # NetParameter.layer
    return net


def model_run(bin_dir, proto, weights, inp, out, np):
    cmd = [os.path.join(bin_dir, 'model_run'), '-p', proto, '-m', weights, '-i', inp, '-o', out]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError('model_run failed: ' + ' '.join(cmd) + ': ' + r.stderr.strip())
    return read_arrays(out, np)['detection_out'].reshape(-1, 7)


def sorted_rows(rows, np):
    keys = (rows[:, 6], rows[:, 5], rows[:, 4], rows[:, 3], -rows[:, 2], rows[:, 1])
    return rows[np.lexsort(keys)] if len(rows) else rows


def compare(name, ours, ref, np):
    if len(ours) != len(ref) or (len(ours) and not np.array_equal(ours[:, :2], ref[:, :2])):
        print(f'{name}: image/label columns differ:\nours\n{ours[:, :3]}\nopencv\n{ref[:, :3]}')
        return True, 0.0
    diff = float(np.abs(ours - ref).max()) if len(ours) else 0.0
    return diff > 1e-5, diff


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bin', required=True)
    ap.add_argument('--keep', help='write the generated files to this folder and keep them')
    args = ap.parse_args()
    try:
        import cv2
        import numpy as np
    except ImportError:
        print('SKIP: python3-opencv / numpy are not installed')
        return 77
    rng = np.random.RandomState(1)
    weights = {}
    for name, shapes in WEIGHT_SHAPES.items():
        blobs = []
        for shape in shapes:
            n = int(np.prod(shape))
            if name == 'conv1_norm':
                values = rng.uniform(5, 20, n)                      # SSD's scale is ~20
            elif len(shape) == 1:
                values = rng.uniform(-0.2, 0.2, n)                  # biases
            else:
                # He initialisation; the heads scaled down so that softmax scores stay well apart from 1 (where
                # float ties would make the order of equal scores decide the keep_top_k cut).
                gain = 0.3 if name.endswith('_loc') else 0.15 if name.endswith('_conf') else 1.0
                values = rng.normal(0, gain * (2.0 / (n / shape[0])) ** 0.5, n)
            blobs.append((shape, [float(v) for v in values.astype(np.float32)]))
        weights[name] = blobs

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or tmp
        os.makedirs(folder, exist_ok=True)
        model = os.path.join(folder, 'tiny_ssd.caffemodel')
        with open(model, 'wb') as f:
            f.write(caffemodel(weights))
        failed = False
        counts, labels_seen = [], set()
        for threshold in THRESHOLDS:
            proto = os.path.join(folder, f'tiny_ssd_{threshold}.prototxt')
            with open(proto, 'w') as f:
                f.write(PROTOTXT.replace('THRESHOLD', threshold))
            converted = os.path.join(folder, f'tiny_ssd_{threshold}')
            r = subprocess.run([os.path.join(args.bin, 'model_convert'), '-p', proto, '-m', model, '-o', converted],
                               capture_output=True, text=True)
            if r.returncode != 0:
                print('FAIL: model_convert:', r.stderr.strip())
                return 1
            net = cv2.dnn.readNetFromCaffe(proto, model)
            for seed in range(3):
                x = np.random.RandomState(100 + seed).uniform(-1, 1, (1, 3, 32, 32)).astype(np.float32)
                inp = os.path.join(folder, f'input{seed}.npy')
                np.save(inp, x)
                try:
                    ours = model_run(args.bin, proto, model, inp, os.path.join(folder, 'out.txt'), np)
                    tnn = model_run(args.bin, converted + '.tnnproto', converted + '.tnnmodel', inp,
                                    os.path.join(folder, 'out_tnn.txt'), np)
                except RuntimeError as e:
                    print('FAIL:', e)
                    return 1
                net.setInput(x)
                ref = net.forward().reshape(-1, 7)
                ref = ref[np.any(ref != 0, axis=1)]            # OpenCV pads with zero rows
                none = len(ours) == 1 and ours[0, 1] == -1
                if none:
                    if not np.array_equal(ours[0], np.array([0, -1, -1, -1, -1, -1, -1], np.float32)):
                        print(f'the no-detection row is {ours[0]}, not [0, -1, -1, -1, -1, -1, -1]')
                        failed = True
                    ours, tnn = ours[:0], tnn[:0]
                if len(ours) > KEEP_TOP_K:
                    print(f'{len(ours)} rows, more than keep_top_k')
                    failed = True
                bad, diff = compare(f'threshold {threshold} input {seed}', sorted_rows(ours, np),
                                    sorted_rows(ref, np), np)
                same_tnn = np.array_equal(ours, tnn)
                labels = {int(v): int((ours[:, 1] == v).sum()) for v in np.unique(ours[:, 1])}
                counts.append(len(ours))
                labels_seen.update(labels)
                print(f'threshold {threshold}, input {seed}: {len(ours)} detections (per label {labels})'
                      f'{" (the no-detection row)" if none else ""}, OpenCV {len(ref)}; max |diff| of scores and '
                      f'boxes {diff:.3g}; model_convert output {"identical" if same_tnn else "DIFFERENT"}')
                failed = failed or bad or not same_tnn
        # quantization_cmd on the net (default flags, the three inputs as calibration): the int8 model must run and
        # keep the priors' Concat float (int8 steps would collapse small priors).
        calib = os.path.join(folder, 'calib')
        os.makedirs(calib, exist_ok=True)
        for seed in range(3):
            os.replace(os.path.join(folder, f'input{seed}.npy'), os.path.join(calib, f'input{seed}.npy'))
        proto = os.path.join(folder, f'tiny_ssd_{THRESHOLDS[0]}.prototxt')
        prefix = os.path.join(folder, 'tiny_ssd_q')
        r = subprocess.run([os.path.join(args.bin, 'quantization_cmd'), '-p', proto, '-m', model, '-i', calib,
                            '-o', prefix], capture_output=True, text=True)
        if r.returncode != 0:
            print('FAIL: quantization_cmd:', r.stderr.strip())
            return 1
        qproto = open(prefix + '.quantized.tnnproto').read()
        try:
            q = model_run(args.bin, prefix + '.quantized.tnnproto', prefix + '.quantized.tnnmodel',
                          os.path.join(calib, 'input0.npy'), os.path.join(folder, 'out_q.txt'), np)
        except RuntimeError as e:
            print('FAIL:', e)
            return 1
        priors_float = '"Concat mbox_priorbox ' in qproto and 'QuantizedConvolution' in qproto
        print(f'int8 model: {len(q)} detections on input 0 (labels {sorted(set(int(v) for v in q[:, 1]))}); '
              f'priors Concat {"float" if priors_float else "QUANTIZED"}')
        failed = failed or not priors_float or len(q) == 0 or not np.isfinite(q).all()
        # The cases must cover the cut at keep_top_k, padding rows, no detection, and more than one label.
        covered = (KEEP_TOP_K in counts and any(0 < n < KEEP_TOP_K for n in counts) and 0 in counts and
                   len(labels_seen) > 1)
        if not covered:
            print(f'the cases do not cover what they should: counts {counts}, labels {sorted(labels_seen)}')
            failed = True
    print('FAIL' if failed else 'PASS')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
