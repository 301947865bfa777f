#!/usr/bin/env python3
"""Caffe's elementwise layers ELU, AbsVal, Power, Exp (with base, scale, shift) and Log through model_run, on a
prototxt made here: every layer's output against OpenCV dnn, except Log, whose log_param OpenCV 4.6 ignores (its
output there differs from Caffe's formula by 0.3), which is checked against Caffe's formula in numpy. Exits 77 (ctest's
skip code) without python3-opencv/numpy."""
import os
import subprocess
import sys
import tempfile

PROTOTXT = '''name: "unary"
input: "data"
input_dim: 1
input_dim: 3
input_dim: 4
input_dim: 5
layer { name: "elu" type: "ELU" bottom: "data" top: "elu" elu_param { alpha: 0.7 } }
layer { name: "abs" type: "AbsVal" bottom: "elu" top: "abs" }
layer { name: "pow" type: "Power" bottom: "abs" top: "pow" power_param { power: 2 scale: 0.5 shift: 1 } }
layer { name: "exp" type: "Exp" bottom: "pow" top: "exp" exp_param { base: 2 scale: 0.5 shift: -0.25 } }
layer { name: "log" type: "Log" bottom: "exp" top: "log" log_param { base: 10 scale: 2 shift: 0.5 } }
layer { name: "exp2" type: "Exp" bottom: "log" top: "exp2" }
'''


def main():
    bin_dir = sys.argv[1]
    try:
        import cv2
        import numpy as np
    except ImportError as e:
        print(f'SKIP: {e} (python3-opencv and python3-numpy are needed)')
        return 77
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        x = np.random.default_rng(3).uniform(-2, 2, (1, 3, 4, 5)).astype(np.float32)
        np.save(os.path.join(tmp, 'x.npy'), x)
        net_path = os.path.join(tmp, 'net.prototxt')
        with open(net_path, 'w') as f:
            f.write(PROTOTXT)
        net = cv2.dnn.readNetFromCaffe(net_path)
        ref = {}
        for name in ['elu', 'abs', 'pow', 'exp']:
            net.setInput(x)
            ref[name] = net.forward(name).astype(np.float64)
        ref['log'] = np.log10(0.5 + 2 * ref['exp'])
        ref['exp2'] = np.exp(ref['log'])
        for name in ['elu', 'abs', 'pow', 'exp', 'exp2']:
            # Each prefix of the chain as its own net, so every layer's output is compared.
            lines = PROTOTXT.split('\n')
            keep = [l for l in lines if not l.startswith('layer')] + \
                [l for l in lines if l.startswith('layer')][:['elu', 'abs', 'pow', 'exp', 'log', 'exp2'].index(name) + 1]
            prefix_path = os.path.join(tmp, name + '.prototxt')
            with open(prefix_path, 'w') as f:
                f.write('\n'.join(keep) + '\n')
            out = os.path.join(tmp, name + '.txt')
            r = subprocess.run([os.path.join(bin_dir, 'model_run'), '-p', prefix_path, '-i', os.path.join(tmp, 'x.npy'),
                                '-o', out], capture_output=True, text=True)
            if r.returncode != 0:
                failures.append(f'{name}: {r.stderr.strip()}')
                continue
            v = np.array([float(s) for s in open(out) if not s.startswith('#')]).reshape(x.shape)
            err = float(np.abs(v - ref[name]).max())
            scale = max(float(np.abs(ref[name]).max()), 1e-6)
            print(f'{name}: max |ours - reference| {err:.3g} (values up to {scale:.3g})')
            if err > 1e-5 * max(1.0, scale):
                failures.append(f'{name}: differs by {err}')
    for f in failures:
        print('FAIL:', f)
    print('caffe_unary_vs_opencv:', 'FAILED' if failures else 'passed')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
