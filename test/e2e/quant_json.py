#!/usr/bin/env python3
"""quantization_cmd --json: on the bundled LeNet and on a small residual ONNX model made here (a 1x1 convolution and
the Add after it, which TNN's runtime fuses), the JSON parses, lists exactly the quantized layers of the written
model in order with valid figures, marks the fused pair, gives the report's per-output figures and, where -t auto
chose the merge type (36 inputs), both candidates' scores. Needs
python3-onnx and python3-numpy for the residual model (that part is skipped without them)."""
import json
import os
import re
import subprocess
import sys
import tempfile

KEYS = {'model', 'weights', 'calibration_inputs', 'flags', 'seconds', 'threads', 'peak_memory_mb', 'layers', 'report',
        'layer_errors', 'histograms', 'float_layers', 'weight_ranges', 'sweep', 'auto_scales', 'refine_auto',
        'refinement', 'float_steps', 'held_out_inputs', 'equalized', 'merge_auto'}


def check(bin_dir, args, prefix, json_path, failures, where):
    r = subprocess.run([os.path.join(bin_dir, 'quantization_cmd')] + args + ['-o', prefix, '--json', json_path],
                       capture_output=True, text=True)
    if r.returncode != 0:
        failures.append(f'{where}: quantization_cmd failed: {r.stderr.strip()}')
        return None
    j = json.load(open(json_path))
    if set(j) != KEYS:
        failures.append(f'{where}: keys {sorted(j)}')
    proto = open(prefix + '.quantized.tnnproto').read()
    quantized = re.findall(r'"Quantized\w+ (\S+) ', proto)
    if [l['name'] for l in j['layers']] != quantized:
        failures.append(f'{where}: layers {[l["name"] for l in j["layers"]]} but the model quantizes {quantized}')
    for l in j['layers']:
        if not (0 < l['scale_min'] <= l['scale_max']):
            failures.append(f'{where}: {l["name"]} scales {l["scale_min"]} {l["scale_max"]}')
        if not l['fused_at_run_time'] and not (0 <= l['clipped'] <= 1 and -1 <= l['cosine'] <= 1):
            failures.append(f'{where}: {l["name"]} clipped {l["clipped"]} cosine {l["cosine"]}')
    errors = [l['name'] for l in j['layer_errors']['layers']]
    if errors != quantized or not all(0 < l['local_cosine'] <= 1.000001 for l in j['layer_errors']['layers']):
        failures.append(f'{where}: layer_errors {j["layer_errors"]}')
    if not j['histograms']['blobs'] or any(len(h['counts']) != 128 for h in j['histograms']['blobs']):
        failures.append(f'{where}: histograms of {[h["blob"] for h in j["histograms"]["blobs"]]}')
    if not isinstance(j['equalized'], list) or not all(isinstance(b, str) for b in j['equalized']):
        failures.append(f'{where}: equalized {j["equalized"]}')
    m = j['merge_auto']
    if m is not None and not (m['kept'] == j['flags']['merge_type'] in (0, 1) and m['scoring_inputs'] > 0 and
                              [c['name'] for c in m['candidates']] == ['per-tensor blobs', 'per-channel blobs'] and
                              all(-1 <= c['min_output_cosine'] <= 1.000001 for c in m['candidates'])):
        failures.append(f'{where}: merge_auto {m} with merge type {j["flags"]["merge_type"]}')
    rep = j['report']
    if not rep or not rep['outputs'] or not all(0.9 < o['cosine'] <= 1.000001 for o in rep['outputs']):
        failures.append(f'{where}: report {rep}')
    return j


def main():
    bin_dir, source = sys.argv[1], sys.argv[2]
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        lenet = os.path.join(source, 'examples', 'lenet')
        j = check(bin_dir, ['-p', os.path.join(lenet, 'lenet.tnnproto'), '-m', os.path.join(lenet, 'lenet.tnnmodel'),
                            '-i', os.path.join(lenet, 'calib'), '-s', '0.00390625'],
                  os.path.join(tmp, 'lenet'), os.path.join(tmp, 'lenet.json'), failures, 'LeNet')
        if j and not (j['report']['classifier'] and j['report']['top1_agreement'] is not None):
            failures.append(f'LeNet: not reported as a classifier: {j["report"]}')
        try:
            import numpy as np
            from onnx import TensorProto, helper, numpy_helper, save
        except ImportError as e:
            print(f'residual model skipped: {e}')
        else:
            rng = np.random.default_rng(2)
            w1 = rng.normal(0, 0.3, (8, 3, 3, 3)).astype(np.float32)
            w2 = rng.normal(0, 0.3, (8, 8, 1, 1)).astype(np.float32)
            nodes = [helper.make_node('Conv', ['x', 'w1'], ['c1'], pads=[1, 1, 1, 1]),
                     helper.make_node('Relu', ['c1'], ['r1']),
                     helper.make_node('Conv', ['r1', 'w2'], ['c2']),
                     helper.make_node('Add', ['c2', 'r1'], ['s']),
                     helper.make_node('Relu', ['s'], ['y'])]
            g = helper.make_graph(nodes, 'res', [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 3, 16, 16])],
                                  [helper.make_tensor_value_info('y', TensorProto.FLOAT, [1, 8, 16, 16])],
                                  [numpy_helper.from_array(w1, 'w1'), numpy_helper.from_array(w2, 'w2')])
            path = os.path.join(tmp, 'res.onnx')
            save(helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)]), path)
            calib = os.path.join(tmp, 'calib')
            os.makedirs(calib)
            # 36 inputs: enough for the default -t auto to hold 9 out and score both merge types on them.
            for i in range(36):
                np.save(os.path.join(calib, f'{i}.npy'), rng.uniform(-1, 1, (1, 3, 16, 16)).astype(np.float32))
            j = check(bin_dir, ['-p', path, '-i', calib], os.path.join(tmp, 'res'), os.path.join(tmp, 'res.json'),
                      failures, 'residual')
            if j:
                fused = [l['type'] for l in j['layers'] if l['fused_at_run_time']]
                print('residual model: fused at run time:', fused)
                if fused != ['Convolution', 'Add']:
                    failures.append(f'residual: fused layers {fused}, expected the 1x1 Convolution and the Add')
                if j['report']['classifier'] or j['report']['top1_agreement'] is not None:
                    failures.append('residual: taken for a classifier')
                if not j['merge_auto'] or j['merge_auto']['scoring_inputs'] != 9:
                    failures.append(f'residual: merge_auto {j["merge_auto"]}, expected 9 held-out scoring inputs')
    for f in failures:
        print('FAIL:', f)
    print('quant_json:', 'FAILED' if failures else 'passed')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
