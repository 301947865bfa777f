#!/usr/bin/env python3
"""Command-line error handling of model_run: bad input gives one line on stderr naming the file and the rule,
a non-zero exit, and no output file. Uses only files it writes itself plus the repo's bundled LeNet example."""
import os
import struct
import subprocess
import sys
import tempfile

BIN = sys.argv[1]
SRC = sys.argv[2]
PROTO = os.path.join(SRC, 'examples', 'lenet', 'lenet.tnnproto')
MODEL = os.path.join(SRC, 'examples', 'lenet', 'lenet.tnnmodel')
DIGIT = os.path.join(SRC, 'examples', 'lenet', 'calib', 'mnist_test_09900.png')


def run(args, out):
    r = subprocess.run([os.path.join(BIN, 'model_run')] + args + ['-o', out], capture_output=True, text=True)
    return r.returncode, r.stderr.strip()


def main():
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        def w(name, data):
            p = os.path.join(tmp, name)
            with open(p, 'wb') as f:
                f.write(data)
            return p

        model = open(MODEL, 'rb').read()
        proto = open(PROTO, 'rb').read()
        cases = [
            ('missing model file', ['-p', PROTO, '-m', os.path.join(tmp, 'nope.tnnmodel'), '-i', DIGIT], 'nope.tnnmodel'),
            ('bad model magic', ['-p', PROTO, '-m', w('bad.tnnmodel', b'\x00\x01\x02\x03' + model[4:]), '-i', DIGIT],
             'bad magic'),
            ('truncated model', ['-p', PROTO, '-m', w('trunc.tnnmodel', model[:len(model) // 2]), '-i', DIGIT],
             'trunc.tnnmodel'),
            ('unknown layer', ['-p', w('u.tnnproto', proto.replace(b'"SoftmaxCaffe', b'"Frobnicate')), '-m', MODEL,
                               '-i', DIGIT], 'Frobnicate'),
            ('dangling blob', ['-p', w('d.tnnproto', proto.replace(b'ip2 10 1 0 1', b'ip2 10 1 0 1').replace(
                b'InnerProduct ip2 1 1 relu1', b'InnerProduct ip2 1 1 ghost')), '-m', MODEL, '-i', DIGIT], 'ghost'),
            ('undecodable image', ['-p', PROTO, '-m', MODEL, '-i', w('x.png', b'garbage')], 'x.png'),
            ('txt wrong count', ['-p', PROTO, '-m', MODEL, '-i', w('x.txt', b'1 2 3')], 'x.txt'),
            ('txt NaN', ['-p', PROTO, '-m', MODEL, '-i', w('n.txt', b'nan ' * 784)], 'NaN'),
            ('wrong -n count', ['-p', PROTO, '-m', MODEL, '-i', DIGIT, '-n', '1,2'], '-n has 2 values'),
            ('bad -s', ['-p', PROTO, '-m', MODEL, '-i', DIGIT, '-s', '1/256'], '-s value'),
        ]
        for name, args, needle in cases:
            out = os.path.join(tmp, 'out.txt')
            code, err = run(args, out)
            ok = code != 0 and needle in err and len(err.splitlines()) == 1 and not os.path.exists(out)
            print(f"{'ok  ' if ok else 'FAIL'} {name}: exit {code}: {err}")
            failures += not ok
        out = os.path.join(tmp, 'good.txt')
        code, err = run(['-p', PROTO, '-m', MODEL, '-i', DIGIT, '-s', '0.00390625'], out)
        good = code == 0 and open(out).readline().startswith('# prob 1 10')
        print(f"{'ok  ' if good else 'FAIL'} valid run: exit {code} {err}")
        failures += not good
        unwritable = run(['-p', PROTO, '-m', MODEL, '-i', DIGIT], os.path.join(tmp, 'no', 'dir', 'o.txt'))
        ok = unwritable[0] != 0 and 'o.txt' in unwritable[1]
        print(f"{'ok  ' if ok else 'FAIL'} unwritable output: {unwritable}")
        failures += not ok
    print(f"{12 - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
