#pragma once

#include "core/base/status.h"
#include "core/base/tensor.h"

namespace qt {

struct LayerKind;
struct DetectionOutputParams;

// TNN's DetectionOutput layer line (DetectionOutputLayerParam), in file order, with the values TNN takes when the
// line ends early: num_classes (0) share_location (0) background_label_id (0) variance_encoded_in_target (0)
// code_type (0) keep_top_k (0) confidence_threshold (0) nms_threshold (0) top_k (0) eta (0).
struct DetectionOutputLayerParams {
  int num_classes = 0;
  int share_location = 0;
  int background_label_id = 0;
  int variance_encoded_in_target = 0;
  int code_type = 0;  // 1 CORNER, 2 CENTER_SIZE, anything else CORNER_SIZE (TNN's reading)
  int keep_top_k = 0;  // -1: all
  float confidence_threshold = 0.f;
  float nms_threshold = 0.f;
  int top_k = 0;  // -1: all candidates per class; 0 keeps none
  float eta = 0.f;
};

// The detection kernel's params for the layer's. TNN's eta 0 (its default) with an NMS threshold above 0.5 makes
// the threshold 0 after the first kept box; that is refused (Unsupported) rather than approximated. Eta 0 with a
// threshold of at most 0.5 never applies, and is eta 1.
Status DetectionOutputKernelParams(const DetectionOutputLayerParams& p, DetectionOutputParams* k);

// Rows of the output per image. Our shapes are static, while the number of detections is known only after NMS
// (TNN rewrites dims[2] to the kept count at run time; OpenCV pads to keep_top_k): the output is
// [1, 1, batch·rows, 7] with rows = keep_top_k, or when keep_top_k is -1 the most NMS can keep, (classes other than
// the background) × (top_k when it is > -1, else the prior count); at least 1, for Caffe's no-detection row.
int DetectionOutputRowsPerImage(const DetectionOutputLayerParams& p, int num_priors);

// The output rows hold Caffe's rows first ([image_id, label, score, xmin, ymin, xmax, ymax] by image, label, score;
// or one [i, -1, -1, -1, -1, -1, -1] row per image when no image has a detection); the rows after them are
// padding, every value -1 (image_id -1 tells them from Caffe's no-detection rows). The number of leading rows
// that are not padding:
int DetectionOutputValidRows(const Tensor& out);

const LayerKind& DetectionOutputKind();

}  // namespace qt
