#pragma once

#include <array>
#include <limits>
#include <vector>

#include "core/base/status.h"
#include "core/base/tensor.h"

namespace qt {

// FP32 kernels of Caffe-SSD's detection layers (weiliu89/caffe, branch ssd): PriorBox, DetectionOutput and
// Normalize. Like kernels_fp32.h they work on NCHW float buffers with sizes passed in; PriorBox and Normalize
// write into caller-sized outputs, DetectionOutput returns its rows because their count is known only after NMS.
// Where OpenCV dnn (4.6) and TNN compute something else, the difference is stated next to the parameter.

// ---- PriorBox --------------------------------------------------------------------------------------------------

struct PriorBoxParams {
  std::vector<float> min_sizes;      // pixels, at least one, each > 0
  std::vector<float> max_sizes;      // empty, or one per min size and each larger than it
  std::vector<float> aspect_ratios;  // as written in the prototxt; PriorBoxAspectRatios expands them
  bool flip = true;                  // also add 1/r for every ratio r
  bool clip = false;                 // clamp the box coordinates (not the variances) to [0, 1]
  // 0, 1 or 4 values, each > 0; none means {0.1} (Caffe's default). One value fills the whole variance half;
  // four are repeated per prior.
  std::vector<float> variances;
  // Image size in pixels; 0 in either takes both from the image input (Caffe's img_size sets both). OpenCV 4.6
  // ignores img_h/img_w and always uses the image input.
  int img_h = 0, img_w = 0;
  // Distance between cell centres in pixels; 0 in either uses image/feature for both.
  float step_h = 0.f, step_w = 0.f;
  float offset = 0.5f;  // cell centre at (w + offset)·step_w, (h + offset)·step_h
  // Caffe and TNN compute with the sizes truncated to int (`int min_size_ = min_sizes_[s]`), so SSD512's
  // min_size 35.84 gives 35-pixel boxes, and the max box is sqrt(int(min)·int(max)). OpenCV dnn and ncnn keep
  // the float sizes. false reproduces those.
  bool truncate_sizes = true;
};

// The per-cell aspect ratios in Caffe's order: 1 first, then each ratio of p.aspect_ratios that is not within
// 1e-6 of one already listed, each followed by its reciprocal when p.flip. (TNN's caffe2onnx adds the reciprocal
// of a duplicate ratio too; TNN's kernel takes the expanded list as given and ignores flip.)
std::vector<float> PriorBoxAspectRatios(const PriorBoxParams& p);

// Priors per feature-map cell: expanded ratios × min sizes, plus one per max size.
int PriorBoxNumPriors(const PriorBoxParams& p);

// Output [1, 2, feature_h·feature_w·PriorBoxNumPriors(p)·4]: channel 0 the boxes (xmin, ymin, xmax, ymax,
// normalised by the image size), channel 1 the variances. Cells in row-major order; within a cell, for each min
// size: the min×min box, then (with max sizes) the sqrt(min·max) square, then one box per expanded ratio other
// than 1, width min·sqrt(r) and height min/sqrt(r). image_h/image_w are the image input's H and W, used when
// p.img_h or p.img_w is 0. Errors name the parameter and the rule it breaks.
Status PriorBoxFp32(const PriorBoxParams& p, int feature_h, int feature_w, int image_h, int image_w, float* out);

// ---- DetectionOutput -------------------------------------------------------------------------------------------

// Caffe's PriorBoxParameter.CodeType, with its numbers.
enum class BoxCodeType { kCorner = 1, kCenterSize = 2, kCornerSize = 3 };

struct DetectionOutputParams {
  int num_classes = 0;
  bool share_location = true;  // one box per prior for all classes, else one per prior and class
  // Class skipped by NMS; -1 for none. With share_location, Caffe aborts, OpenCV throws and TNN finds no
  // detection when this is -1 (their decoder skips the shared label -1 as if it were the background); here it
  // just means "no background class".
  int background_label_id = 0;
  float nms_threshold = 0.3f;  // a box is suppressed when its IoU with a kept box exceeds this
  // nms_param.top_k: candidates per class kept before NMS, -1 for all. Caffe keeps none when it is 0, OpenCV all.
  int top_k = -1;
  int keep_top_k = -1;  // detections per image kept after NMS, over all classes by score; -1 for all
  // Candidates need a score strictly above this. Caffe's default when the prototxt leaves it out is -FLT_MAX;
  // OpenCV's is 0.
  float confidence_threshold = -std::numeric_limits<float>::max();
  // OpenCV 4.6 does not parse CORNER_SIZE in a prototxt, and decodes any code type but CENTER_SIZE as CORNER.
  BoxCodeType code_type = BoxCodeType::kCorner;
  bool variance_encoded_in_target = false;  // true: the prior variances are not applied
  // Adaptive NMS: after each kept box, while the threshold is above 0.5, it is multiplied by eta. In (0, 1].
  // OpenCV ignores eta (it always runs with 1).
  float eta = 1.f;
};

// [image_id, label, score, xmin, ymin, xmax, ymax]
using DetectionRow = std::array<float, 7>;

// Caffe's DetectionOutput forward with clip_bbox false: boxes decoded as bbox_util.cpp's DecodeBBox, per-class
// ApplyNMSFast (scores above the threshold, stable-sorted descending, top_k, JaccardOverlap on normalised boxes,
// adaptive eta), then keep_top_k per image over all classes by score.
//   loc    [batch][num_priors][share_location ? 1 : num_classes][4]
//   conf   [batch][num_priors][num_classes], already softmaxed
//   priors [2][num_priors][4]: boxes, then variances (the PriorBox output, shared by the batch)
// *rows receives every detection in Caffe's (and TNN's) order: by image, then label ascending, then score
// descending. OpenCV orders each image's rows by score over all labels instead. Ties on score keep the lower
// class, then NMS order (Caffe's keep_top_k cut uses std::sort, whose order for ties is unspecified).
// With no detection *rows is empty; the layer then writes DetectionOutputEmptyRows. Errors: bad parameters, and
// CENTER_SIZE/CORNER_SIZE with a prior of width or height <= 0 (Caffe's CHECK_GT).
Status DetectionOutputFp32(const DetectionOutputParams& p, int batch, int num_priors, const float* loc,
                           const float* conf, const float* priors, std::vector<DetectionRow>* rows);

// What the layer outputs when no image of the batch has a detection. Caffe (and TNN's CPU layer) reshape the
// output to [1, 1, batch, 7] and write one row per image, [i, -1, -1, -1, -1, -1, -1]; when some image has a
// detection, images without one get no row at all. OpenCV 4.6 instead always outputs [1, 1, keep_top_k·batch, 7]
// with the detections first and zero rows after them, so no detection there is all zeros.
std::vector<DetectionRow> DetectionOutputEmptyRows(int batch);

// ---- Normalize -------------------------------------------------------------------------------------------------

struct NormalizeParams {
  bool across_spatial = true;  // one L2 norm per image over C·H·W, else one per position over the channels
  bool channel_shared = true;  // one scale value, else one per channel
  float eps = 1e-10f;
};

// SSD's Normalize (normalize_layer.cpp): y = x / sqrt(Σx² + eps) · scale, the sum over C·H·W of each image
// (across_spatial) or over C at each position. dims is NCHW, rank >= 2 (trailing dims are the spatial size);
// scale holds 1 (channel_shared) or C values, or is nullptr for 1. in == out is allowed.
// TNN's Normalize computes x / max(sqrt(Σx²), eps) (eps default 1e-12) over the channels only, refuses
// across_spatial, and has no scale: its caffe2onnx writes LpNormalization(axis 1, p 2) and a Mul for the scale
// whatever across_spatial says, so an across_spatial Caffe layer becomes per-position there. OpenCV matches
// Caffe (it multiplies by the inverse norm) but cannot run across_spatial with per-channel scales: it wants C·H·W
// of them.
Status NormalizeFp32(const NormalizeParams& p, const float* in, const Dims& dims, const float* scale, float* out);

}  // namespace qt
