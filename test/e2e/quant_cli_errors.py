#!/usr/bin/env python3
"""Command-line checks of quantization_cmd on the repo's bundled LeNet example: a valid run writes both output
files; bad input gives one error line naming the problem, a non-zero exit, and no output file left behind."""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

BIN, SRC = sys.argv[1], sys.argv[2]
EX = os.path.join(SRC, 'examples', 'lenet')
PROTO, MODEL, CALIB = (os.path.join(EX, 'lenet.tnnproto'), os.path.join(EX, 'lenet.tnnmodel'),
                       os.path.join(EX, 'calib'))


def run(args):
    r = subprocess.run([os.path.join(BIN, 'quantization_cmd')] + args, capture_output=True, text=True)
    lines = [l for l in r.stderr.splitlines() if l.startswith('quantization_cmd: error')]
    return r.returncode, lines


def main():
    failures, total = 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, 'q')
        code, err = run(['-p', PROTO, '-m', MODEL, '-i', CALIB, '-s', '0.00390625', '-o', out])
        ok = code == 0 and os.path.exists(out + '.quantized.tnnproto') and os.path.exists(out + '.quantized.tnnmodel')
        print(f"{'ok  ' if ok else 'FAIL'} valid run: exit {code} {err}")
        total += 1
        failures += not ok
        quantized = out + '.quantized.tnnproto', out + '.quantized.tnnmodel'

        # -h (TNN's spelling) prints the usage and the tool's own flags, and exits 0 without running.
        r = subprocess.run([os.path.join(BIN, 'quantization_cmd'), '-h'], capture_output=True, text=True)
        text = r.stdout + r.stderr
        ok = r.returncode == 0 and 'quantization_cmd -p' in text and '-blob_method' in text and 'gflags.cc' not in text
        print(f"{'ok  ' if ok else 'FAIL'} -h: exit {r.returncode}")
        total += 1
        failures += not ok

        empty = os.path.join(tmp, 'empty')
        os.mkdir(empty)
        bad_img = os.path.join(tmp, 'badimg')
        os.mkdir(bad_img)
        shutil.copy(os.path.join(CALIB, 'mnist_test_09900.png'), bad_img)
        open(os.path.join(bad_img, 'zz.png'), 'wb').write(b'not a png')
        bad_txt = os.path.join(tmp, 'badtxt')
        os.mkdir(bad_txt)
        open(os.path.join(bad_txt, 'a.txt'), 'w').write('1 2 3')
        nan_txt = os.path.join(tmp, 'nantxt')
        os.mkdir(nan_txt)
        open(os.path.join(nan_txt, 'a.txt'), 'w').write('nan\n' * 784)
        cases = [
            ('missing folder', ['-i', os.path.join(tmp, 'nope')], 'nope'),
            ('empty folder', ['-i', empty], 'no input file'),
            ('undecodable image', ['-i', bad_img], 'zz.png'),
            ('txt wrong count', ['-i', bad_txt], 'holds 3 numbers'),
            ('NaN in txt', ['-i', nan_txt], 'NaN'),
            ('wrong -n count', ['-i', CALIB, '-n', '1,2,3'], '-n has 3 values'),
            ('bad -b', ['-i', CALIB, '-b', '1'], '-b 1'),
            ('unwritable -o', ['-i', CALIB, '-o', os.path.join(tmp, 'no', 'dir', 'x')], 'does not exist'),
            ('already quantized', ['-p', quantized[0], '-m', quantized[1], '-i', CALIB], 'already quantized'),
        ]
        for name, args, needle in cases:
            prefix = os.path.join(tmp, 'out_' + name.replace(' ', '_'))
            full = ['-p', PROTO, '-m', MODEL, '-s', '0.00390625', '-o', prefix] + args
            if '-o' in args:
                full = ['-p', PROTO, '-m', MODEL] + args
            if '-p' in args:
                full = args + ['-o', prefix]
            code, err = run(full)
            left = glob.glob(prefix + '*')
            ok = code != 0 and len(err) == 1 and needle in err[0] and not left
            print(f"{'ok  ' if ok else 'FAIL'} {name}: exit {code}: {err} {left if left else ''}")
            total += 1
            failures += not ok
        # Statistics reuse: a second run with other methods reads them back (no forward pass) and writes the same
        # model as a fresh run with those methods; statistics of another input set or a corrupt file are refused.
        stats = os.path.join(tmp, 'lenet.stats')
        base = ['-p', PROTO, '-m', MODEL, '-i', CALIB, '-s', '0.00390625']
        code, err = run(base + ['--stats', stats, '-o', os.path.join(tmp, 's0')])
        r_reuse = subprocess.run([os.path.join(BIN, 'quantization_cmd')] + base +
                                 ['--stats', stats, '-b', '2', '-w', '1', '-o', os.path.join(tmp, 's1')],
                                 capture_output=True, text=True)
        code_fresh, _ = run(base + ['-b', '2', '-w', '1', '-o', os.path.join(tmp, 's2')])
        same = all(open(os.path.join(tmp, 's1' + ext), 'rb').read() == open(os.path.join(tmp, 's2' + ext), 'rb').read()
                   for ext in ('.quantized.tnnproto', '.quantized.tnnmodel')) if r_reuse.returncode == 0 else False
        ok = code == 0 and r_reuse.returncode == 0 and code_fresh == 0 and 'statistics reused' in r_reuse.stderr and \
            'calibrating' not in r_reuse.stderr and same
        print(f"{'ok  ' if ok else 'FAIL'} --stats reuse gives the fresh run's model without a forward pass")
        total += 1
        failures += not ok

        other_calib = os.path.join(tmp, 'calib_subset')
        os.mkdir(other_calib)
        for f in sorted(os.listdir(CALIB))[:5]:
            shutil.copy(os.path.join(CALIB, f), other_calib)
        junk = os.path.join(tmp, 'junk.stats')
        open(junk, 'wb').write(b'junk')
        table = os.path.join(tmp, 'lenet.table')
        cases = [
            ('stats of another input set', base[:4] + ['-i', other_calib, '-s', '0.00390625', '--stats', stats],
             'another model, input set or preprocessing'),
            ('stats of other preprocessing', base[:6] + ['-s', '0.005', '--stats', stats],
             'another model, input set or preprocessing'),
            ('corrupt stats file', base + ['--stats', junk], 'bad magic'),
            ('table with per-channel blobs', base + ['-t', '0', '--table', table], 'use -t 1 or -t 2'),
            ('table with asymmetric weights', base + ['-w', '3', '--table', table], 'symmetric'),
            ('equalize alpha out of range', base + ['--equalize', '2'], "--equalize '2' is not"),
            ('equalize with per-channel blobs', base + ['-t', '0', '--equalize', '0.5'], '--equalize needs -t 1'),
            ('unknown merge type', base + ['-t', '3'], '-t 3 is not 0, 1, 2 or auto'),
            ('merge auto with a blob method', base + ['-t', 'auto', '-b', '2'], '-t auto chooses the blob method'),
            ('stats with --compat tnn', base + ['--compat', 'tnn', '--stats', os.path.join(tmp, 'x.stats')],
             '--compat tnn'),
        ]
        for name, args, needle in cases:
            prefix = os.path.join(tmp, 'out_' + name.replace(' ', '_'))
            code, err = run(args + ['-o', prefix])
            left = glob.glob(prefix + '*') + ([table] if os.path.exists(table) else [])
            ok = code != 0 and len(err) == 1 and needle in err[0] and not left
            print(f"{'ok  ' if ok else 'FAIL'} {name}: exit {code}: {err} {left if left else ''}")
            total += 1
            failures += not ok

        code, err = run(base + ['-b', '2', '--table', table, '-o', os.path.join(tmp, 't')])
        lines = open(table).read().split('\n') if os.path.exists(table) else []
        weights = [l.split() for l in lines if '_param_0' in l]
        blobs = [l.split() for l in lines if l and '_param_0' not in l]
        # LeNet: conv1 (20), conv2 (50), ip1 (500), ip2 (10): one multiplier per output channel, then one per input.
        ok = code == 0 and [len(w) - 1 for w in weights] == [20, 50, 500, 10] and \
            [b[0] for b in blobs] == [w[0][:-len('_param_0')] for w in weights] and \
            all(len(b) == 2 and float(b[1]) > 0 for b in blobs)
        print(f"{'ok  ' if ok else 'FAIL'} --table writes ncnn's weight and input multipliers for every int8 layer")
        total += 1
        failures += not ok
    print(f"{total - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
