#!/usr/bin/env python3
"""Accuracy of every quantization_cmd method combination on a model of ../shared, against its fp32 model.

Calibrates once (quantization_cmd --stats), then for each -b x -w x -t combination quantizes from the saved
statistics (no forward pass) and runs model_eval on the labelled validation folder. Prints a markdown table
(the one in doc/accuracy.md) and, with --json, writes every result.

    bench/accuracy_sweep.py --bin build/bin --shared ../shared --model squeezenet [--combos all|default]
"""
import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time

MODELS = {
    'squeezenet': dict(proto='models/squeezenet_v1.1/squeezenet_v1.1.tnnproto',
                       model='models/squeezenet_v1.1/squeezenet_v1.1.tnnmodel',
                       calib='data/imagenet_calib', val='data/imagenet_val',
                       pre=['-r', '1', '-n', '104,117,123']),
    'lenet': dict(proto='models/lenet/lenet.tnnproto', model='models/lenet/lenet.tnnmodel',
                  calib='data/mnist/calib', val='data/mnist/val', pre=['-s', '0.00390625']),
}
BLOB = {0: 'Min-Max', 2: 'KL', 3: 'asym. Min-Max', 4: 'ACIQ-Gauss', 5: 'ACIQ-Laplace', 6: 'MSE'}
WEIGHT = {0: 'Min-Max', 1: 'ADMM', 3: 'asym. Min-Max'}
MERGE = {0: 'per-channel', 1: 'mixed', 2: 'per-tensor'}


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr[-2000:]}")
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--bin', required=True)
    ap.add_argument('--shared', required=True)
    ap.add_argument('--model', choices=sorted(MODELS), default='squeezenet')
    ap.add_argument('--combos', default='all',
                    help="'all', 'default' (-b 0 -w 0 -t 1) or a list like 2:1:1,0:0:1 (b:w:t)")
    ap.add_argument('--calib', help='calibration folder (default: the model\'s in ../shared)')
    ap.add_argument('--val', help='labelled validation folder (default: the model\'s in ../shared)')
    ap.add_argument('--json', help='write every result here')
    args = ap.parse_args()
    m = MODELS[args.model]
    sh = lambda p: os.path.join(args.shared, p)
    calib = args.calib or sh(m['calib'])
    val = args.val or sh(m['val'])
    qcmd = os.path.join(args.bin, 'quantization_cmd')
    ecmd = os.path.join(args.bin, 'model_eval')
    if args.combos == 'all':
        combos = list(itertools.product(BLOB, WEIGHT, MERGE))
    elif args.combos == 'default':
        combos = [(0, 0, 1)]
    else:
        combos = [tuple(int(x) for x in c.split(':')) for c in args.combos.split(',')]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        stats = os.path.join(tmp, 'calib.stats')
        base = ['-p', sh(m['proto']), '-m', sh(m['model']), '-i', calib] + m['pre']
        t0 = time.time()
        run([qcmd] + base + ['--stats', stats, '--report', '0', '-o', os.path.join(tmp, 'first')])
        print(f"calibration statistics collected in {time.time() - t0:.1f} s", file=sys.stderr)
        for b, w, t in combos:
            out = os.path.join(tmp, f'q_{b}{w}{t}')
            run([qcmd] + base + ['--stats', stats, '-b', str(b), '-w', str(w), '-t', str(t), '-o', out])
            js = out + '.json'
            run([ecmd, '-p', sh(m['proto']), '-m', sh(m['model']), '--int8_proto', out + '.quantized.tnnproto',
                 '--int8_model', out + '.quantized.tnnmodel', '-i', val, '--json', js] + m['pre'])
            r = json.load(open(js))
            r['flags'] = dict(b=b, w=w, t=t)
            results.append(r)
            print(f"-b {b} -w {w} -t {t}: int8 top-1 {100 * r['int8']['top1']:.2f} (fp32 "
                  f"{100 * r['fp32']['top1']:.2f}), agreement {100 * r['top1_agreement']:.2f}", file=sys.stderr)
    if args.json:
        json.dump(results, open(args.json, 'w'), indent=1)
    fp32 = results[0]['fp32']
    print(f"{args.model}: {results[0]['images']} validation images; fp32 top-1 {100 * fp32['top1']:.2f} %, "
          f"top-5 {100 * fp32['top5']:.2f} %\n")
    print('| -b | -w | -t | int8 top-1 | Δ top-1 | int8 top-5 | top-1 agreement | output cosine |')
    print('|---|---|---|---|---|---|---|---|')
    for r in results:
        f = r['flags']
        print(f"| {f['b']} {BLOB[f['b']]} | {f['w']} {WEIGHT[f['w']]} | {f['t']} {MERGE[f['t']]} | "
              f"{100 * r['int8']['top1']:.2f} | {100 * (r['int8']['top1'] - fp32['top1']):+.2f} | "
              f"{100 * r['int8']['top5']:.2f} | {100 * r['top1_agreement']:.2f} | {r['output_cosine']:.5f} |")


if __name__ == '__main__':
    main()
