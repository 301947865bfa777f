#!/usr/bin/env python3
"""Real SSDs with DetectionOutput: UltraFace RFB-320 and slim-320 (../shared, their own weights) with their
post-processing as Caffe PriorBox/DetectionOutput layers (bench/ultraface_ssd.py). For each:

1. fp32: model_run's detections on face images (single faces and crowds, up to 90 faces) against OpenCV dnn's on
   the same files: the same number per image, each matched one to one with IoU >= 0.99 and the same score within
   1e-4. (Boxes are matched, not compared row by row: faces whose scores both round to 0.9999999 may come out in
   either order.)
2. The model_convert TNN files give the same rows as the Caffe files.
3. int8: quantization_cmd with default flags on 48 calibration images (its --json report counts the detections of
   its report inputs), then model_eval's detection agreement with fp32 on the 73 validation images (IoU >= 0.5,
   same label): precision and recall of at least 0.96. The figures of the full sets are in doc/accuracy.md
   (0.977-0.997). The inputs model_eval lists with the most unmatched detections are, counted again here from
   model_run's rows of both models with a matcher of this file, those counts, in that order, with the keep_top_k
   flag where an image has 100 detections.
4. slim-320: a method sweep (--stats, --sweep) lists each configuration's detection precision and recall on its
   scoring inputs, against the same fp32 detections in every row, and the kept row's are those that the closing
   report counts for the file it wrote.
Exits 77 (ctest's skip code) with a message when the shared folder or python3-opencv is absent.
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', '..', 'bench'))
from e2e_setup import bin_and_shared_args, opencv_and_folder  # noqa: E402
from model_outputs import read_arrays  # noqa: E402
import ultraface_ssd  # noqa: E402

PRE = ['-n', '127,127,127', '-s', '0.0078125,0.0078125,0.0078125']
FP32_IMAGES = ['Ultra-Light-Fast-Generic-Fac__imgs_25.jpg', 'retinaface__tests_dataset_img3.jpg',
               'Ultra-Light-Fast-Generic-Fac__masked_face_imgs_img8.jpg', 'Pytorch-Retinaface__curve_test.jpg',
               'deepface__tests_unit_dataset_img11.jpg', 'dlib__examples_faces_2008_001322.jpg']
CALIB_COUNT = 48
MIN_AGREEMENT = 0.96
KEEP_TOP_K = 100  # bench/ultraface_ssd.py's DetectionOutput


def rows(bin_dir, proto, weights, image, out, np):
    r = subprocess.run([os.path.join(bin_dir, 'model_run'), '-p', proto, '-m', weights, '-i', image, '-o', out] + PRE,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f'model_run {proto} {image}: {r.stderr.strip()}')
    d = read_arrays(out, np)['detection_out'].reshape(-1, 7)
    return d[d[:, 1] >= 0]


def iou(a, b):
    iw = max(0.0, min(a[5], b[5]) - max(a[3], b[3]))
    ih = max(0.0, min(a[6], b[6]) - max(a[4], b[4]))
    inter = iw * ih
    union = (a[5] - a[3]) * (a[6] - a[4]) + (b[5] - b[3]) * (b[6] - b[4]) - inter
    return inter / union if union > 0 else 0.0


def unmatched(ours, ref):
    """Rows of `ours` with no row of `ref` (each used once) of the same label, IoU >= 0.99, score within 1e-4."""
    used, bad = set(), []
    for a in ours:
        best, best_iou = None, 0.99
        for j, b in enumerate(ref):
            if j in used or a[1] != b[1] or abs(a[2] - b[2]) > 1e-4:
                continue
            v = iou(a, b)
            if v >= best_iou:
                best, best_iou = j, v
        if best is None:
            bad.append(a)
        else:
            used.add(best)
    return bad


def matched(int8, fp32):
    """int8 rows matched one to one with fp32 rows of the same image and label at IoU >= 0.5, int8 rows taken by
    score (stable), each to its unused fp32 row of highest IoU (the later one on a tie), as model_eval counts."""
    int8 = sorted(int8.tolist(), key=lambda r: -r[2])
    fp32 = sorted(fp32.tolist(), key=lambda r: -r[2])
    used, n = set(), 0
    for a in int8:
        best, best_iou = None, 0.5
        for j, b in enumerate(fp32):
            if j in used or a[0] != b[0] or a[1] != b[1]:
                continue
            v = iou(a, b)
            if v >= best_iou:
                best, best_iou = j, v
        if best is not None:
            used.add(best)
            n += 1
    return n


def check_worst_inputs(args, model, d, proto, weights, prefix, val, out, np):
    """Whether model_eval's list of inputs with the most unmatched detections fails a check (each printed)."""
    worst = d.get('worst_inputs')
    if worst is None or (not worst and d['matched'] < max(d['fp32'], d['int8'])):
        print(f'{model}: model_eval lists no input with unmatched detections: {worst}')
        return True
    keys = [(-(w['fp32'] + w['int8'] - 2 * w['matched']), w['input']) for w in worst]
    if keys != sorted(keys) or len(worst) > 5 or any(k[0] == 0 for k in keys):
        print(f'{model}: model_eval\'s inputs with the most unmatched detections are not in order: {worst}')
        return True
    failed = False
    for w in worst:
        path = os.path.join(val, w['input'])
        f = rows(args.bin, proto, weights, path, out, np)
        q = rows(args.bin, prefix + '.quantized.tnnproto', prefix + '.quantized.tnnmodel', path, out, np)
        counted = {'fp32': len(f), 'int8': len(q), 'matched': matched(q, f),
                   'keep_top_k_reached': max(len(f), len(q)) >= KEEP_TOP_K}
        if any(w[k] != v for k, v in counted.items()):
            print(f'{model} {w["input"]}: model_eval lists {w}, counted here {counted}')
            failed = True
    if not failed:
        print(f'{model}: model_eval\'s {len(worst)} inputs with the most unmatched detections counted again: ' +
              ', '.join(f'{w["input"]} {w["fp32"]}/{w["int8"]}/{w["matched"]}'
                        f'{" (keep_top_k reached)" if w["keep_top_k_reached"] else ""}' for w in worst))
    return failed


def main():
    args = bin_and_shared_args()
    libs = opencv_and_folder(os.path.join(args.shared, 'models/zoo/ultraface_caffe'))
    if libs is None:
        return 77
    cv2, np = libs
    failed = False
    for model in ('RFB-320', 'slim-320'):
        with tempfile.TemporaryDirectory() as tmp:
            failed = check(args, model, tmp, cv2, np) or failed
    print('FAIL' if failed else 'PASS')
    return 1 if failed else 0


def check(args, model, tmp, cv2, np):
    """Whether `model`'s SSD fails a check (each printed)."""
    weights = os.path.join(args.shared, f'models/zoo/ultraface_caffe/{model}.caffemodel')
    val = os.path.join(args.shared, 'data/faces/val')
    calib_src = os.path.join(args.shared, 'data/faces/calib')
    failed = False
    proto = ultraface_ssd.ensure(args.shared, tmp, model)
    net = cv2.dnn.readNetFromCaffe(proto, weights)
    out = os.path.join(tmp, 'out.txt')
    total = 0
    for f in FP32_IMAGES:
        path = os.path.join(val, f)
        ours = rows(args.bin, proto, weights, path, out, np)
        # The tools feed RGB (-r 0), (x - 127) / 128 after a bilinear resize to 320x240.
        net.setInput(cv2.dnn.blobFromImage(cv2.imread(path), 0.0078125, (320, 240), (127, 127, 127), swapRB=True))
        ref = net.forward().reshape(-1, 7)
        ref = ref[ref[:, 2] > 0]  # OpenCV pads its output with zero rows up to keep_top_k
        total += len(ref)
        bad = unmatched(ours, ref)
        if len(ours) != len(ref) or bad:
            print(f'{model} {f}: {len(ours)} detections, OpenCV {len(ref)}; {len(bad)} without a match, e.g. '
                  f'{bad[0].tolist() if bad else "-"}')
            failed = True
    print(f'{model} fp32: {total} detections of OpenCV dnn on {len(FP32_IMAGES)} images, '
          f'{"all" if not failed else "NOT all"} matched')

    tnn = os.path.join(tmp, 'ssd')
    r = subprocess.run([os.path.join(args.bin, 'model_convert'), '-p', proto, '-m', weights, '-o', tnn],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(f'{model}: model_convert fails: {r.stderr.strip()}')
        return True
    for f in FP32_IMAGES[:2]:
        a = rows(args.bin, proto, weights, os.path.join(val, f), out, np)
        b = rows(args.bin, tnn + '.tnnproto', tnn + '.tnnmodel', os.path.join(val, f), out, np)
        if a.shape != b.shape or not np.array_equal(a, b):
            print(f'{model} {f}: the model_convert TNN files give other rows than the Caffe files')
            failed = True

    calib = os.path.join(tmp, 'calib')
    os.makedirs(calib)
    names = sorted(n for n in os.listdir(calib_src) if n.lower().endswith(('.jpg', '.jpeg', '.png', '.bmp')))
    for n in names[::max(1, len(names) // CALIB_COUNT)][:CALIB_COUNT]:
        os.symlink(os.path.join(calib_src, n), os.path.join(calib, n))
    prefix = os.path.join(tmp, 'q')
    run_json = os.path.join(tmp, 'run.json')
    r = subprocess.run([os.path.join(args.bin, 'quantization_cmd'), '-p', proto, '-m', weights, '-i', calib,
                        '-o', prefix, '--json', run_json] + PRE, capture_output=True, text=True)
    if r.returncode != 0:
        print(f'{model}: quantization_cmd fails: {r.stderr.strip()}')
        return True
    # The closing report counts detections on its calibration inputs too.
    reported = json.load(open(run_json))['report']['detections']
    if [d['blob'] for d in reported] != ['detection_out'] or not all(
            d['fp32'] > 0 and 0.9 <= d['precision'] <= 1 and 0.9 <= d['recall'] <= 1 for d in reported):
        print(f'{model}: quantization_cmd --json reports detections {reported}')
        failed = True
    report = os.path.join(tmp, 'eval.json')
    r = subprocess.run([os.path.join(args.bin, 'model_eval'), '-p', proto, '-m', weights, '--int8_proto',
                        prefix + '.quantized.tnnproto', '--int8_model', prefix + '.quantized.tnnmodel', '-i', val,
                        '--json', report] + PRE, capture_output=True, text=True)
    if r.returncode != 0:
        print(f'{model}: model_eval fails: {r.stderr.strip()}')
        return True
    det = json.load(open(report))['detections']
    if len(det) != 1:
        print(f'{model}: model_eval reports {len(det)} DetectionOutput outputs, 1 expected')
        return True
    d = det[0]
    print(f'{model} int8 ({len(os.listdir(calib))} calibration images, default flags) against fp32 on the validation '
          f'images: {d["fp32"]} fp32 and {d["int8"]} int8 detections, {d["matched"]} matched: precision '
          f'{d["precision"]:.4f}, recall {d["recall"]:.4f}')
    if d['fp32'] < 100 or d['precision'] < MIN_AGREEMENT or d['recall'] < MIN_AGREEMENT:
        print(f'{model}: FAIL: precision and recall must be >= {MIN_AGREEMENT} over 100 or more fp32 detections')
        failed = True
    failed = check_worst_inputs(args, model, d, proto, weights, prefix, val, out, np) or failed
    if model == 'slim-320':
        failed = check_sweep(args, proto, weights, calib, tmp) or failed
    return failed


def check_sweep(args, proto, weights, calib, tmp):
    """Whether the sweep's detection columns fail a check (each printed)."""
    prefix = os.path.join(tmp, 'sweep')
    run_json = os.path.join(tmp, 'sweep_run.json')
    r = subprocess.run([os.path.join(args.bin, 'quantization_cmd'), '-p', proto, '-m', weights, '-i', calib,
                        '--stats', os.path.join(tmp, 'calib.stats'), '--sweep', '--report', '16', '-o', prefix,
                        '--json', run_json] + PRE, capture_output=True, text=True)
    if r.returncode != 0:
        print(f'slim-320: quantization_cmd --sweep fails: {r.stderr.strip()}')
        return True
    ranked = [e for e in json.load(open(prefix + '.sweep.json'))['ranked'] if e['error'] is None]
    fp32 = {e['detections'][0]['fp32'] for e in ranked if len(e['detections']) == 1}
    bad = [e['flags'] for e in ranked if len(e['detections']) != 1 or e['detections'][0]['blob'] != 'detection_out' or
           not 0 <= e['detections'][0]['matched'] <= min(e['detections'][0]['int8'], e['detections'][0]['fp32'])]
    failed = False
    if bad or len(fp32) != 1 or min(fp32) <= 0:
        print(f'slim-320 sweep: rows without one consistent detection_out agreement: {bad[:3]}, fp32 counts {fp32}')
        failed = True
    kept = next(e for e in ranked if e['symmetric'])
    reported = json.load(open(run_json))['report']['detections']
    if [{k: d[k] for k in ('fp32', 'int8', 'matched')} for d in reported] != \
            [{k: d[k] for k in ('fp32', 'int8', 'matched')} for d in kept['detections']]:
        print(f'slim-320 sweep: kept {kept["flags"]} with detections {kept["detections"]}, '
              f'the report counts {reported}')
        failed = True
    if 'detections P / R' not in open(prefix + '.sweep.md').read():
        print('slim-320 sweep: the ranked table has no detection column')
        failed = True
    k = kept['detections'][0]
    print(f'slim-320 sweep: {len(ranked)} configurations against {min(fp32)} fp32 detections; kept {kept["flags"]}: '
          f'precision {k["precision"]:.4f}, recall {k["recall"]:.4f}, as its report counts')
    return failed


if __name__ == '__main__':
    sys.exit(main())
