#!/usr/bin/env python3
"""Writes the OpenCV dnn fixtures of detection_fp32_test.cc (PriorBox, DetectionOutput, Normalize).

Run by hand, from anywhere, when a case is added; the test itself reads only the .txt files written next to this
script. Needs python3-opencv (Debian's package: /usr/bin/python3 make_detection_fixtures.py) and numpy.

Each case is a tiny Caffe deploy prototxt whose Input layers feed the layer under test directly (no convolutions),
run by cv2.dnn.readNetFromCaffe on fixed random inputs. Normalize's scale comes from a caffemodel encoded here by
hand (a few protobuf fields), since OpenCV reads that layer's scale only from the weights file.

File format, one value list per line: `case <name>`, then `<key> <count> <values...>` lines, then `end`. Inputs
are rounded to 4 decimals before they are fed, so 6 significant digits hold them exactly; outputs are printed with
7, well inside the test's 1e-5 tolerance.

The cases stay inside what OpenCV 4.6 computes as Caffe does (see detection_fp32.h): integer min/max sizes, clip
given explicitly, no img_h/img_w, no CORNER_SIZE, eta 1, confidence_threshold > 0 (so OpenCV's zero padding rows,
score 0, are told apart from detections and dropped here).
"""

import os
import struct
import tempfile

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TMP = tempfile.mkdtemp(prefix="qt_detection_fixtures_")
IN, OUT = 6, 7  # significant digits printed for inputs and parameters, and for outputs


def fmt(values, digits):
    return " ".join(("%." + str(digits) + "g") % float(v) for v in np.asarray(values, dtype=np.float64).ravel())


class Writer:
    def __init__(self, name):
        self.path = os.path.join(HERE, name)
        self.lines = ["# Written by make_detection_fixtures.py with OpenCV %s; do not edit." % cv2.__version__]

    def case(self, name, items):
        self.lines.append("case " + name)
        for key, values in items:
            values = np.asarray(values).ravel()
            digits = OUT if key == "expected" else IN
            self.lines.append(("%s %d %s" % (key, values.size, fmt(values, digits))).rstrip())
        self.lines.append("end")

    def close(self):
        with open(self.path, "w") as f:
            f.write("\n".join(self.lines) + "\n")
        print("wrote", self.path, os.path.getsize(self.path), "bytes")


def rounded(a):
    return np.round(np.asarray(a, dtype=np.float64), 4).astype(np.float32)


def run(prototxt, inputs, output, caffemodel=None):
    path = os.path.join(TMP, "net.prototxt")
    with open(path, "w") as f:
        f.write(prototxt)
    if caffemodel is None:
        net = cv2.dnn.readNetFromCaffe(path)
    else:
        model = os.path.join(TMP, "net.caffemodel")
        with open(model, "wb") as f:
            f.write(caffemodel)
        net = cv2.dnn.readNetFromCaffe(path, model)
    for name, value in inputs.items():
        net.setInput(value, name)
    return net.forward(output)


def input_layer(name, shape):
    dims = " ".join("dim: %d" % d for d in shape)
    return 'layer { name: "%s" type: "Input" top: "%s" input_param { shape { %s } } }\n' % (name, name, dims)


# ---- PriorBox ----------------------------------------------------------------------------------------------------

def prior_box(feature_hw, image_hw, min_sizes, max_sizes=(), ratios=(), flip=True, clip=False, variances=(0.1,),
              step=0.0, offset=0.5):
    fields = ["min_size: %g" % s for s in min_sizes] + ["max_size: %g" % s for s in max_sizes]
    fields += ["aspect_ratio: %g" % r for r in ratios] + ["variance: %g" % v for v in variances]
    fields += ["flip: %s" % str(flip).lower(), "clip: %s" % str(clip).lower(), "offset: %g" % offset]
    if step:
        fields.append("step: %g" % step)
    proto = input_layer("feat", (1, 1) + feature_hw) + input_layer("img", (1, 3) + image_hw)
    proto += ('layer { name: "pb" type: "PriorBox" bottom: "feat" bottom: "img" top: "pb"\n'
              '  prior_box_param { %s } }\n' % " ".join(fields))
    out = run(proto, {"feat": np.zeros((1, 1) + feature_hw, np.float32),
                      "img": np.zeros((1, 3) + image_hw, np.float32)}, "pb")
    params = [("feature_hw", feature_hw), ("image_hw", image_hw), ("min_sizes", min_sizes),
              ("max_sizes", max_sizes), ("aspect_ratios", ratios), ("flip", [int(flip)]),
              ("clip", [int(clip)]), ("variances", variances), ("step", [step]), ("offset", [offset])]
    return params, out


def write_prior_box():
    w = Writer("prior_box_opencv.txt")
    cases = {
        # Two min sizes with max sizes, a duplicate ratio, flip: 2 × (1 + 1 + 4) priors per cell, non-square image.
        "two_min_sizes_max_flip": dict(feature_hw=(2, 2), image_hw=(30, 20), min_sizes=(6, 12), max_sizes=(10, 20),
                                       ratios=(2, 3, 2), variances=(0.1, 0.1, 0.2, 0.2)),
        # 0.5 then 2 (2 is 0.5's flip, so a duplicate), clip, one variance, explicit step and offset.
        "clip_step_offset": dict(feature_hw=(2, 2), image_hw=(16, 16), min_sizes=(10,), ratios=(0.5, 2), clip=True,
                                 variances=(0.2,), step=6.0, offset=0.3),
        "no_flip": dict(feature_hw=(1, 3), image_hw=(9, 27), min_sizes=(5,), ratios=(2,), flip=False,
                        variances=(0.1, 0.1, 0.2, 0.2)),
    }
    for name, kw in cases.items():
        params, out = prior_box(**kw)
        w.case(name, params + [("expected", out)])
    w.close()


# ---- DetectionOutput ---------------------------------------------------------------------------------------------

def detection_output(name, rng, batch, priors, num_classes, share_location, background, code_type, nms_threshold,
                     top_k, keep_top_k, confidence_threshold, variance_in_target=False, loc_sigma=0.3,
                     logit_sigma=2.0):
    num_priors = priors.size // 8
    loc_classes = 1 if share_location else num_classes
    loc = rounded(rng.normal(0.0, loc_sigma, (batch, num_priors * loc_classes * 4)))
    logits = rng.normal(0.0, logit_sigma, (batch, num_priors, num_classes))
    conf = np.exp(logits - logits.max(axis=2, keepdims=True))
    conf = rounded(conf / conf.sum(axis=2, keepdims=True)).reshape(batch, -1)
    fields = ["num_classes: %d" % num_classes, "share_location: %s" % str(share_location).lower(),
              "background_label_id: %d" % background, "code_type: %s" % code_type,
              "keep_top_k: %d" % keep_top_k, "confidence_threshold: %g" % confidence_threshold,
              "variance_encoded_in_target: %s" % str(variance_in_target).lower()]
    nms = "nms_threshold: %g" % nms_threshold + (" top_k: %d" % top_k if top_k >= 0 else "")
    # OpenCV wants a 1-channel prior blob when the variance is in the target (Caffe reads the boxes only).
    prior_channels = 1 if variance_in_target else 2
    prior_in = priors.reshape(1, 2, -1, 1)[:, :prior_channels].copy()
    proto = (input_layer("loc", loc.shape) + input_layer("conf", conf.shape) +
             input_layer("priors", prior_in.shape) +
             'layer { name: "det" type: "DetectionOutput" bottom: "loc" bottom: "conf" bottom: "priors" top: "det"\n'
             '  detection_output_param { %s nms_param { %s } } }\n' % (" ".join(fields), nms))
    out = run(proto, {"loc": loc, "conf": conf, "priors": prior_in}, "det").reshape(-1, 7)
    rows = out[out[:, 2] > 0]
    print("%s: %d detections" % (name, rows.shape[0]))
    code = {"CORNER": 1, "CENTER_SIZE": 2}[code_type]
    params = [("batch", [batch]), ("num_priors", [num_priors]), ("num_classes", [num_classes]),
              ("share_location", [int(share_location)]), ("background_label_id", [background]),
              ("code_type", [code]), ("nms_threshold", [nms_threshold]), ("top_k", [top_k]),
              ("keep_top_k", [keep_top_k]), ("confidence_threshold", [confidence_threshold]),
              ("variance_encoded_in_target", [int(variance_in_target)])]
    return params + [("loc", loc), ("conf", conf), ("priors", priors), ("expected", rows)]


def write_detection_output():
    rng = np.random.default_rng(20240607)
    # SSD-like priors from OpenCV's own PriorBox: a 2x2 map of a 32x32 image, min 10, max 20, ratio 2 with flip,
    # so 4 overlapping priors per cell (16 in all); the first channel rounded like every other input.
    _, pb = prior_box((2, 2), (32, 32), (10,), (20,), (2,), variances=(0.1, 0.1, 0.2, 0.2))
    priors = rounded(pb)
    w = Writer("detection_output_opencv.txt")
    # keep_top_k 6 below the NMS survivors of both images, so the cut over all classes is exercised.
    w.case("center_size_shared_batch2",
           detection_output("center_size_shared_batch2", rng, 2, priors, 4, True, 0, "CENTER_SIZE", 0.45, 10, 6, 0.1))
    # One box set per class, no background class, CORNER, no top_k, keep_top_k above the count.
    w.case("corner_per_class_no_background",
           detection_output("corner_per_class_no_background", rng, 1, priors, 3, False, -1, "CORNER", 0.3, -1, 100,
                            0.2, loc_sigma=0.05))
    w.case("variance_in_target",
           detection_output("variance_in_target", rng, 1, priors, 3, True, 0, "CENTER_SIZE", 0.5, 5, 100, 0.15,
                            variance_in_target=True, loc_sigma=0.1))
    w.case("no_detection",
           detection_output("no_detection", rng, 1, priors, 3, True, 0, "CENTER_SIZE", 0.45, -1, 10, 0.999))
    w.close()


# ---- Normalize ---------------------------------------------------------------------------------------------------

def varint(n):
    out = b""
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out += bytes([byte | 0x80])
        else:
            return out + bytes([byte])


def length_delimited(field, payload):
    return varint(field << 3 | 2) + varint(len(payload)) + payload


def caffemodel_with_blob(layer_name, layer_type, blob):
    # NetParameter.layer (100) { name (1), type (2), blobs (7) BlobProto { data (5) packed, shape (7) { dim (1) } } }
    shape = length_delimited(1, b"".join(varint(d) for d in blob.shape))
    blob_proto = length_delimited(5, struct.pack("<%df" % blob.size, *blob.ravel())) + length_delimited(7, shape)
    layer = (length_delimited(1, layer_name.encode()) + length_delimited(2, layer_type.encode()) +
             length_delimited(7, blob_proto))
    return length_delimited(100, layer)


def normalize(rng, dims, across_spatial, channel_shared, scale, eps):
    x = rounded(rng.normal(0.0, 1.0, dims))
    scale = rounded(scale)
    fields = "across_spatial: %s channel_shared: %s eps: %g" % (str(across_spatial).lower(),
                                                               str(channel_shared).lower(), eps)
    proto = (input_layer("data", dims) +
             'layer { name: "norm" type: "Normalize" bottom: "data" top: "norm" norm_param { %s } }\n' % fields)
    out = run(proto, {"data": x}, "norm", caffemodel_with_blob("norm", "Normalize", scale))
    return [("dims", dims), ("across_spatial", [int(across_spatial)]),
            ("channel_shared", [int(channel_shared)]), ("eps", [eps]), ("scale", scale), ("input", x),
            ("expected", out)]


def write_normalize():
    rng = np.random.default_rng(7)
    w = Writer("normalize_opencv.txt")
    w.case("across_spatial_shared", normalize(rng, (2, 3, 2, 3), True, True, [2.5], 1e-10))
    # eps 0.5 is large enough that sqrt(sum + eps) and max(sqrt(sum), eps) (TNN's) differ well above float noise.
    w.case("per_position_per_channel_big_eps", normalize(rng, (2, 3, 2, 3), False, False, [0.5, 1.0, 2.0], 0.5))
    # A rank-2 blob (an InnerProduct output): the norm is over its C values. (OpenCV cannot run across_spatial with
    # per-channel scales, which Caffe allows: it wants C·H·W of them.)
    w.case("rank2_per_channel", normalize(rng, (3, 5), False, False, [1.5, -1.0, 0.25, 3.0, 0.75], 1e-3))
    w.close()


if __name__ == "__main__":
    write_prior_box()
    write_detection_output()
    write_normalize()
