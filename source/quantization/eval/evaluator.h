#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/base/status.h"
#include "core/graph/graph.h"
#include "core/graph/shape_inference.h"
#include "quantization/inputs/input_loader.h"
#include "quantization/inputs/preprocess.h"

namespace qt {

class Net;

// One quantized layer of an int8 model compared with the fp32 model over the evaluated inputs.
struct LayerAgreement {
  std::string layer;
  std::string blob;     // the layer's output blob (same name in both models)
  double cosine = 0;    // mean over inputs of cos(int8 value dequantized, fp32 value)
  double clipped = 0;   // share of the fp32 values that fall outside the blob's int8 range
};

// One input's cosine on one model output, and how large the fp32 output is on that input: a mean cosine can hide
// a few inputs where the int8 model departs, and those are often inputs with an output near zero (a segmentation
// map of an image without the class), where the cosine weighs the model's smallest values.
struct InputCosine {
  std::string input;      // the input's file name, or "#k" for the k-th input added without one
  double cosine = 0;      // cos(int8, fp32) on this input
  double norm_ratio = 0;  // ‖fp32 output‖ on this input / its mean over the inputs
};

// Inputs listed per output in OutputAgreement::worst.
constexpr size_t kWorstInputs = 5;

// One model output compared between the int8 and fp32 models, each figure the mean over the inputs.
struct OutputAgreement {
  std::string name;
  double cosine = 0;   // cos(int8, fp32)
  double rel_l2 = 0;   // ‖int8 − fp32‖ / ‖fp32‖ (0 when both are 0, 1 when only fp32 is)
  double max_abs = 0;  // max |int8 − fp32|
  // The kWorstInputs inputs of lowest cosine, lowest first (ties: input name order).
  std::vector<InputCosine> worst;
};

// One input's detections on one DetectionOutput blob.
struct InputDetections {
  std::string input;
  int64_t fp32 = 0, int8 = 0, matched = 0;
  // An image of the input has as many detections as the layer's keep_top_k in either model: the last ones kept are
  // ranked by scores a hair apart, and which of them make the cut is not a disagreement about what is there.
  bool capped = false;
  int64_t unmatched() const { return fp32 + int8 - 2 * matched; }
};

// Detections of an SSD DetectionOutput blob (rows [image, label, score, x1, y1, x2, y2], label −1 rows ignored):
// int8 detections matched one to one with fp32 ones of the same label at IoU >= 0.5, greedily by score.
struct DetectionAgreement {
  std::string blob;
  int64_t fp32 = 0, int8 = 0, matched = 0;
  int keep_top_k = -1;  // the layer's (-1: all)
  // The kWorstInputs inputs with the most detections left unmatched (fp32 and int8 together), most first (ties:
  // input name order); inputs where all match are not listed.
  std::vector<InputDetections> worst;
  double precision() const { return int8 > 0 ? static_cast<double>(matched) / int8 : 1.0; }
  double recall() const { return fp32 > 0 ? static_cast<double>(matched) / fp32 : 1.0; }
};

struct EvalSummary {
  int inputs = 0;
  int labelled = 0;  // inputs with a label: the top-k shares are over these
  int fp32_top1 = 0, fp32_top5 = 0;
  bool has_int8 = false;
  int int8_top1 = 0, int8_top5 = 0;
  int top1_agreement = 0;    // inputs where both models pick the same class
  double output_cosine = 0;  // mean over inputs of cos(int8 output, fp32 output), all outputs concatenated
  // Whether an output looks like class scores ([N, C] or [N, C, 1, 1], C > 1, from a Softmax or from an
  // InnerProduct of at least 10 classes): the top-1 agreement means something only then. Top-k against labels use
  // that output, or the first output in name order when labels are given for a model without one.
  bool classifier = false;
  std::vector<OutputAgreement> outputs;            // per model output, name order
  std::vector<DetectionAgreement> detections;      // per DetectionOutput blob among the outputs
  std::vector<LayerAgreement> layers;  // every quantized layer, lowest cosine first
  // The lowest output cosine (1 without outputs).
  double MinOutputCosine() const;
};

// Runs an fp32 model and optionally its int8 model on the same inputs and accumulates how both classify and how
// far the int8 model is from the fp32 one. Layer cosines follow the int8 model's own chain (errors accumulate,
// as at deployment), against the fp32 blob of the same name. Every output is compared value by value (cosine,
// relative L2, max abs); a classifier's class scores are its Softmax (or wide InnerProduct) output; DetectionOutput
// blobs are compared as detections.
class Evaluator {
 public:
  Evaluator();
  ~Evaluator();
  // `int8` may be null (fp32 accuracy only).
  Status Init(const Graph& fp32, const Graph* int8, const Preprocess& pre);
  // Loads the sample's files (one per model input) and runs both models. `label` < 0: no label.
  Status Add(const CalibrationSample& sample, int label);
  // Runs both models on tensors already loaded (by input name); `name` names the input in the worst-input lists.
  Status AddTensors(const std::map<std::string, Tensor>& inputs, int label, const std::string& name = "");
  EvalSummary Summary() const;
  const std::vector<std::string>& input_names() const { return input_names_; }
  // Adds what another evaluator of the same models accumulated (to evaluate inputs on several threads).
  void Merge(const Evaluator& other);

 private:
  struct LayerAccum {
    std::string layer, blob;
    double cosine_sum = 0;
    int64_t clipped = 0, values = 0;
  };
  std::unique_ptr<Net> fp32_, int8_;
  const Graph* int8_graph_ = nullptr;
  Preprocess pre_;
  std::vector<std::string> input_names_;
  std::vector<LayerAccum> layers_;
  std::map<std::string, std::vector<size_t>> layer_index_;  // blob name → its entries in layers_
  // Dequantized int8 blobs are written here: kept across inputs, so the memory is taken once.
  Tensor q_scratch_;
  EvalSummary sum_;
  double output_cosine_sum_ = 0;
  std::vector<std::string> output_names_;  // name order
  std::string score_output_;               // the class scores (the first output when no output looks like them)
  std::vector<OutputAgreement> output_sums_;  // sums; `worst` holds ‖fp32 output‖ in norm_ratio until Summary
  std::vector<double> output_norm_sums_;
  std::vector<DetectionAgreement> detections_;
};

// Detection matching of one input's DetectionOutput rows (see DetectionAgreement), added to *agreement.
void MatchDetections(const std::vector<float>& fp32_rows, const std::vector<float>& int8_rows,
                     DetectionAgreement* agreement);

// The output holding class scores ([N, C] or [N, C, 1, 1], C > 1, from a Softmax or from an InnerProduct of at
// least 10 classes), first in name order; empty when the model has none.
std::string ClassScoreOutput(const Graph& fp32, const BlobDims& dims);

// The fp32 model to compare an int8 model with, blob by blob: `fp32` with each Convolution → ReLU/ReLU6 pair fused,
// as quantization fuses them, except where `int8` (when given) names the convolution's own output. The values are
// the same (the convolution applies the same max/min to the same sums) and every blob the int8 model names keeps
// its name; each fused pair saves a pass over its blob.
Graph FusedReference(const Graph& fp32, const Graph* int8);

// cos(a, b) in double; 1 when both are all zero, 0 when only one is.
double Cosine(const std::vector<float>& a, const std::vector<float>& b);

// The k best classes of a score vector, best first (ties: lower index first).
std::vector<int> TopK(const std::vector<float>& scores, int k);

// Labels file: lines "<file name> <class index>"; blank lines and lines starting with '#' are skipped. Keys are
// file names without directories. Errors name the file and the line.
Status ReadLabels(const std::string& path, std::map<std::string, int>* labels);

}  // namespace qt
