#!/usr/bin/env python3
"""Real SSDs with DetectionOutput, made from ../shared's UltraFace Caffe models (RFB-320, slim-320), own weights.

UltraFace is an SSD: four heads of box offsets and class scores over anchors of fixed sizes, decoded against its
priors with variances 0.1/0.2 and filtered by NMS, but in its own C++ post-processing. Here that post-processing
becomes Caffe SSD layers appended to the deploy prototxt: a PriorBox per head (on the box head's convolution,
found back from the `boxes` Concat through its Permute and Reshape) (the anchors of UltraFace's
generate_priors: min sizes 10/16/24, 32/48, 64/96 and 128/192/256 pixels at strides 8, 16, 32 and 64 of the
320x240 input, clipped, one box per size), their Concat, Flatten of `boxes` and `scores`, and a DetectionOutput
(2 classes, CENTER_SIZE, NMS 0.3, confidence 0.7: UltraFace's defaults). The caffemodel is used as it is, since
the new layers have no weights. The same priors in the same order (position-major, then size) as the heads'
anchors, so OpenCV dnn, our engine and TNN decode what UltraFace decodes.

    bench/ultraface_ssd.py --shared ../shared --out dir [--model slim-320]   # writes dir/<model>-ssd.prototxt
"""
import argparse
import os
import re

# Per head, in the order of the `boxes` Concat: stride, anchor sizes.
ANCHORS = [(8, [10, 16, 24]), (16, [32, 48]), (32, [64, 96]), (64, [128, 192, 256])]


def box_heads(deploy):
    """The blobs of the box heads' convolutions, in the order of the `boxes` Concat."""
    producer = {}
    for block in re.findall(r'layer \{.*?\n\}', deploy, re.S):
        kind = re.search(r'type: "([^"]+)"', block).group(1)
        bottoms = re.findall(r'bottom: "([^"]+)"', block)
        for top in re.findall(r'top: "([^"]+)"', block):
            producer[top] = (kind, bottoms)
    if producer.get('boxes', ('',))[0] != 'Concat':
        raise ValueError('no `boxes` Concat: not an UltraFace deploy prototxt')
    heads = []
    for blob in producer['boxes'][1]:
        while blob in producer and producer[blob][0] in ('Reshape', 'Permute'):
            blob = producer[blob][1][0]
        if blob not in producer or producer[blob][0] != 'Convolution':
            raise ValueError(f'`boxes` input {blob} does not come from a convolution through Permute/Reshape')
        heads.append(blob)
    if len(heads) != len(ANCHORS):
        raise ValueError(f'{len(heads)} box heads, UltraFace has {len(ANCHORS)}')
    return heads


def tail(heads):
    return ''.join('''layer {{
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
               for i, (blob, (stride, sizes)) in enumerate(zip(heads, ANCHORS))) + '''layer {
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
    """The SSD's prototxt from the text of an UltraFace deploy prototxt."""
    return deploy.rstrip('\n') + '\n' + tail(box_heads(deploy))


def ensure(shared, out_dir, model='RFB-320'):
    """Writes the SSD prototxt of `model` (RFB-320 or slim-320) into out_dir (unless it is there with the same
    text) and returns its path."""
    path = os.path.join(out_dir, f'{model}-ssd.prototxt')
    with open(os.path.join(shared, f'models/zoo/ultraface_caffe/{model}.prototxt')) as f:
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
    ap.add_argument('--model', default='RFB-320', choices=['RFB-320', 'slim-320'])
    args = ap.parse_args()
    print(ensure(args.shared, args.out, args.model))


if __name__ == '__main__':
    main()
