#!/usr/bin/env python3
"""The HTML report (quantization_cmd --html, model_eval --html) on real models.

  html_report.py make   --bin B --shared S --model M --out DIR   writes the report, checks it is well-formed HTML,
                                                                  self-contained, under 3 MB, with the sections and
                                                                  charts the data calls for, and the --json twin
  html_report.py render --out DIR [--model M]                      opens DIR/report.html in headless Chromium: no
                                                                  console error, the charts in the rendered DOM,
                                                                  the screenshot kept as DIR/report.png

Models: squeezenet (ImageNet calibration images) and ultraface (TNN's UltraFace slim-320 on face photos); a subset of
the calibration folder is linked into a temporary folder to keep the test short. Exit 77 (skip) when ../shared or,
for render, Chromium is absent."""
import argparse
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

MODELS = {
    'squeezenet': dict(proto='models/squeezenet_v1.1/squeezenet_v1.1.tnnproto',
                       model='models/squeezenet_v1.1/squeezenet_v1.1.tnnmodel', calib='data/imagenet_calib',
                       val='data/imagenet_val', pre=['-r', '1', '-n', '104,117,123'], count=40),
    'ultraface': dict(proto='models/zoo/tnn_ultraface_slim320/version-slim-320_simplified.tnnproto',
                      model='models/zoo/tnn_ultraface_slim320/version-slim-320_simplified.tnnmodel',
                      calib='data/faces/calib', val=None,
                      pre=['-n', '127,127,127', '-s', '0.0078125,0.0078125,0.0078125'], count=30),
}
VOID = {'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr'}
MAX_BYTES = 3 * 1024 * 1024


class WellFormed(html.parser.HTMLParser):
    """Every element closed in order (void elements excepted), one <html>, a <title>; and nothing fetched."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.counts = [], [], {}

    def handle_starttag(self, tag, attrs):
        # An SVG <title> is a tooltip, not the document's title.
        in_svg = any(t == 'svg' for t, _ in self.stack)
        key = 'svg ' + tag if in_svg and tag == 'title' else tag
        self.counts[key] = self.counts.get(key, 0) + 1
        for k, v in attrs:
            if k in ('src', 'href') and v and not v.startswith('#'):
                self.errors.append(f'<{tag} {k}="{v}">: the report must not fetch anything')
        if tag == 'script' or tag == 'link':
            self.errors.append(f'<{tag}> in a self-contained report')
        if tag not in VOID:
            self.stack.append((tag, self.getpos()))

    def handle_startendtag(self, tag, attrs):
        self.counts[tag] = self.counts.get(tag, 0) + 1

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1][0] != tag:
            self.errors.append(f'line {self.getpos()[0]}: </{tag}> closes {self.stack[-1] if self.stack else "nothing"}')
            return
        self.stack.pop()


def check_html(path, expect, failures):
    data = open(path, 'rb').read()
    if len(data) > MAX_BYTES:
        failures.append(f'{path}: {len(data)} bytes, over 3 MB')
    text = data.decode('utf-8')
    if not text.startswith('<!DOCTYPE html>'):
        failures.append(f'{path}: no doctype')
    p = WellFormed()
    p.feed(text)
    p.close()
    failures += [f'{path}: {e}' for e in p.errors[:10]]
    if p.stack:
        failures.append(f'{path}: unclosed {p.stack[-5:]}')
    for tag in ('html', 'head', 'title', 'body'):
        if p.counts.get(tag) != 1:
            failures.append(f'{path}: {p.counts.get(tag, 0)} <{tag}>')
    svgs = p.counts.get('svg', 0)
    if svgs < expect['svg']:
        failures.append(f'{path}: {svgs} <svg>, expected at least {expect["svg"]}')
    for anchor in ('summary', 'errors', 'histograms', 'float', 'weights'):
        if f'id="{anchor}"' not in text:
            failures.append(f'{path}: no section #{anchor}')
    if re.search(r'https?://(?!www\.w3\.org/2000/svg)', text):
        failures.append(f'{path}: a URL other than the SVG namespace')
    print(f'{path}: {len(data)} bytes, {svgs} svg, {p.counts.get("details", 0)} details, '
          f'{p.counts.get("rect", 0)} rect, {p.counts.get("path", 0)} path')
    return svgs


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f'FAIL: {" ".join(cmd)}\n{r.stderr[-3000:]}')
    return r


def make(args):
    m = MODELS[args.model]
    # A report left by an earlier run must not be rendered in place of this one's.
    for f in ('report.html', 'report.json', 'report.png', 'expect.json', 'model_eval.html'):
        if os.path.exists(os.path.join(args.out, f)):
            os.remove(os.path.join(args.out, f))
    if not os.path.isdir(args.shared) or not os.path.exists(os.path.join(args.shared, m['proto'])):
        print(f'SKIP: {args.shared} or its {args.model} model is absent')
        return 77
    os.makedirs(args.out, exist_ok=True)
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        calib = os.path.join(tmp, 'calib')
        os.mkdir(calib)
        src = os.path.join(args.shared, m['calib'])
        for f in sorted(os.listdir(src))[:m['count']]:
            os.symlink(os.path.join(src, f), os.path.join(calib, f))
        html_path, json_path = os.path.join(args.out, 'report.html'), os.path.join(args.out, 'report.json')
        model = ['-p', os.path.join(args.shared, m['proto']), '-m', os.path.join(args.shared, m['model'])]
        run([os.path.join(args.bin, 'quantization_cmd')] + model + ['-i', calib] + m['pre'] +
            ['-o', os.path.join(tmp, 'q'), '--report', '8', '--html', html_path, '--json', json_path])
        j = json.load(open(json_path))
        errs, hists = j['layer_errors'], j['histograms']['blobs']
        if len(errs['layers']) != len(j['layers']) or errs['local_inputs'] != 8:
            failures.append(f'layer_errors: {len(errs["layers"])} layers on {errs["local_inputs"]} inputs, '
                            f'{len(j["layers"])} quantized')
        if not all(l['local_cosine'] is not None and 0.5 < l['local_cosine'] <= 1.000001 for l in errs['layers']):
            failures.append('a local cosine is missing or out of range: ' +
                            str([(l['name'], l['local_cosine']) for l in errs['layers']][:8]))
        methods = {'Min-Max', 'KL', 'ACIQ-Gauss', 'ACIQ-Laplace', 'MSE'}
        for h in hists:
            t = h['thresholds']
            if set(t) != methods or len(h['counts']) != 128 or h['chosen']['threshold'] is None:
                failures.append(f'histogram of {h["blob"]}: methods {sorted(t)}, {len(h["counts"])} bars, '
                                f'chosen {h["chosen"]}')
                break
            if not (abs(t['Min-Max']['threshold'] - h['max_abs']) <= 1e-4 * h['max_abs'] and
                    t['KL']['threshold'] <= t['Min-Max']['threshold'] * 1.0001):
                failures.append(f'{h["blob"]}: thresholds {t} against max |x| {h["max_abs"]}')
                break
        if not hists or not j['weight_ranges'] or not j['float_layers']:
            failures.append(f'{len(hists)} histograms, {len(j["weight_ranges"])} weight ranges, '
                            f'{len(j["float_layers"])} float layers')
        expect = {'svg': 1 + len(hists) + len(j['weight_ranges'])}
        with open(os.path.join(args.out, 'expect.json'), 'w') as f:
            json.dump(expect, f)
        check_html(html_path, expect, failures)
        if m['val']:
            val = os.path.join(tmp, 'val')
            os.mkdir(val)
            vsrc = os.path.join(args.shared, m['val'])
            names = sorted(f for f in os.listdir(vsrc) if f.lower().endswith('.jpeg') or f.lower().endswith('.jpg'))
            names = names[:20]
            for f in names:
                os.symlink(os.path.join(vsrc, f), os.path.join(val, f))
            eval_html = os.path.join(args.out, 'model_eval.html')
            run([os.path.join(args.bin, 'model_eval')] + model + ['--int8_proto', os.path.join(tmp, 'q.quantized.tnnproto'),
                '--int8_model', os.path.join(tmp, 'q.quantized.tnnmodel'), '-i', val] + m['pre'] +
                ['--html', eval_html, '--html_inputs', '4'])
            check_html(eval_html, expect, failures)
            # Equalized blobs: the page must compare the int8 layers with the rescaled fp32 model, or the consumers
            # of those blobs read unscaled values and their local errors are far worse than quantization_cmd's.
            page = open(eval_html).read()
            eval_local = [float(x) for x in re.findall(r'local cosine ([0-9.]+)', page)]
            calib_local = [l['local_cosine'] for l in errs['layers'] if l['local_cosine'] is not None]
            if not eval_local or min(eval_local) < min(calib_local) - 0.01:
                failures.append(f'model_eval page: lowest local cosine {min(eval_local, default=None)}, '
                                f'quantization_cmd\'s {min(calib_local)}')
    for f in failures:
        print('FAIL:', f)
    return 1 if failures else 0


def find_chromium():
    for name in ('chromium', 'chromium-browser', 'google-chrome'):
        p = shutil.which(name)
        if p:
            return p
    return None


def render(args):
    html_path = os.path.join(args.out, 'report.html')
    if not os.path.exists(html_path):
        print(f'SKIP: {html_path} was not made (its html_report_{args.model} test skipped or failed)')
        return 77
    chromium = find_chromium()
    if not chromium:
        print('SKIP: Chromium is not installed (Debian package chromium); the report was not rendered')
        return 77
    expect = json.load(open(os.path.join(args.out, 'expect.json')))
    png = os.path.join(args.out, 'report.png')
    failures = []
    with tempfile.TemporaryDirectory() as profile:
        base = [chromium, '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
                '--no-first-run', '--hide-scrollbars', f'--user-data-dir={profile}', '--enable-logging=stderr',
                '--v=0', '--window-size=1280,1800']
        url = 'file://' + os.path.abspath(html_path)
        dom = subprocess.run(base + ['--dump-dom', url], capture_output=True, text=True, timeout=180)
        shot = subprocess.run(base + [f'--screenshot={png}', url], capture_output=True, text=True, timeout=180)
    for what, r in (('--dump-dom', dom), ('--screenshot', shot)):
        if r.returncode != 0:
            failures.append(f'chromium {what} exited {r.returncode}: {r.stderr[-2000:]}')
        console = [l for l in r.stderr.splitlines() if 'CONSOLE' in l or 'Uncaught' in l or
                   'Failed to load resource' in l]
        if console:
            failures.append(f'console messages during {what}: {console[:5]}')
    svgs = len(re.findall(r'<svg\b', dom.stdout))
    bars = len(re.findall(r'<rect\b', dom.stdout))
    print(f'rendered DOM: {len(dom.stdout)} chars, {svgs} svg, {bars} rect (error bars)')
    if svgs < expect['svg']:
        failures.append(f'the rendered DOM has {svgs} <svg>, expected at least {expect["svg"]}')
    if 'id="error-chart"' not in dom.stdout or bars < 5:
        failures.append('the error chart is missing from the rendered DOM')
    if not os.path.exists(png) or os.path.getsize(png) < 10000:
        failures.append(f'no screenshot at {png}')
    else:
        print(f'screenshot {png}: {os.path.getsize(png)} bytes')
    for f in failures:
        print('FAIL:', f)
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['make', 'render'])
    ap.add_argument('--bin')
    ap.add_argument('--shared')
    ap.add_argument('--model', choices=sorted(MODELS), default='squeezenet')
    ap.add_argument('--out', required=True)
    args = ap.parse_args()
    return make(args) if args.mode == 'make' else render(args)


if __name__ == '__main__':
    sys.exit(main())
