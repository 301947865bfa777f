#pragma once

#include <string>

#include "quantization/report/report_data.h"

namespace qt {

// One self-contained HTML page (inline CSS and SVG, no script, nothing fetched): the summary, a chart of every
// quantized layer's local and chain error in graph order, each calibrated blob's histogram with the methods'
// thresholds, the layers kept in float, the weight ranges of the worst layers and the sweep table when present.
// Long sections are collapsible <details>, so a 150-layer model stays readable.
std::string RenderHtmlReport(const QuantReport& report);

// The report's data as JSON members (no surrounding braces, leading ", "), for a tool's --json object:
// "layer_errors", "histograms", "float_layers", "weight_ranges", "sweep" (doc/quantization_json.md).
std::string ReportJsonFields(const QuantReport& report);

// A JSON string literal of s; a JSON number, or null when not finite.
std::string ReportJsonString(const std::string& s);
std::string ReportJsonNumber(double v);

}  // namespace qt
