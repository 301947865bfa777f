#!/usr/bin/env python3
"""How close the int8 model stays to fp32 on every model of ../shared (bench/zoo_models.py), for one configuration
of quantization_cmd flags: each model is quantized on its calibration set and evaluated by model_eval on its
validation set, never on calibration inputs. Prints a markdown table (min output cosine, each output's cosine,
top-1 agreement for classifiers, detection precision/recall for SSD outputs, calibration time) and, with --json,
writes every model_eval result.

    bench/zoo_accuracy.py --bin build/bin --shared ../shared [--flags "-b 0 -w 0 -t 0"] [--calib 64] [--val 100]
                          [--models a,b] [--json out.json]
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zoo_models as zm  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bin', required=True)
    ap.add_argument('--shared', required=True)
    ap.add_argument('--flags', default='', help='extra quantization_cmd flags (the configuration measured)')
    ap.add_argument('--calib', type=int, default=64, help='calibration inputs per model (0: all)')
    ap.add_argument('--val', type=int, default=100, help='validation inputs per model (0: all)')
    ap.add_argument('--models', default='', help='comma-separated subset of ' + ','.join(zm.MODELS))
    ap.add_argument('--json', default='')
    args = ap.parse_args()
    names = [n for n in args.models.split(',') if n] or list(zm.MODELS)
    results = {}
    print(f'flags: `{args.flags or "(defaults)"}`, {args.calib or "all"} calibration and {args.val or "all"} '
          'validation inputs per model\n')
    print('| model | kind | min output cosine | outputs (cosine, rel. L2) | top-1 agreement | detections P / R | '
          'quantize s |')
    print('|---|---|---|---|---|---|---|')
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            m = zm.MODELS[name]
            calib = zm.data_folder(args.shared, m, 0, args.calib, tmp)
            val = zm.data_folder(args.shared, m, 1, args.val, tmp)
            prefix = os.path.join(tmp, name)
            t0 = time.time()
            q = subprocess.run([os.path.join(args.bin, 'quantization_cmd')] + zm.model_args(args.shared, m) +
                               m['pre'] + ['-i', calib, '-o', prefix, '--report', '0'] + shlex.split(args.flags),
                               capture_output=True, text=True)
            secs = time.time() - t0
            if q.returncode != 0:
                print(f'| {name} | {m["kind"]} | fails: {q.stderr.strip()[:150]} | | | | |')
                results[name] = {'error': q.stderr.strip()}
                continue
            out = os.path.join(tmp, name + '.json')
            ev = [os.path.join(args.bin, 'model_eval')] + zm.model_args(args.shared, m) + m['pre'] + [
                '--int8_proto', prefix + '.quantized.tnnproto', '--int8_model', prefix + '.quantized.tnnmodel',
                '-i', val, '--json', out]
            if m.get('labels'):
                ev += ['--labels', os.path.join(args.shared, m['labels'])]
            e = subprocess.run(ev, capture_output=True, text=True)
            if e.returncode != 0:
                print(f'| {name} | {m["kind"]} | model_eval fails: {e.stderr.strip()[:150]} | | | | |')
                results[name] = {'error': e.stderr.strip()}
                continue
            r = json.load(open(out))
            r['quantize_seconds'] = secs
            results[name] = r
            outs = ', '.join(f"{o['name']} {o['cosine']:.5f} / {o['rel_l2']:.4f}" for o in r['outputs'])
            top1 = f"{100 * r['top1_agreement']:.1f} %" if r.get('top1_agreement') is not None else ''
            dets = ', '.join(f"{100 * d['precision']:.1f} / {100 * d['recall']:.1f} %" for d in r['detections'])
            print(f"| {name} | {m['kind']} | {r['min_output_cosine']:.5f} | {outs} | {top1} | {dets} | {secs:.1f} |")
            sys.stdout.flush()
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'flags': args.flags, 'calib': args.calib, 'val': args.val, 'models': results}, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
