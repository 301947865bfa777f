#pragma once

#include <string>
#include <vector>

#include "core/base/status.h"
#include "core/graph/graph.h"
#include "quantization/eval/evaluator.h"
#include "quantization/quantizer/calibrator.h"

namespace qt {

// One step of the accuracy budget: a layer put back in float, with the int8 layers that had to follow it so that
// it reads float inputs, and the min output cosine on the held-out inputs before and after.
struct FloatLayerStep {
  std::string layer;                // the layer chosen (ranked by sensitivity)
  std::vector<std::string> layers;  // every layer that became float with it (the layer first)
  double sensitivity = 0;           // min output cosine gained by this layer alone on the all-int8 model
  double cosine_before = 0, cosine_after = 0;
};

struct FloatBudget {
  double min_cosine = 0;  // > 0: add float layers until the held-out min output cosine reaches it
  int max_layers = -1;    // >= 0: at most this many chosen layers; alone, exactly the most sensitive ones
};

// The layers that must leave int8 with `layer` so that it reads float inputs: back from each of its inputs through
// int8 layers without weights (Concat, Add, ReLU, Pooling, ...) up to and including the int8 layers with weights
// that produce them (which then compute in float from their own int8 inputs). `layer` first.
std::vector<std::string> FloatClosure(const Graph& int8, const std::string& layer);

// Puts `layers` of `int8` back in float with the weights of `fp32` (the graph it was quantized from, same names).
Status DequantizeLayers(const Graph& fp32, const std::vector<std::string>& layers, Graph* int8);

// The blobs by which a quantized form of `g` is scored against fp32: its outputs, except that a DetectionOutput's
// rows are scored through its inputs (box offsets, class confidences, priors). Its rows change by whole detections
// when one score crosses the threshold or NMS keeps another of two boxes, so their cosine jumps where the inputs
// move smoothly; and rows shifted by one detection compare unrelated boxes.
std::vector<std::string> ScoredBlobs(const Graph& g);

// The mean over `inputs` of the cosine between fp32 and `int8` values of the blobs `reference` holds (per input,
// by name: GraphOutputs' ScoredBlobs), minimum over those blobs.
Status HeldOutMinCosine(const Graph& int8, const std::vector<SampleTensors>& inputs,
                        const std::vector<std::map<std::string, Tensor>>& reference, double* cosine);
// The same, and the share of inputs whose `scores` output (a classifier's) has the reference's top-1 class. With
// `detections`, the rows of each DetectionOutput output the reference holds are matched as detections, one
// DetectionAgreement per blob (they never enter the cosine).
Status HeldOutScore(const Graph& int8, const std::vector<SampleTensors>& inputs,
                    const std::vector<std::map<std::string, Tensor>>& reference, const std::string& scores,
                    double* cosine, double* top1_agreement, std::vector<DetectionAgreement>* detections = nullptr);
// The values of ScoredBlobs(graph) on each input, by name (one network for all: its weights are packed once), and
// with `with_detections` the rows of each model output a DetectionOutput writes.
Status GraphOutputs(const Graph& graph, const std::vector<SampleTensors>& inputs,
                    std::vector<std::map<std::string, Tensor>>* outputs, bool with_detections = false);

// Ranks every int8 Conv/InnerProduct of `int8` by what keeping it (and its closure) in float alone gains on the
// held-out inputs, then keeps layers in float in that order, passing over those that do not raise the cosine on top
// of the ones already chosen, until the budget is met. Steps are appended to *steps.
Status ApplyFloatBudget(const Graph& fp32, const std::vector<SampleTensors>& held_out, const FloatBudget& budget,
                        const ProgressFn& progress, Graph* int8, std::vector<FloatLayerStep>* steps);

}  // namespace qt
