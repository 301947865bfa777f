#!/usr/bin/python3
"""Mutated copies of real models through model_run: each must run or fail with one clean line (exit 1).

    /usr/bin/python3 test/fuzz/mutate_models.py BUILD_DIR [COPIES_PER_MODEL] [MODEL_ROOT]

Takes every model of MODEL_ROOT (default ../shared/models: TNN pairs, Caffe pairs, ONNX files), writes COPIES
(default 20) mutated copies of each (bytes flipped near the start and anywhere, a range erased or duplicated, a
truncation; for a pair one of the two files is mutated) and runs BUILD_DIR/bin/model_run on each with an image
input. A copy passes when model_run exits 0 with its output file, or exits 1 with exactly one line on stderr, no
output file, within 120 s. Prints one line per failure and the totals; exit status 1 if any copy failed.
"""
import os
import random
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def find_models(root):
    models = []
    for d, _, files in os.walk(root):
        for f in sorted(files):
            p = os.path.join(d, f)
            if f.endswith(".tnnproto") and os.path.exists(p[:-len(".tnnproto")] + ".tnnmodel"):
                models.append((p, p[:-len(".tnnproto")] + ".tnnmodel"))
            elif f.endswith(".onnx"):
                models.append((p, None))
            elif f.endswith(".prototxt"):
                stem = p[:-len(".prototxt")]
                for w in (stem + ".caffemodel", os.path.join(d, "lenet_iter_10000.caffemodel")
                          if f == "lenet.prototxt" else "", os.path.join(d, "lenet_v2.caffemodel")
                          if f == "lenet_deploy_v2.prototxt" else "", os.path.join(d, "squeezenet_v1.1.caffemodel")
                          if f == "deploy.prototxt" else ""):
                    if w and os.path.exists(w):
                        models.append((p, w))
                        break
    return models


def mutate(data, rng):
    b = bytearray(data)
    if not b:
        return bytes(b)
    kind = rng.randrange(5)
    if kind == 0:  # flips near the start (headers, counts, dims)
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(min(len(b), 512))] = rng.randrange(256)
    elif kind == 1:  # flips anywhere
        for _ in range(rng.randint(1, 16)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    elif kind == 2:  # truncation
        b = b[:rng.randrange(len(b))]
    elif kind == 3:  # a range erased
        i = rng.randrange(len(b))
        del b[i:i + rng.randint(1, 64)]
    else:  # a range duplicated, or a 32-bit field set to an extreme
        i = rng.randrange(len(b))
        if rng.random() < 0.5:
            b[i:i] = b[i:i + rng.randint(1, 64)]
        else:
            b[i:i + 4] = rng.choice([b"\xff\xff\xff\x7f", b"\x00\x00\x00\x80", b"\xff\xff\xff\xff", b"\x00\x00\x10\x00"])
    return bytes(b)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    model_run = os.path.join(sys.argv[1], "bin", "model_run")
    copies = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    root = sys.argv[3] if len(sys.argv) > 3 else os.path.join(os.path.dirname(ROOT), "shared", "models")
    image = os.path.join(ROOT, "examples", "lenet", "calib", sorted(os.listdir(os.path.join(ROOT, "examples", "lenet",
                                                                                             "calib")))[0])
    rng = random.Random(14)
    counts = {"ran": 0, "error": 0, "FAILED": 0}
    with tempfile.TemporaryDirectory() as tmp:
        for proto, weights in find_models(root):
            pdata = open(proto, "rb").read()
            wdata = open(weights, "rb").read() if weights else None
            for k in range(copies):
                p, w = pdata, wdata
                if weights is None or rng.random() < 0.5:
                    p = mutate(pdata, rng)
                else:
                    w = mutate(wdata, rng)
                pp = os.path.join(tmp, "m" + os.path.splitext(proto)[1])
                open(pp, "wb").write(p)
                cmd = [model_run, "-p", pp, "-i", image, "-o", os.path.join(tmp, "out.txt"), "--threads", "1"]
                if weights:
                    wp = os.path.join(tmp, "w" + os.path.splitext(weights)[1])
                    open(wp, "wb").write(w)
                    cmd[3:3] = ["-m", wp]
                out = os.path.join(tmp, "out.txt")
                if os.path.exists(out):
                    os.remove(out)
                try:
                    r = subprocess.run(cmd, capture_output=True, timeout=120)
                    err = r.stderr.decode(errors="replace").strip("\n")
                    ok = (r.returncode == 0 and os.path.exists(out)) or \
                         (r.returncode == 1 and err and "\n" not in err and not os.path.exists(out))
                    why = "exit %d, stderr %r" % (r.returncode, err[:300])
                except subprocess.TimeoutExpired:
                    ok, why = False, "timeout"
                if ok:
                    counts["ran" if r.returncode == 0 else "error"] += 1
                else:
                    counts["FAILED"] += 1
                    # The failing copy is kept for reproduction.
                    keep = os.path.join(tempfile.gettempdir(), "qt_mutant_%d" % counts["FAILED"])
                    os.makedirs(keep, exist_ok=True)
                    open(os.path.join(keep, os.path.basename(pp)), "wb").write(p)
                    if weights:
                        open(os.path.join(keep, os.path.basename(wp)), "wb").write(w)
                    why += " (copy kept in %s)" % keep
                    print("FAILED %s copy %d: %s" % (os.path.relpath(proto, root), k, why))
            print("%-60s done" % os.path.relpath(proto, root), flush=True)
    print("%d copies: %d ran, %d clean one-line errors, %d failed" % (sum(counts.values()), counts["ran"],
                                                                     counts["error"], counts["FAILED"]))
    sys.exit(1 if counts["FAILED"] else 0)


if __name__ == "__main__":
    main()
