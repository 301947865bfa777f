#!/usr/bin/env python3
"""The TNN files of shared/models/zoo (files from TNN's own model zoo) run by model_run on face photos, against the
outputs TNN's own runtime computed on the same inputs (data/tnn_runtime/*.txt, written by
make_tnn_runtime_fixtures.py with TNN f0cb081's NAIVE device): every kept value within 1e-3 of the output's range,
and the sums of all values and of their magnitudes within 1e-3 of the range per value (a single-value
output is compared with its magnitude).
Where the zoo keeps the ONNX file a TNN model was converted from (UltraFace-slim), that file must give the same
outputs. Also quantizes each with default flags on 8 faces/calib images and checks the int8 model runs.
Exits 77 (ctest's skip code) with a message when the shared folder or python3-opencv/numpy is absent."""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tnn_zoo_inputs as zi  # noqa: E402


def read_fixture(path):
    entries, lines = [], open(path).read().splitlines()
    i = 1
    while i < len(lines):
        head = lines[i].split()
        count_at = head.index('count')
        f = {head[k]: head[k + 1] for k in range(count_at, len(head) - 1, 2)}
        dims = [int(x) for x in head[head.index('dims') + 1:count_at]]
        entries.append({'input': int(head[1]), 'name': head[3], 'dims': dims, 'count': int(f['count']),
                        'sum': float(f['sum']), 'abssum': float(f['abssum']), 'min': float(f['min']),
                        'max': float(f['max']), 'stride': int(f['stride']),
                        'values': [float(x) for x in lines[i + 1].split()]})
        i += 2
    return entries


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bin', required=True)
    ap.add_argument('--shared', required=True)
    ap.add_argument('--model', required=True, choices=sorted(zi.MODELS))
    args = ap.parse_args()
    if not os.path.isdir(os.path.join(args.shared, 'models', 'zoo')):
        print(f'SKIP: shared folder {args.shared} has no models/zoo')
        return 77
    try:
        import cv2
        import numpy as np
    except ImportError as e:
        print(f'SKIP: {e} (python3-opencv and python3-numpy are needed)')
        return 77
    rel, h, w, mean, scale = zi.MODELS[args.model]
    prefix = os.path.join(args.shared, 'models', 'zoo', rel)
    fixture = read_fixture(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'tnn_runtime',
                                        args.model + '.txt'))
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        images = zi.face_images(args.shared)
        outputs = []
        for i, image in enumerate(images):
            npy = os.path.join(tmp, f'in{i}.npy')
            zi.write_input(cv2, np, image, h, w, mean, scale, npy)
            out = os.path.join(tmp, f'out{i}.txt')
            r = subprocess.run([os.path.join(args.bin, 'model_run'), '-p', prefix + '.tnnproto', '-m',
                                prefix + '.tnnmodel', '-i', npy, '-o', out], capture_output=True, text=True)
            if r.returncode != 0:
                print(f'FAIL: model_run on {image}: {r.stderr.strip()}')
                return 1
            outputs.append(zi.read_outputs(out))
        for e in fixture:
            ours = outputs[e['input']].get(e['name'])
            where = f"{args.model} input {e['input']} output {e['name']}"
            if ours is None or ours['dims'] != e['dims']:
                failures.append(f"{where}: dims {ours and ours['dims']} vs TNN's {e['dims']}")
                continue
            v = np.array(ours['values'], np.float64)
            # A single value (FaceMesh's face score) has no range: its magnitude stands in.
            rng = max(e['max'] - e['min'] if e['count'] > 1 else abs(e['max']), 1e-6)
            worst = float(np.abs(v[::e['stride']] - np.array(e['values'])).max())
            dsum = abs(v.sum() - e['sum']) / len(v)
            dabs = abs(np.abs(v).sum() - e['abssum']) / len(v)
            print(f'{where}: {len(v)} values, range {rng:.4g}: max |ours - TNN| {worst:.3g} on {len(e["values"])} '
                  f'kept values ({worst / rng:.2e} of the range), mean sum difference {dsum:.3g}')
            if worst > 1e-3 * rng or dsum > 1e-3 * rng or dabs > 1e-3 * rng:
                failures.append(f'{where}: differs from TNN by {worst:.4g} (range {rng:.4g})')
        # The zoo keeps the ONNX file TNN's UltraFace was converted from: it must compute the same.
        source_onnx = prefix + '.onnx'
        if os.path.exists(source_onnx):
            for i in range(len(images)):
                out = os.path.join(tmp, f'onnx{i}.txt')
                r = subprocess.run([os.path.join(args.bin, 'model_run'), '-p', source_onnx, '-i',
                                    os.path.join(tmp, f'in{i}.npy'), '-o', out], capture_output=True, text=True)
                if r.returncode != 0:
                    failures.append(f'model_run on {source_onnx}: {r.stderr.strip()}')
                    break
                theirs = zi.read_outputs(out)
                for name, blob in outputs[i].items():
                    a, b = np.array(blob['values']), np.array(theirs[name]['values'])
                    rng = max(float(np.ptp(b)), 1e-6)
                    err = float(np.abs(a - b).max())
                    print(f'{args.model} input {i} output {name}: TNN file against its ONNX source, max diff {err:.3g} '
                          f'({err / rng:.2e} of the range)')
                    if err > 1e-3 * rng:
                        failures.append(f'{args.model} {name}: the TNN file and its ONNX source differ by {err:.4g}')
        calib = os.path.join(tmp, 'calib')
        os.makedirs(calib)
        folder = os.path.join(args.shared, 'data', 'faces', 'calib')
        for name in sorted(os.listdir(folder))[:8]:
            shutil.copy(os.path.join(folder, name), calib)
        flags = ['-n', ','.join(map(str, mean)), '-s', ','.join(map(str, scale))]
        q = os.path.join(tmp, 'q')
        r = subprocess.run([os.path.join(args.bin, 'quantization_cmd'), '-p', prefix + '.tnnproto', '-m',
                            prefix + '.tnnmodel', '-i', calib, '-o', q, '--report', '2'] + flags,
                           capture_output=True, text=True)
        if r.returncode != 0:
            failures.append(f'quantization_cmd: {r.stderr.strip()}')
        else:
            r = subprocess.run([os.path.join(args.bin, 'model_run'), '-p', q + '.quantized.tnnproto', '-m',
                                q + '.quantized.tnnmodel', '-i', os.path.join(tmp, 'in0.npy'), '-o',
                                os.path.join(tmp, 'q.txt')], capture_output=True, text=True)
            if r.returncode != 0:
                failures.append(f'int8 model_run: {r.stderr.strip()}')
            else:
                print(f'{args.model}: quantized with default flags and ran; {r.stdout.strip()}'.rstrip('; '))
    for f in failures:
        print('FAIL:', f)
    print(f'{args.model}: {"FAILED" if failures else "passed"}')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
