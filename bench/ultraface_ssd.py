#!/usr/bin/env python3
"""A real SSD with DetectionOutput, made from ../shared's UltraFace RFB-320 Caffe model and its own weights.

UltraFace is an SSD: four heads of box offsets and class scores over anchors of fixed sizes, decoded against its
priors with variances 0.1/0.2 and filtered by NMS, but in its own C++ post-processing. Here that post-processing
becomes Caffe SSD layers appended to the deploy prototxt: a PriorBox per head (the anchors of UltraFace's
generate_priors: min sizes 10/16/24, 32/48, 64/96 and 128/192/256 pixels at strides 8, 16, 32 and 64 of the
320x240 input, clipped, one box per size), their Concat, Flatten of `boxes` and `scores`, and a DetectionOutput
(2 classes, CENTER_SIZE, NMS 0.3, confidence 0.7: UltraFace's defaults). The caffemodel is used as it is, since
the new layers have no weights. The same priors in the same order (position-major, then size) as the heads'
anchors, so OpenCV dnn, our engine and TNN decode what UltraFace decodes.

    bench/ultraface_ssd.py --shared ../shared --out dir   # writes dir/RFB-320-ssd.prototxt, prints its path
"""
import argparse
import os
import re

# (box head convolution whose output has the head's H x W, stride, anchor sizes)
HEADS = [('331', 8, [10, 16, 24]), ('377', 16, [32, 48]), ('417', 32, [64, 96]), ('447', 64, [128, 192, 256])]

TAIL = ''.join('''layer {{
  name: "priors{i}"
  type: "PriorBox"
  bottom: "{blob}"
  bottom: "input"
  top: "priors{i}"
  prior_box_param {{
{sizes}    clip: true
    variance: 0.1
    variance: 0.1
    variance: 0.2
    variance: 0.2
    step: {stride}
    offset: 0.5
  }}
}}
'''.format(i=i, blob=blob, stride=stride, sizes=''.join(f'    min_size: {s}\n' for s in sizes))
               for i, (blob, stride, sizes) in enumerate(HEADS)) + '''layer {
  name: "priors"
  type: "Concat"
  bottom: "priors0"
  bottom: "priors1"
  bottom: "priors2"
  bottom: "priors3"
  top: "priors"
  concat_param {
    axis: 2
  }
}
layer {
  name: "boxes_flat"
  type: "Flatten"
  bottom: "boxes"
  top: "boxes_flat"
  flatten_param {
    axis: 1
  }
}
layer {
  name: "scores_flat"
  type: "Flatten"
  bottom: "scores"
  top: "scores_flat"
  flatten_param {
    axis: 1
  }
}
layer {
  name: "detection_out"
  type: "DetectionOutput"
  bottom: "boxes_flat"
  bottom: "scores_flat"
  bottom: "priors"
  top: "detection_out"
  detection_output_param {
    num_classes: 2
    share_location: true
    background_label_id: 0
    nms_param {
      nms_threshold: 0.3
      top_k: 400
    }
    code_type: CENTER_SIZE
    keep_top_k: 100
    confidence_threshold: 0.7
  }
}
'''


def make_prototxt(deploy):
    """The SSD's prototxt from the text of RFB-320.prototxt."""
    for blob, _, _ in HEADS:
        if not re.search(r'top: "%s"' % blob, deploy):
            raise ValueError(f'RFB-320.prototxt has no blob "{blob}": not the UltraFace model this script expects')
    return deploy.rstrip('\n') + '\n' + TAIL


def ensure(shared, out_dir):
    """Writes the SSD prototxt into out_dir (unless it is there with the same text) and returns its path."""
    path = os.path.join(out_dir, 'RFB-320-ssd.prototxt')
    with open(os.path.join(shared, 'models/zoo/ultraface_caffe/RFB-320.prototxt')) as f:
        text = make_prototxt(f.read())
    if os.path.exists(path):
        with open(path) as f:
            if f.read() == text:
                return path
    os.makedirs(out_dir, exist_ok=True)
    tmp = f'{path}.{os.getpid()}.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    os.replace(tmp, path)
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--shared', required=True)
    ap.add_argument('--out', required=True)
    args = ap.parse_args()
    print(ensure(args.shared, args.out))


if __name__ == '__main__':
    main()
