#!/usr/bin/env python3
"""fp32 and int8 latency of every model of ../shared (bench/zoo_models.py) at one thread: each model is quantized
with quantization_cmd (default flags unless --flags) on some of its calibration inputs, then quant_bench times the
fp32 model and the int8 file on a fixed pseudo-random input, alternating between them. Prints a markdown table
(medians and minima in ms, and int8 / fp32 of the medians), the check that the int8 path is faster than fp32 on
every model.

    bench/zoo_speed.py --bin build/bin --shared ../shared [--flags "-b 2"] [--calib 32] [--runs 60] [--models a,b]
"""
import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zoo_models as zm  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bin', required=True)
    ap.add_argument('--shared', required=True)
    ap.add_argument('--flags', default='', help='extra quantization_cmd flags')
    ap.add_argument('--calib', type=int, default=32, help='calibration inputs per model (0: all)')
    ap.add_argument('--runs', type=int, default=60, help='timed runs per model and path')
    ap.add_argument('--models', default='', help='comma-separated subset of ' + ','.join(zm.MODELS))
    args = ap.parse_args()
    names = [n for n in args.models.split(',') if n] or list(zm.MODELS)
    print(f'quant_bench, 1 thread, {args.runs} runs per path; quantized with `{args.flags or "(defaults)"}` on '
          f'{args.calib or "all"} calibration inputs\n')
    print('| model | fp32 median / min (ms) | int8 median / min (ms) | int8 / fp32 (medians) |')
    print('|---|---|---|---|')
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            m = zm.MODELS[name]
            model = zm.model_args(args.shared, m)
            calib = zm.data_folder(args.shared, m, 0, args.calib, tmp)
            prefix = os.path.join(tmp, name)
            q = subprocess.run([os.path.join(args.bin, 'quantization_cmd')] + model + m['pre'] +
                               ['-i', calib, '-o', prefix, '--report', '0'] + shlex.split(args.flags),
                               capture_output=True, text=True)
            if q.returncode != 0:
                print(f'| {name} | quantization failed: {q.stderr.strip().splitlines()[-1]} | | |')
                continue
            # quant_bench's -m defaults to SqueezeNet's weights: a single-file model needs it emptied.
            bench = [os.path.join(args.bin, 'quant_bench')] + model + ([] if m['model'] else ['-m', '']) + [
                '--int8_proto', prefix + '.quantized.tnnproto', '--int8_model', prefix + '.quantized.tnnmodel',
                '-i', '', '--threads', '1', '--runs', str(args.runs), '--gemm_size', '64']
            r = subprocess.run(bench, capture_output=True, text=True)
            # The latency line: threads, fp32 median / min, int8 median / min, ratio.
            line = next((l.split() for l in r.stdout.splitlines() if re.match(r'^\s+1\s+[0-9.]+\s+/', l)), None)
            if r.returncode != 0 or line is None:
                print(f'| {name} | quant_bench failed | | |')
                continue
            ratio = float(line[7])
            worst = max(worst, ratio)
            print(f'| {name} | {line[1]} / {line[3]} | {line[4]} / {line[6]} | {ratio:.3f} |', flush=True)
    print(f'\nlargest int8 / fp32: {worst:.3f}')


if __name__ == '__main__':
    main()
