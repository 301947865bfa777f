#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/base/status.h"
#include "core/graph/graph.h"
#include "quantization/inputs/input_loader.h"
#include "quantization/inputs/preprocess.h"
#include "quantization/methods/scale_methods.h"
#include "quantization/quantizer/auto_scale.h"
#include "quantization/quantizer/calibrator.h"
#include "quantization/quantizer/mixed_precision.h"
#include "quantization/quantizer/weight_refinement.h"

namespace qt {

// How blob scales are grouped: per channel (TNN -t 0), per-channel weights with per-tensor blobs ("mixed",
// -t 1), or per tensor for both (-t 2).
enum class MergeType { kPerChannel = 0, kMixed = 1, kPerTensor = 2 };

// Shared by the configurations of a method sweep: the statistics file read once, and the blob scales of each
// (blob method, merge type), which do not depend on the weight method.
struct ScaleCache {
  std::mutex mutex;  // guards `loaded`, the loading of `stats` (read-only once loaded) and `scales`
  bool loaded = false;
  std::map<std::string, BlobStats> stats;
  std::map<std::pair<int, int>, std::map<std::string, BlobScale>> scales;
};

struct QuantizeOptions {
  BlobMethod blob_method = BlobMethod::kKl;
  WeightMethod weight_method = WeightMethod::kMinMax;
  MergeType merge = MergeType::kMixed;
  bool tnn_compat = false;  // reproduce TNN quantization_cmd's arithmetic exactly (tnn_format.md §D)
  Preprocess preprocess;
  // Statistics file: reused when it exists (no forward pass; refused if it was made for another model, input set
  // or preprocessing), else collected with everything any method and merge type needs and saved there.
  std::string stats_path;
  // Decoded calibration inputs to keep for a report, evenly spaced over the set (0: none).
  int keep_inputs = 0;
  bool parallel_images = true;  // see StreamingCalibration
  // Layers kept in float (manual mixed precision): they are not quantized, although their blobs are calibrated
  // for int8 neighbours. Names are layer names of the model as given.
  std::set<std::string> float_layers;
  // -b auto: the calibration inputs (evenly spaced over the set) on which each blob's candidate thresholds are
  // scored by the error they cause in the blob's consumers.
  int auto_inputs = 16;
  // Adaptive weight rounding and bias correction (weight_refinement.h), on `refine_inputs` calibration inputs.
  RefineOptions refine;
  int refine_inputs = 16;
  // Instead of `refine`: quantize without refinement, with bias correction, with adaptive rounding and with both,
  // and keep the one whose outputs are closest to fp32 (min output cosine) on calibration inputs the refinement
  // did not see (the held-out ones when the accuracy budget holds some out).
  bool refine_auto = false;
  // Instead of `merge` and `blob_method`: quantize with per-tensor blobs (merge type 1, `blob_method`, `equalize`)
  // and with per-channel blobs (merge type 0, MSE thresholds, no equalization), each with the refinement asked for,
  // both calibrated without a quarter of the inputs (at most 16), and keep the per-channel file only when its min
  // output cosine on those held-out inputs beats the per-tensor one's by a margin (quantizer.cc). Per-channel
  // ranges fit the inputs they were taken on, so the choice is made on inputs neither file was calibrated on.
  bool merge_auto = false;
  // Channel equalization of rectified blobs read only by convolutions (equalization.h) with this alpha, before
  // statistics; 0: none. Applies to merge type 1 (per-tensor blobs, per-channel weights) outside compat mode.
  double equalize = 0;
  // Accuracy budget: when set, a quarter of the calibration inputs (at most 16) are held out of calibration, and the
  // most sensitive int8 layers go back to float until their output cosine reaches the budget.
  FloatBudget budget;
  // With --stats reused: statistics and blob scales shared with other runs on the same file (a sweep).
  std::shared_ptr<ScaleCache> cache;
  // Keep every calibrated blob's statistics, with its whole-tensor histogram (not the channel histograms), in
  // QuantizeResult::stats (for a report that draws histograms and compares methods); default mode only, --compat
  // tnn has other statistics.
  bool keep_stats = false;
  // Statistics another run collected on the same calibration inputs for the graph this run quantizes before
  // equalization, with whole-tensor histograms (-t auto: the per-channel candidate's, for the per-tensor one). Its
  // equalization takes the channel ranges from them, and where equalization changes nothing the blob scales come
  // from them too, each instead of a forward pass over the inputs.
  const std::map<std::string, BlobStats>* handed_stats = nullptr;
};

struct QuantizeCallbacks {
  std::function<void(const std::string& line)> note;  // method downgrades, fusions, statistics reuse
  ProgressFn progress;
};

struct QuantizeResult {
  Graph graph;
  std::map<std::string, BlobMethod> blob_methods;  // the method each blob's scale came from, after downgrades
  // -b auto: per blob the candidates with their consumer errors, and the name of the one chosen.
  std::map<std::string, std::vector<ScaleCandidate>> blob_candidates;
  std::map<std::string, std::string> blob_choice;
  std::vector<std::string> equalized;        // the blobs whose channels QuantizeOptions::equalize rescaled
  // With blobs equalized, the fp32 graph whose blobs `graph`'s int8 blobs stand for: the input graph simplified and
  // rescaled (the same outputs, equalized blobs' channels divided by their factors). Per-layer comparisons must run
  // against it; against the input graph, an equalized blob differs by its channel factors, not by int8 error.
  Graph reference;
  std::vector<LayerRefinement> refinements;  // per int8 Conv/InnerProduct, in execution order
  // refine_auto: each variant ("none", "bias correction", "adaptive rounding", "both") with its min output cosine
  // on the scoring inputs, in that order, the name of the one kept and how many inputs scored them.
  std::vector<std::pair<std::string, double>> refine_scores;
  std::string refine_choice;
  RefineOptions refine_kept;  // what the kept variant applied
  int refine_scoring_inputs = 0;
  // merge_auto: the merge type kept, and for the per-tensor then the per-channel file its min output cosine on the
  // held-out inputs.
  MergeType merge_kept = MergeType::kMixed;
  std::vector<std::pair<std::string, double>> merge_scores;
  int merge_scoring_inputs = 0;
  std::vector<FloatLayerStep> float_steps;   // the accuracy budget's choices, in order
  int held_out_inputs = 0;
  std::map<size_t, SampleTensors> kept_inputs;      // by sample index (QuantizeOptions::keep_inputs)
  // The per-tensor input scale each Conv/InnerProduct's weights were folded with (absent for per-channel inputs);
  // scale merging may later change the input blob's stored scale, not the weights.
  std::map<std::string, float> weight_input_scales;
  int calibrated_inputs = 0;  // the inputs the kept file was calibrated on (fewer than given under -t auto)
  bool stats_reused = false;
  std::map<std::string, BlobStats> stats;  // by blob (QuantizeOptions::keep_stats)
  // Wall time of each phase, in order: statistics (the forward pass, or reading the statistics file), blob scales,
  // weights.
  std::vector<std::pair<std::string, double>> timings;
};

// Calibrates `fp32` on `samples` (one file per model input) and builds the quantized graph as TNN's tool does:
// Conv→ReLU/ReLU6 fused (and, outside compat mode, BatchNorm/Scale folded into convolutions first), blob scales
// for the I/O of Conv/Add/Concat/InnerProduct/ReLU/Pooling, int8 Conv/InnerProduct weights with the input scale
// folded in, Add (two same-shape inputs) and Concat marked quantized, ReLU/max-pool scales merged into their
// producers.
Status QuantizeGraph(const Graph& fp32, const std::vector<CalibrationSample>& samples, const QuantizeOptions& options,
                     const QuantizeCallbacks& callbacks, QuantizeResult* result);

}  // namespace qt
