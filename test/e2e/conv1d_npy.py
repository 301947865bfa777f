#!/usr/bin/env python3
"""A non-image model end to end: a 1-D CNN in ONNX (Conv1d, ReLU, MaxPool1d, Conv1d, AvgPool1d on N x C x L),
calibrated on raw .npy tensors. Its fp32 output must equal numpy's, the quantized file must hold int8 convolutions
(1-D layers run as height-1 planes) and its output must stay close to fp32 (cosine > 0.99 on held-out tensors).
Needs python3-onnx and python3-numpy (exit 77 without)."""
import os
import subprocess
import sys
import tempfile


def main():
    bin_dir = sys.argv[1]
    try:
        import numpy as np
        from onnx import TensorProto, helper, numpy_helper, save
    except ImportError as e:
        print(f'SKIP: {e} (python3-onnx and python3-numpy are needed)')
        return 77
    rng = np.random.default_rng(11)
    w1 = rng.normal(0, 0.4, (8, 2, 5)).astype(np.float32)
    b1 = rng.normal(0, 0.1, 8).astype(np.float32)
    w2 = rng.normal(0, 0.3, (4, 8, 3)).astype(np.float32)
    b2 = rng.normal(0, 0.1, 4).astype(np.float32)
    nodes = [helper.make_node('Conv', ['x', 'w1', 'b1'], ['c1'], pads=[2, 2]),
             helper.make_node('Relu', ['c1'], ['r1']),
             helper.make_node('MaxPool', ['r1'], ['p1'], kernel_shape=[2], strides=[2]),
             helper.make_node('Conv', ['p1', 'w2', 'b2'], ['c2'], strides=[2], pads=[1, 1]),
             helper.make_node('AveragePool', ['c2'], ['y'], kernel_shape=[3], strides=[1])]
    graph = helper.make_graph(nodes, 'conv1d', [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 2, 64])],
                              [helper.make_tensor_value_info('y', TensorProto.FLOAT, [1, 4, 14])],
                              [numpy_helper.from_array(a, n) for a, n in
                               [(w1, 'w1'), (b1, 'b1'), (w2, 'w2'), (b2, 'b2')]])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])

    def conv1d(x, w, b, stride, pad):
        xp = np.pad(x, ((0, 0), (pad, pad)))
        k = w.shape[2]
        n = (xp.shape[1] - k) // stride + 1
        return np.stack([np.einsum('ck,ck->', xp[:, i * stride:i * stride + k], w[o]) + b[o]
                         for o in range(w.shape[0]) for i in range(n)]).reshape(w.shape[0], n)

    def reference(x):
        h = np.maximum(conv1d(x[0].astype(np.float64), w1, b1, 1, 2), 0)
        h = h[:, :h.shape[1] // 2 * 2].reshape(8, -1, 2).max(axis=2)
        h = conv1d(h, w2, b2, 2, 1)
        return np.stack([h[:, i:i + 3].mean(axis=1) for i in range(h.shape[1] - 2)], axis=1)

    def run(proto, weights, npy, out):
        args = [os.path.join(bin_dir, 'model_run'), '-p', proto] + (['-m', weights] if weights else []) + \
            ['-i', npy, '-o', out]
        r = subprocess.run(args, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(r.stderr.strip())
        return np.array([float(v) for v in open(out) if not v.startswith('#')])

    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'conv1d.onnx')
        save(model, path)
        calib = os.path.join(tmp, 'calib')
        os.makedirs(calib)
        signal = lambda: (np.sin(np.linspace(0, rng.uniform(4, 12), 128)).reshape(1, 2, 64) +  # noqa: E731
                          rng.normal(0, 0.2, (1, 2, 64))).astype(np.float32)
        for i in range(16):
            np.save(os.path.join(calib, f'{i:02d}.npy'), signal())
        q = os.path.join(tmp, 'q')
        r = subprocess.run([os.path.join(bin_dir, 'quantization_cmd'), '-p', path, '-i', calib, '-o', q,
                            '--report', '0'], capture_output=True, text=True)
        if r.returncode != 0:
            print('FAIL: quantization_cmd:', r.stderr.strip())
            return 1
        n_int8 = open(q + '.quantized.tnnproto').read().count('"QuantizedConvolution ')
        cosines, worst = [], 0.0
        for i in range(8):
            x = signal()
            npy = os.path.join(tmp, f'val{i}.npy')
            np.save(npy, x)
            f = run(path, None, npy, os.path.join(tmp, 'f.txt'))
            worst = max(worst, float(np.abs(f - reference(x).reshape(-1)).max()))
            g = run(q + '.quantized.tnnproto', q + '.quantized.tnnmodel', npy, os.path.join(tmp, 'q.txt'))
            cosines.append(float(np.dot(f, g) / np.linalg.norm(f) / np.linalg.norm(g)))
        print(f'fp32 against numpy: max abs diff {worst:.3g}; int8 convolutions: {n_int8}; '
              f'int8 against fp32 on 8 held-out tensors: min cosine {min(cosines):.5f}')
        if worst > 1e-4:
            failures.append(f'fp32 differs from numpy by {worst}')
        if n_int8 != 2:
            failures.append(f'{n_int8} int8 convolutions in the quantized file, expected 2')
        if min(cosines) < 0.99:
            failures.append(f'int8 cosine {min(cosines)}')
    for f in failures:
        print('FAIL:', f)
    print('conv1d_npy:', 'FAILED' if failures else 'passed')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
