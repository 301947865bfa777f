#!/usr/bin/env python3
"""Command-line checks of model_convert: valid conversions (the repo's bundled TNN LeNet, a small Caffe net written
here) write both files and run to the same outputs; bad input gives one error line naming the problem, exit code 1,
and no output file left behind. Uses only files it writes itself plus the repo's bundled LeNet example."""
import glob
import os
import subprocess
import sys
import tempfile

BIN, SRC = sys.argv[1], sys.argv[2]
EX = os.path.join(SRC, 'examples', 'lenet')
PROTO, MODEL = os.path.join(EX, 'lenet.tnnproto'), os.path.join(EX, 'lenet.tnnmodel')
DIGIT = os.path.join(EX, 'calib', 'mnist_test_09900.png')

# A weightless Caffe net (no -m needed): in-place ReLU, pooling with Caffe's rounding, a Softmax.
CAFFE_NET = '''name: "tiny"
input: "data"
input_dim: 1 input_dim: 1 input_dim: 28 input_dim: 28
layer { name: "relu" type: "ReLU" bottom: "data" top: "data" relu_param { negative_slope: 0.5 } }
layer { name: "pool" type: "Pooling" bottom: "data" top: "pool" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
layer { name: "prob" type: "Softmax" bottom: "pool" top: "prob" }
'''


def convert(args):
    r = subprocess.run([os.path.join(BIN, 'model_convert')] + args, capture_output=True, text=True)
    return r.returncode, [l for l in r.stderr.splitlines() if l.startswith('model_convert: error')], r.stderr


def model_run(proto, model, out):
    args = [os.path.join(BIN, 'model_run'), '-p', proto, '-i', DIGIT, '-s', '0.00390625', '-o', out]
    if model:
        args += ['-m', model]
    r = subprocess.run(args, capture_output=True, text=True)
    return r.returncode == 0 and open(out).read()


def main():
    failures, total = 0, 0

    def check(ok, what):
        nonlocal failures, total
        total += 1
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {what}")

    with tempfile.TemporaryDirectory() as tmp:
        def w(name, data):
            p = os.path.join(tmp, name)
            with open(p, 'wb') as f:
                f.write(data)
            return p

        caffe = w('tiny.prototxt', CAFFE_NET.encode())
        for name, args, source in [('TNN model', ['-p', PROTO, '-m', MODEL], (PROTO, MODEL)),
                                   ('Caffe net', ['-p', caffe], (caffe, None))]:
            prefix = os.path.join(tmp, 'conv_' + name.replace(' ', '_'))
            code, err, raw = convert(args + ['-o', prefix])
            files = prefix + '.tnnproto', prefix + '.tnnmodel'
            written = code == 0 and not err and all(os.path.exists(f) for f in files)
            check(written, f'valid conversion of the {name}: exit {code} {raw.strip()}')
            if written:
                a = model_run(source[0], source[1], os.path.join(tmp, 'a.txt'))
                b = model_run(files[0], files[1], os.path.join(tmp, 'b.txt'))
                check(a and a == b, f'the converted {name} gives identical outputs')

        junk = w('junk.caffemodel', b'\xff\xff\xff\xff\xff')
        unknown = w('unknown.prototxt', CAFFE_NET.replace('"Softmax"', '"Frobnicate"').encode())
        conv = w('conv.prototxt', (CAFFE_NET + 'layer { name: "c" type: "Convolution" bottom: "prob" top: "c" '
                                   'convolution_param { num_output: 2 kernel_size: 1 } }\n').encode())
        cases = [
            ('missing model file', ['-p', os.path.join(tmp, 'nope.prototxt')], 'nope.prototxt'),
            ('missing weights file', ['-p', PROTO, '-m', os.path.join(tmp, 'nope.tnnmodel')], 'nope.tnnmodel'),
            ('unknown layer', ['-p', unknown], 'Frobnicate'),
            ('corrupt caffemodel', ['-p', conv, '-m', junk], 'junk.caffemodel'),
            ('weights missing for a layer', ['-p', conv], "layer 'c'"),
            ('unwritable -o', ['-p', caffe, '-o', os.path.join(tmp, 'no', 'dir', 'x')], 'does not exist'),
            ('no -o', ['-p', caffe], '-o'),
        ]
        for name, args, needle in cases:
            prefix = os.path.join(tmp, 'out_' + name.replace(' ', '_'))
            full = args if '-o' in args or name == 'no -o' else args + ['-o', prefix]
            code, err, _ = convert(full)
            left = glob.glob(prefix + '*') + glob.glob(os.path.join(tmp, 'no*'))
            ok = code == 1 and len(err) == 1 and needle in err[0] and not left
            check(ok, f'{name}: exit {code}: {err} {left if left else ""}')
    print(f"{total - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
