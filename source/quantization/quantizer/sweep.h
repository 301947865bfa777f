#pragma once

#include <string>
#include <vector>

#include "core/base/status.h"
#include "core/graph/graph.h"
#include "quantization/quantizer/quantizer.h"

namespace qt {

// One configuration of a method sweep and how close its int8 model stays to fp32 on the scoring inputs.
struct SweepEntry {
  BlobMethod blob = BlobMethod::kKl;
  WeightMethod weight = WeightMethod::kMinMax;
  MergeType merge = MergeType::kMixed;
  Status status;            // a configuration that fails (e.g. an all-zero blob per tensor) is listed with its error
  bool symmetric = true;    // no zero points: runs on TNN's X86 and ARM int8 kernels, not only on NAIVE
  bool classifier = false;
  double min_output_cosine = 0;
  double top1_agreement = 0;  // share of the scoring inputs (classifiers)
  // SSDs: the int8 detections matched with fp32's on the scoring inputs, per DetectionOutput output. Shown, not
  // ranked on: one detection crossing the threshold moves them by a step (ScoredBlobs).
  std::vector<DetectionAgreement> detections;
  double seconds = 0;
};

// Quantizes `fp32` with each of the 54 -b × -w × -t combinations and with -b auto (with the -w and -t of `base`),
// all from the statistics file base.stats_path (collected on the first configuration when it does not exist, then
// reused: one forward pass in all), scores each on base.keep_inputs calibration inputs, and ranks them: classifiers
// by top-1 agreement, then min output cosine; other models by min output cosine (an SSD's through its
// DetectionOutput's inputs, ScoredBlobs); failures last. *best gets the first symmetric configuration's result
// (asymmetric ones run on TNN's NAIVE device only).
Status SweepMethods(const Graph& fp32, const std::vector<CalibrationSample>& samples, const QuantizeOptions& base,
                    const QuantizeCallbacks& callbacks, std::vector<SweepEntry>* ranked, QuantizeResult* best);

// "-b 2 -w 0 -t 1" or "-b auto -w 0 -t 1".
std::string SweepFlags(const SweepEntry& e);

}  // namespace qt
