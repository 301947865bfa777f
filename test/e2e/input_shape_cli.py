#!/usr/bin/env python3
"""--input_shape on the tools: an ONNX model whose input is [N, 3, H, W] (symbolic H and W) is refused with an
error naming the input and the flag, and runs at the size asked with it, its values equal to a numpy convolution;
quantization_cmd and model_convert take the flag too, the written TNN model carrying the given dims; a name that is
not an input and a malformed shape are one-line errors. Needs python3-onnx and python3-numpy (exit 77 without)."""
import os
import subprocess
import sys
import tempfile


def run(bin_dir, tool, args):
    return subprocess.run([os.path.join(bin_dir, tool)] + args, capture_output=True, text=True)


def main():
    bin_dir = sys.argv[1]
    try:
        import numpy as np
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError as e:
        print(f'SKIP: {e} (python3-onnx and python3-numpy are needed)')
        return 77
    rng = np.random.default_rng(5)
    w = rng.uniform(-1, 1, (4, 3, 3, 3)).astype(np.float32)
    b = rng.uniform(-1, 1, 4).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node('Conv', ['x', 'w', 'b'], ['y'], pads=[1, 1, 1, 1]),
         helper.make_node('Relu', ['y'], ['out'])],
        'dynamic_hw',
        [helper.make_tensor_value_info('x', TensorProto.FLOAT, ['N', 3, 'H', 'W'])],
        [helper.make_tensor_value_info('out', TensorProto.FLOAT, ['N', 4, 'H', 'W'])],
        [numpy_helper.from_array(w, 'w'), numpy_helper.from_array(b, 'b')])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'dyn.onnx')
        onnx.save(model, path)
        x = rng.uniform(-1, 1, (1, 3, 20, 24)).astype(np.float32)
        np.save(os.path.join(tmp, 'x.npy'), x)
        out = os.path.join(tmp, 'out.txt')
        r = run(bin_dir, 'model_run', ['-p', path, '-i', os.path.join(tmp, 'x.npy'), '-o', out])
        if r.returncode != 1 or "'x'" not in r.stderr or '--input_shape' not in r.stderr or os.path.exists(out):
            failures.append(f'no --input_shape: exit {r.returncode}, {r.stderr.strip()!r}')
        r = run(bin_dir, 'model_run', ['-p', path, '-i', os.path.join(tmp, 'x.npy'), '-o', out,
                                       '--input_shape', 'x:1,3,20,24'])
        if r.returncode != 0:
            failures.append(f'with --input_shape: {r.stderr.strip()}')
        else:
            lines = open(out).read().split('\n')
            dims = lines[0].split()[2:]
            got = np.array([float(v) for v in lines[1:] if v]).reshape(1, 4, 20, 24)
            xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
            ref = np.zeros((1, 4, 20, 24), np.float64)
            for oc in range(4):
                for ky in range(3):
                    for kx in range(3):
                        ref[0, oc] += np.einsum('chw,c->hw', xp[0, :, ky:ky + 20, kx:kx + 24], w[oc, :, ky, kx])
                ref[0, oc] += b[oc]
            ref = np.maximum(ref, 0)
            err = float(np.abs(got - ref).max())
            print(f'dynamic H x W at 20x24: dims {dims}, max |ours - numpy| {err:.3g}')
            if dims != ['1', '4', '20', '24'] or err > 1e-4:
                failures.append(f'dims {dims}, error {err}')
        calib = os.path.join(tmp, 'calib')
        os.makedirs(calib)
        for i in range(3):
            np.save(os.path.join(calib, f'{i}.npy'), rng.uniform(-1, 1, (1, 3, 16, 16)).astype(np.float32))
        q = os.path.join(tmp, 'q')
        r = run(bin_dir, 'quantization_cmd', ['-p', path, '-i', calib, '-o', q, '--input_shape', 'x:1,3,16,16',
                                              '--report', '0'])
        if r.returncode != 0 or '"x 4 1 3 16 16' not in open(q + '.quantized.tnnproto').read():
            failures.append(f'quantization_cmd --input_shape: exit {r.returncode} {r.stderr.strip()}')
        c = os.path.join(tmp, 'c')
        r = run(bin_dir, 'model_convert', ['-p', path, '-o', c, '--input_shape', 'x:1,3,32,40'])
        if r.returncode != 0 or '"x 4 1 3 32 40' not in open(c + '.tnnproto').read():
            failures.append(f'model_convert --input_shape: exit {r.returncode} {r.stderr.strip()}')
        for bad, want in [('x:1,3,8,8;y:1,3,8,8', "'y', which is not an input of the model"),
                          ('x:1,3,0,8', "dim '0' is not an integer"), ('x1,3,8,8', 'expected name:')]:
            r = run(bin_dir, 'model_run', ['-p', path, '-i', os.path.join(tmp, 'x.npy'), '-o', out,
                                           '--input_shape', bad])
            if r.returncode != 1 or want not in r.stderr or r.stderr.count('\n') != 1:
                failures.append(f'--input_shape {bad}: exit {r.returncode}, {r.stderr!r}')
    for f in failures:
        print('FAIL:', f)
    print('input_shape_cli:', 'FAILED' if failures else 'passed')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
