#pragma once

#include <vector>

#include "core/base/status.h"

namespace qt {

struct LayerKind;
struct PriorBoxParams;

// TNN's PriorBox layer line (PriorBoxLayerParam), in file order:
//   n_min min_sizes... n_max max_sizes... clip flip n_var variances... n_ar aspect_ratios... img_w img_h
//   step_w step_h offset
// aspect_ratios is the expanded list TNN's runtime takes as given (1 first, then each ratio and, when flipped, its
// reciprocal: what TNN's caffe2onnx writes and our Caffe importer writes); flip is carried but not applied again.
struct PriorBoxLayerParams {
  std::vector<float> min_sizes;
  std::vector<float> max_sizes;
  int clip = 0;
  int flip = 1;
  std::vector<float> variances;      // 1 value for all four, or 4
  std::vector<float> aspect_ratios;  // expanded
  int img_w = 0, img_h = 0;          // 0: the image input's size
  // TNN reads the steps with atoi, so a written "8.5" is 8 there; they are whole pixels here too.
  int step_w = 0, step_h = 0;        // 0: image size / feature size
  float offset = 0.5f;
};

// The detection kernel's params for the layer's: the expanded ratio list must start with 1 and hold no ratio twice
// (within 1e-6), as TNN's runtime assumes (it allocates n_ar·n_min + n_max priors per cell and writes one box per
// ratio other than 1); variances must number 1 or 4. Errors name the param and the rule.
Status PriorBoxKernelParams(const PriorBoxLayerParams& p, PriorBoxParams* k);

const LayerKind& PriorBoxKind();

}  // namespace qt
