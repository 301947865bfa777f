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
    print(f"{total - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
