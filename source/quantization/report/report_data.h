#pragma once

#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "quantization/eval/evaluator.h"

namespace qt {

// What a quantization report shows, filled by the tools (quantization_cmd, model_eval, a method sweep) and rendered
// by RenderHtmlReport / ReportJsonFields. Figures that do not exist are NaN; strings are shown as given, so a
// caller may put any label in a method or reason field.
constexpr double kNoFigure = std::numeric_limits<double>::quiet_NaN();

// One blob method's clipping threshold on a blob (threshold = scale · 127) and the share of |x| beyond it.
struct ReportThreshold {
  std::string method;
  double threshold = kNoFigure;
  double clipped = kNoFigure;  // share of the histogram's (non-zero) values beyond the threshold
};

// A calibrated blob: its histogram of |x| over [0, max_abs] and the thresholds of every method on it.
struct ReportHistogram {
  std::string blob;
  std::string producer;            // the layer writing the blob, "" for a model input
  std::string chosen_method;       // the method its stored scale came from (free text)
  double chosen_threshold = kNoFigure;  // stored scale · 127; per-channel scales: the largest
  bool per_channel = false;
  double max_abs = 0;
  std::vector<double> counts;      // equal bins over [0, max_abs]; exact zeros are not counted
  std::vector<ReportThreshold> methods;
  double clipped = kNoFigure;      // share beyond the chosen threshold
};

// A quantized layer in graph order: the error it makes alone (int8 layer fed the fp32 model's input blobs) and the
// error of the int8 chain up to its output (errors accumulated), both against the fp32 output.
struct ReportLayer {
  std::string name, type, blob;
  std::string method;  // of its output scale ("merged" where it is its input's)
  double local_cosine = kNoFigure, local_sqnr_db = kNoFigure;
  double chain_cosine = kNoFigure, chain_sqnr_db = kNoFigure;
  double clipped = kNoFigure;  // share of fp32 output values beyond the int8 range
  std::string note;            // e.g. why a figure is missing
};

// A layer left in float and the reason.
struct ReportFloatLayer {
  std::string name, type, reason;
};

// Per output channel ranges of a quantized layer's weights (dequantized int8 weights).
struct ReportWeightRange {
  std::string layer, type;
  double local_cosine = kNoFigure;
  std::vector<float> min, max;
};

// A ranked table (a method sweep's results): rendered as given, row order kept.
struct ReportTable {
  std::string title;
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  std::string note;
};

struct QuantReport {
  std::string tool;    // the program that wrote it
  std::string model, weights;
  std::vector<std::pair<std::string, std::string>> flags;    // as the user gave them, or the defaults taken
  std::vector<std::pair<std::string, std::string>> figures;  // headline figures, label → formatted value
  std::vector<std::pair<std::string, double>> seconds;       // phases
  std::vector<OutputAgreement> outputs;
  std::vector<DetectionAgreement> detections;
  int chain_inputs = 0;  // inputs the chain figures are means over
  int local_inputs = 0;  // inputs the local figures are means over
  std::vector<ReportLayer> layers;
  std::vector<ReportHistogram> histograms;
  std::string histogram_source;  // which inputs the histograms count
  std::vector<ReportFloatLayer> float_layers;
  std::vector<ReportWeightRange> weight_ranges;
  std::optional<ReportTable> sweep;
  std::vector<std::string> notes;  // the tool's notes (method downgrades, fusions)
};

}  // namespace qt
