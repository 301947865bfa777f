#pragma once

#include <string>
#include <vector>

#include "core/base/status.h"
#include "core/graph/graph.h"
#include "quantization/inputs/input_loader.h"
#include "quantization/inputs/preprocess.h"
#include "quantization/quantizer/calibrator.h"

namespace qt {

struct RefineOptions {
  // Each weight of an int8 convolution rounded up or down so that the layer's output on the int8 inputs it sees
  // moves least: AdaRound's layer objective ‖W·x − Ŵ·x‖² over calibration activations, minimised over the two
  // grid points around every weight by coordinate descent (AdaRound relaxes the choice and anneals it instead).
  bool adaptive_rounding = false;
  // The per-channel mean of the int8 chain's output error folded into each int8 Conv/InnerProduct's bias.
  bool bias_correction = false;
};

// What refinement did to one layer.
struct LayerRefinement {
  std::string layer;
  int64_t rounding_flips = 0;  // weights rounded the other way than to nearest
  // The rounding objective Σ dᵀHd over the output channels (d: weight error in grid steps, H: second moment of
  // the int8 input patches), nearest rounding and after, relative to nearest rounding's.
  double rounding_objective = 1;
  int biases_corrected = 0;      // output channels whose int32 bias moved
  double mean_error_removed = 0; // RMS over channels of the corrected mean error, over the output's RMS
};

// Refines the int8 weights of `int8` (quantized from `fp32`, the same graph with the same layer and blob names
// before quantization) layer by layer in execution order, on the int8 chain run over `inputs` in lockstep: each
// layer is refined on the inputs the already refined layers before it produce, then run, then its bias corrected
// against the fp32 model's value of its output blob, and run again for the layers after it. `inputs`: the model's
// input tensors of each refinement input.
Status RefineWeights(const Graph& fp32, const std::vector<SampleTensors>& inputs, const RefineOptions& options,
                     const ProgressFn& progress, Graph* int8, std::vector<LayerRefinement>* report);

// The integer point of the box [floor(r), ceil(r)] ∩ [-127, 127] per coordinate minimising (q − r)ᵀH(q − r),
// from nearest rounding by coordinate descent (H symmetric positive semidefinite, k×k row-major). Returns the flips.
int64_t AdaptiveRound(const std::vector<double>& r, const std::vector<double>& h, std::vector<int>* q);
// The same on a k×k matrix in place, also giving the objective (q − r)ᵀH(q − r) at nearest rounding and at the end
// (the latter from the gradient kept up to date along the descent).
int64_t AdaptiveRound(const std::vector<double>& r, const double* h, std::vector<int>* q, double* nearest_objective,
                      double* objective);

}  // namespace qt
