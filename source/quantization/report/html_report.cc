#include "quantization/report/html_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace qt {
namespace {

std::string Esc(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

// A figure for a table cell: "–" where it does not exist.
std::string Fig(double v, const char* fmt = "%.5f") {
  if (std::isnan(v)) return "&ndash;";
  if (std::isinf(v)) return v > 0 ? "exact" : "&minus;&infin;";
  char b[48];
  std::snprintf(b, sizeof(b), fmt, v);
  return b;
}

std::string Pct(double v) {
  if (!std::isfinite(v)) return "&ndash;";
  char b[48];
  std::snprintf(b, sizeof(b), v != 0 && v < 0.001 ? "%.2g %%" : "%.3f %%", 100 * v);
  return b;
}

// A coordinate with one decimal: SVG paths of a few hundred points stay small.
std::string C(double v) {
  char b[32];
  std::snprintf(b, sizeof(b), "%.1f", v);
  std::string s = b;
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  return s == "-0" ? "0" : s;
}

const char* kCss = R"(body{font:14px/1.4 system-ui,sans-serif;margin:16px 24px;color:#222;max-width:1400px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:24px 0 6px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #ddd;padding:2px 8px;text-align:left;
font-variant-numeric:tabular-nums}th{background:#f3f3f3}td.n{text-align:right}tr.bad td{background:#fde8e8}
details{margin:4px 0}summary{cursor:pointer}.muted{color:#666}.kv td:first-child{color:#555}
.grid{display:flex;flex-wrap:wrap;gap:8px 18px}.card{border:1px solid #ddd;border-radius:4px;padding:6px 8px}
.card h3{font-size:13px;margin:0 0 2px;font-weight:600;word-break:break-all}.card table{font-size:12px}
.legend span{display:inline-block;margin-right:14px}.sw{display:inline-block;width:18px;height:3px;
vertical-align:middle;margin-right:4px}svg{display:block}.scroll{overflow-x:auto}svg text{font:10px sans-serif;fill:#444})";

struct MethodColor {
  const char* method;
  const char* color;
};
const MethodColor kColors[] = {{"Min-Max", "#d62728"},     {"KL", "#1f77b4"}, {"ACIQ-Gauss", "#2ca02c"},
                               {"ACIQ-Laplace", "#9467bd"}, {"MSE", "#ff7f0e"}};
const char* ColorOf(const std::string& method) {
  for (const auto& c : kColors) {
    if (method == c.method) return c.color;
  }
  return "#888";
}

// 1 − cosine on a log axis: the value plotted and its y.
constexpr double kErrFloor = 1e-7;
double ErrorOf(double cosine) { return std::max(1.0 - cosine, kErrFloor); }

std::string Legend() {
  std::string h = "<p class=\"legend\">";
  for (const auto& c : kColors) {
    h += std::string("<span><i class=\"sw\" style=\"background:") + c.color + "\"></i>" + c.method + "</span>";
  }
  return h + "<span><i class=\"sw\" style=\"background:#000\"></i>chosen (stored scale)</span></p>";
}

void Summary(const QuantReport& r, std::string* h) {
  *h += "<h2 id=\"summary\">Summary</h2><table class=\"kv\"><tr><td>model</td><td>" + Esc(r.model) + "</td></tr>";
  if (!r.weights.empty()) *h += "<tr><td>weights</td><td>" + Esc(r.weights) + "</td></tr>";
  for (const auto& [k, v] : r.flags) *h += "<tr><td>" + Esc(k) + "</td><td>" + Esc(v) + "</td></tr>";
  for (const auto& [k, v] : r.figures) *h += "<tr><td>" + Esc(k) + "</td><td><b>" + Esc(v) + "</b></td></tr>";
  if (!r.seconds.empty()) {
    std::string t;
    for (const auto& [k, v] : r.seconds) t += (t.empty() ? "" : ", ") + Esc(k) + " " + Fig(v, "%.2f") + " s";
    *h += "<tr><td>times</td><td>" + t + "</td></tr>";
  }
  *h += "</table>";
  if (!r.outputs.empty()) {
    *h += "<table><tr><th>model output</th><th>cosine</th><th>rel. L2</th><th>max |int8 &minus; fp32|</th>"
          "<th>inputs of lowest cosine (cosine; fp32 output norm / its mean)</th></tr>";
    for (const auto& o : r.outputs) {
      std::string worst;
      for (const auto& c : o.worst) {
        worst += (worst.empty() ? "" : ", ") + Esc(c.input) + " " + Fig(c.cosine, "%.4f") + " (" +
                 Fig(c.norm_ratio, "%.3g") + ")";
      }
      *h += "<tr><td>" + Esc(o.name) + "</td><td class=\"n\">" + Fig(o.cosine, "%.6f") + "</td><td class=\"n\">" +
            Fig(o.rel_l2, "%.6f") + "</td><td class=\"n\">" + Fig(o.max_abs, "%.6g") + "</td><td>" + worst +
            "</td></tr>";
    }
    *h += "</table>";
  }
  for (const auto& d : r.detections) {
    *h += "<p>detections of " + Esc(d.blob) + ": fp32 " + std::to_string(d.fp32) + ", int8 " +
          std::to_string(d.int8) + ", matched " + std::to_string(d.matched) + " (IoU &ge; 0.5, same label): precision " +
          Fig(d.precision(), "%.4f") + ", recall " + Fig(d.recall(), "%.4f");
    for (size_t k = 0; k < d.worst.size(); ++k) {
      const auto& w = d.worst[k];
      *h += std::string(k ? ", " : "; inputs with the most unmatched detections (fp32 / int8 / matched): ") +
            Esc(w.input) + " " + std::to_string(w.fp32) + " / " + std::to_string(w.int8) + " / " +
            std::to_string(w.matched) + (w.capped ? " (keep_top_k " + std::to_string(d.keep_top_k) + " reached)" : "");
    }
    *h += "</p>";
  }
  if (!r.notes.empty()) {
    *h += "<details><summary>" + std::to_string(r.notes.size()) + " notes of the run</summary><ul>";
    for (const auto& n : r.notes) *h += "<li>" + Esc(n) + "</li>";
    *h += "</ul></details>";
  }
}

// Local error as bars, chain error as a line, both 1 − cosine on a log axis, layers in graph order.
void ErrorChart(const QuantReport& r, std::string* h) {
  const auto& L = r.layers;
  *h += "<h2 id=\"errors\">Where the error enters</h2><p class=\"muted\">Every quantized layer in graph order. Bars: "
        "<b>local</b> error, the int8 layer alone fed the fp32 model's inputs (on " + std::to_string(r.local_inputs) +
        " inputs). Line: <b>chain</b> error, the int8 model up to that layer (on " + std::to_string(r.chain_inputs) +
        " inputs), errors accumulated. Both as 1 &minus; cosine against fp32 on a log axis (lower is better); hover "
        "a bar for its figures.</p>";
  if (L.empty()) {
    *h += "<p>No quantized layer was measured.</p>";
    return;
  }
  const double left = 52, top = 10, plot_h = 220, bottom = 24;
  const double step = std::max(5.0, std::min(22.0, 1100.0 / L.size()));
  const double plot_w = step * L.size();
  const double width = left + plot_w + 10, height = top + plot_h + bottom;
  const double decades = 7;  // 1e-7 .. 1
  auto y_of = [&](double err) { return top + plot_h * (-std::log10(err)) / decades; };
  *h += "<div class=\"scroll\"><svg id=\"error-chart\" role=\"img\" width=\"" + C(width) + "\" height=\"" + C(height) +
        "\" viewBox=\"0 0 " + C(width) + " " + C(height) + "\" xmlns=\"http://www.w3.org/2000/svg\">";
  for (int d = 0; d <= decades; ++d) {
    const double y = top + plot_h * d / decades;
    *h += "<line x1=\"" + C(left) + "\" x2=\"" + C(left + plot_w) + "\" y1=\"" + C(y) + "\" y2=\"" + C(y) +
          "\" stroke=\"#eee\"/><text x=\"" + C(left - 4) + "\" y=\"" + C(y + 3) + "\" text-anchor=\"end\">" +
          (d == 0 ? std::string("1") : "1e-" + std::to_string(d)) + "</text>";
  }
  for (size_t i = 0; i < L.size(); ++i) {
    const double x = left + step * i;
    const double c = L[i].local_cosine;
    const std::string tip = "<title>" + Esc(L[i].name) + " (" + Esc(L[i].type) + "): local cosine " +
                            Fig(L[i].local_cosine, "%.6f") + ", SQNR " + Fig(L[i].local_sqnr_db, "%.1f") +
                            " dB; chain cosine " + Fig(L[i].chain_cosine, "%.6f") + ", SQNR " +
                            Fig(L[i].chain_sqnr_db, "%.1f") + " dB</title>";
    if (std::isfinite(c)) {
      const double y = y_of(ErrorOf(c));
      *h += "<rect x=\"" + C(x + step * 0.15) + "\" y=\"" + C(y) + "\" width=\"" + C(step * 0.7) + "\" height=\"" +
            C(top + plot_h - y) + "\" fill=\"#6baed6\">" + tip + "</rect>";
    } else {
      *h += "<rect x=\"" + C(x + step * 0.15) + "\" y=\"" + C(top + plot_h - 2) + "\" width=\"" + C(step * 0.7) +
            "\" height=\"2\" fill=\"#ccc\">" + tip + "</rect>";
    }
  }
  std::string line;
  for (size_t i = 0; i < L.size(); ++i) {
    if (!std::isfinite(L[i].chain_cosine)) continue;
    line += (line.empty() ? "M" : "L") + C(left + step * (i + 0.5)) + " " + C(y_of(ErrorOf(L[i].chain_cosine)));
  }
  if (!line.empty()) *h += "<path d=\"" + line + "\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"1.6\"/>";
  const size_t every = std::max<size_t>(1, static_cast<size_t>(std::ceil(60.0 / step)));
  for (size_t i = 0; i < L.size(); i += every) {
    *h += "<text x=\"" + C(left + step * (i + 0.5)) + "\" y=\"" + C(top + plot_h + 14) +
          "\" text-anchor=\"middle\">" + std::to_string(i + 1) + "</text>";
  }
  *h += "<line x1=\"" + C(left) + "\" x2=\"" + C(left) + "\" y1=\"" + C(top) + "\" y2=\"" + C(top + plot_h) +
        "\" stroke=\"#888\"/></svg></div><p class=\"legend\"><span><i class=\"sw\" style=\"background:#6baed6;height:"
        "10px\"></i>local (layer alone)</span><span><i class=\"sw\" style=\"background:#d62728\"></i>chain (int8 "
        "model up to the layer)</span><span class=\"muted\">x: layer number in graph order (table below)</span></p>";

  // The table, worst local layers marked: the ten lowest local cosines.
  std::vector<double> sorted;
  for (const auto& l : L) {
    if (std::isfinite(l.local_cosine)) sorted.push_back(l.local_cosine);
  }
  std::sort(sorted.begin(), sorted.end());
  const double bad = sorted.empty() ? -1 : sorted[std::min<size_t>(9, sorted.size() - 1)];
  *h += "<details><summary>Per-layer figures (" + std::to_string(L.size()) + " quantized layers; the 10 worst local "
        "errors shaded)</summary><table><tr><th>#</th><th>layer</th><th>type</th><th>output scale method</th>"
        "<th>local cosine</th><th>local SQNR dB</th><th>chain cosine</th><th>chain SQNR dB</th><th>clipped</th>"
        "<th>note</th></tr>";
  for (size_t i = 0; i < L.size(); ++i) {
    const auto& l = L[i];
    *h += std::string("<tr") + (std::isfinite(l.local_cosine) && l.local_cosine <= bad ? " class=\"bad\"" : "") +
          "><td class=\"n\">" + std::to_string(i + 1) + "</td><td>" + Esc(l.name) + "</td><td>" + Esc(l.type) +
          "</td><td>" + Esc(l.method) + "</td><td class=\"n\">" + Fig(l.local_cosine, "%.6f") + "</td><td class=\"n\">" +
          Fig(l.local_sqnr_db, "%.1f") + "</td><td class=\"n\">" + Fig(l.chain_cosine, "%.6f") +
          "</td><td class=\"n\">" + Fig(l.chain_sqnr_db, "%.1f") + "</td><td class=\"n\">" + Pct(l.clipped) +
          "</td><td>" + Esc(l.note) + "</td></tr>";
  }
  *h += "</table></details>";
}

// Histogram of |x| (log counts) with one vertical line per method threshold.
void Histogram(const ReportHistogram& b, std::string* h) {
  const double left = 34, top = 6, pw = 320, ph = 110, bottom = 18;
  const double width = left + pw + 8, height = top + ph + bottom;
  *h += "<div class=\"card\"><h3>" + Esc(b.blob) +
        (b.producer.empty() ? " (model input)" : b.producer == b.blob ? "" : " &larr; " + Esc(b.producer)) +
        "</h3><svg class=\"hist\" width=\"" + C(width) + "\" height=\"" + C(height) + "\" viewBox=\"0 0 " +
        C(width) + " " + C(height) + "\" xmlns=\"http://www.w3.org/2000/svg\">";
  double peak = 0;
  for (double c : b.counts) peak = std::max(peak, c);
  const double lpeak = std::log10(1 + peak);
  if (!b.counts.empty() && lpeak > 0) {
    const double bw = pw / b.counts.size();
    std::string d;
    for (size_t i = 0; i < b.counts.size(); ++i) {
      if (b.counts[i] <= 0) continue;
      const double bh = ph * std::log10(1 + b.counts[i]) / lpeak;
      d += "M" + C(left + bw * i) + " " + C(top + ph) + "v-" + C(bh) + "h" + C(bw) + "v" + C(bh) + "z";
    }
    *h += "<path d=\"" + d + "\" fill=\"#bbb\"/>";
  }
  *h += "<line x1=\"" + C(left) + "\" x2=\"" + C(left + pw) + "\" y1=\"" + C(top + ph) + "\" y2=\"" + C(top + ph) +
        "\" stroke=\"#888\"/><text x=\"" + C(left) + "\" y=\"" + C(top + ph + 13) + "\">0</text><text x=\"" +
        C(left + pw) + "\" y=\"" + C(top + ph + 13) + "\" text-anchor=\"end\">|x| " + Fig(b.max_abs, "%.4g") +
        "</text><text x=\"" + C(left - 3) + "\" y=\"" + C(top + 8) + "\" text-anchor=\"end\">log</text>";
  auto x_of = [&](double t) { return left + pw * std::min(1.0, t / std::max(b.max_abs, 1e-30)); };
  for (const auto& m : b.methods) {
    if (!std::isfinite(m.threshold) || b.max_abs <= 0) continue;
    *h += "<line x1=\"" + C(x_of(m.threshold)) + "\" x2=\"" + C(x_of(m.threshold)) + "\" y1=\"" + C(top) +
          "\" y2=\"" + C(top + ph) + "\" stroke=\"" + ColorOf(m.method) + "\" stroke-width=\"1.5\"><title>" +
          Esc(m.method) + " " + Fig(m.threshold, "%.5g") + "</title></line>";
  }
  if (std::isfinite(b.chosen_threshold) && b.max_abs > 0) {
    *h += "<line x1=\"" + C(x_of(b.chosen_threshold)) + "\" x2=\"" + C(x_of(b.chosen_threshold)) + "\" y1=\"" +
          C(top) + "\" y2=\"" + C(top + ph) + "\" stroke=\"#000\" stroke-width=\"1.2\" stroke-dasharray=\"4 3\">"
          "<title>chosen " + Fig(b.chosen_threshold, "%.5g") + "</title></line>";
  }
  *h += "</svg><table><tr><th>method</th><th>threshold</th><th>clipped</th></tr>";
  for (const auto& m : b.methods) {
    *h += "<tr><td><i class=\"sw\" style=\"background:" + std::string(ColorOf(m.method)) + "\"></i>" +
          Esc(m.method) + "</td><td class=\"n\">" + Fig(m.threshold, "%.5g") + "</td><td class=\"n\">" +
          Pct(m.clipped) + "</td></tr>";
  }
  *h += "<tr><td><b>chosen: " + Esc(b.chosen_method) + "</b>" + (b.per_channel ? " (per channel, largest)" : "") +
        "</td><td class=\"n\"><b>" + Fig(b.chosen_threshold, "%.5g") + "</b></td><td class=\"n\"><b>" +
        Pct(b.clipped) + "</b></td></tr></table></div>";
}

void Histograms(const QuantReport& r, std::string* h) {
  *h += "<h2 id=\"histograms\">Calibrated blobs</h2><p class=\"muted\">Histogram of |x| of every calibrated blob (" +
        Esc(r.histogram_source) + "; counts on a log scale, exact zeros not counted) with the threshold each method "
        "would choose on it (per tensor) and the one stored; clipped = share of the non-zero values beyond the "
        "threshold.</p>";
  if (r.histograms.empty()) {
    *h += "<p>No histograms: the statistics were not kept (--compat tnn collects TNN's own).</p>";
    return;
  }
  *h += Legend();
  // The blobs of the worst layers first, open; the rest in graph order, in groups of 24.
  std::vector<std::pair<double, std::string>> worst;
  for (const auto& l : r.layers) {
    if (std::isfinite(l.local_cosine)) worst.push_back({l.local_cosine, l.blob});
  }
  std::sort(worst.begin(), worst.end());
  std::vector<const ReportHistogram*> first;
  for (size_t k = 0; k < worst.size() && first.size() < 6; ++k) {
    for (const auto& b : r.histograms) {
      if (b.blob == worst[k].second) first.push_back(&b);
    }
  }
  if (!first.empty()) {
    *h += "<details open><summary>Outputs of the layers with the largest local error</summary><div class=\"grid\">";
    for (const auto* b : first) Histogram(*b, h);
    *h += "</div></details>";
  }
  const size_t group = 24;
  for (size_t s = 0; s < r.histograms.size(); s += group) {
    const size_t e = std::min(r.histograms.size(), s + group);
    *h += "<details><summary>Blobs " + std::to_string(s + 1) + "&ndash;" + std::to_string(e) + " of " +
          std::to_string(r.histograms.size()) + " in graph order (" + Esc(r.histograms[s].blob) + " &hellip; " +
          Esc(r.histograms[e - 1].blob) + ")</summary><div class=\"grid\">";
    for (size_t i = s; i < e; ++i) Histogram(r.histograms[i], h);
    *h += "</div></details>";
  }
}

void FloatLayersSection(const QuantReport& r, std::string* h) {
  *h += "<h2 id=\"float\">Layers in float</h2>";
  if (r.float_layers.empty()) {
    *h += "<p>Every layer is quantized.</p>";
    return;
  }
  std::map<std::string, int> by_reason;
  for (const auto& l : r.float_layers) ++by_reason[l.reason];
  *h += "<ul>";
  for (const auto& [reason, n] : by_reason) *h += "<li>" + std::to_string(n) + ": " + Esc(reason) + "</li>";
  *h += "</ul><details><summary>All " + std::to_string(r.float_layers.size()) +
        " float layers</summary><table><tr><th>layer</th><th>type</th><th>why float</th></tr>";
  for (const auto& l : r.float_layers) {
    *h += "<tr><td>" + Esc(l.name) + "</td><td>" + Esc(l.type) + "</td><td>" + Esc(l.reason) + "</td></tr>";
  }
  *h += "</table></details>";
}

// Each output channel's weight range as a vertical segment.
void WeightRanges(const QuantReport& r, std::string* h) {
  *h += "<h2 id=\"weights\">Weight ranges of the worst layers</h2><p class=\"muted\">Per output channel, the range "
        "of the dequantized int8 weights of the convolutions and inner products with the lowest local cosine: a few "
        "channels far wider than the rest mean a per-tensor scale would waste levels, a channel near zero gets few.</p>";
  if (r.weight_ranges.empty()) {
    *h += "<p>None.</p>";
    return;
  }
  *h += "<div class=\"grid\">";
  for (const auto& w : r.weight_ranges) {
    double lo = 0, hi = 0;
    for (size_t c = 0; c < w.min.size(); ++c) {
      lo = std::min<double>(lo, w.min[c]);
      hi = std::max<double>(hi, w.max[c]);
    }
    if (hi - lo <= 0) hi = lo + 1;
    const double left = 44, top = 6, pw = std::max(200.0, std::min(600.0, 2.0 * w.min.size())), ph = 120;
    const double width = left + pw + 8, height = top + ph + 16;
    auto y_of = [&](double v) { return top + ph * (hi - v) / (hi - lo); };
    const double step = pw / std::max<size_t>(w.min.size(), 1);
    std::string d;
    for (size_t c = 0; c < w.min.size(); ++c) {
      const double x = left + step * (c + 0.5);
      d += "M" + C(x) + " " + C(y_of(w.max[c])) + "V" + C(y_of(w.min[c]));
    }
    *h += "<div class=\"card\"><h3>" + Esc(w.layer) + " (" + Esc(w.type) + ", " + std::to_string(w.min.size()) +
          " channels, local cosine " + Fig(w.local_cosine, "%.5f") + ")</h3><svg class=\"weights\" width=\"" +
          C(width) + "\" height=\"" + C(height) + "\" viewBox=\"0 0 " + C(width) + " " + C(height) +
          "\" xmlns=\"http://www.w3.org/2000/svg\"><line x1=\"" + C(left) + "\" x2=\"" + C(left + pw) + "\" y1=\"" +
          C(y_of(0)) + "\" y2=\"" + C(y_of(0)) + "\" stroke=\"#ccc\"/><path d=\"" + d +
          "\" stroke=\"#3182bd\" stroke-width=\"" + C(std::max(1.0, step * 0.6)) + "\"/><text x=\"" + C(left - 4) +
          "\" y=\"" + C(top + 8) + "\" text-anchor=\"end\">" + Fig(hi, "%.3g") + "</text><text x=\"" + C(left - 4) +
          "\" y=\"" + C(top + ph) + "\" text-anchor=\"end\">" + Fig(lo, "%.3g") + "</text><text x=\"" + C(left) +
          "\" y=\"" + C(top + ph + 13) + "\">output channel &rarr;</text></svg></div>";
  }
  *h += "</div>";
}

void Sweep(const ReportTable& t, std::string* h) {
  *h += "<h2 id=\"sweep\">" + Esc(t.title.empty() ? "Sweep" : t.title) + "</h2><table><tr>";
  for (const auto& c : t.columns) *h += "<th>" + Esc(c) + "</th>";
  *h += "</tr>";
  for (const auto& row : t.rows) {
    *h += "<tr>";
    for (const auto& cell : row) *h += "<td>" + Esc(cell) + "</td>";
    *h += "</tr>";
  }
  *h += "</table>";
  if (!t.note.empty()) *h += "<p class=\"muted\">" + Esc(t.note) + "</p>";
}

}  // namespace

std::string RenderHtmlReport(const QuantReport& r) {
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Quantization report: " +
                  Esc(r.model) + "</title><style>" + kCss + "</style></head><body><h1>Quantization report</h1>" +
                  "<p class=\"muted\">" + Esc(r.tool) + " &middot; " + Esc(r.model) +
                  " &middot; <a href=\"#errors\">errors by layer</a> &middot; <a href=\"#histograms\">histograms</a>"
                  " &middot; <a href=\"#float\">float layers</a> &middot; <a href=\"#weights\">weights</a>" +
                  (r.sweep ? " &middot; <a href=\"#sweep\">sweep</a>" : "") + "</p>";
  if (r.sweep) Sweep(*r.sweep, &h);
  Summary(r, &h);
  ErrorChart(r, &h);
  Histograms(r, &h);
  FloatLayersSection(r, &h);
  WeightRanges(r, &h);
  return h + "</body></html>\n";
}

std::string ReportJsonString(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += static_cast<char>(c);
    } else if (c < 0x20) {
      char b[8];
      std::snprintf(b, sizeof(b), "\\u%04x", c);
      o += b;
    } else {
      o += static_cast<char>(c);
    }
  }
  return o + "\"";
}

std::string ReportJsonNumber(double v) {
  if (!std::isfinite(v)) return "null";
  char b[32];
  std::snprintf(b, sizeof(b), "%.9g", v);
  return b;
}

std::string ReportJsonFields(const QuantReport& r) {
  const auto& S = ReportJsonString;
  const auto& N = ReportJsonNumber;
  std::string j = ", \"layer_errors\": {\"local_inputs\": " + std::to_string(r.local_inputs) +
                  ", \"chain_inputs\": " + std::to_string(r.chain_inputs) + ", \"layers\": [";
  for (size_t i = 0; i < r.layers.size(); ++i) {
    const auto& l = r.layers[i];
    j += std::string(i ? ", " : "") + "{\"name\": " + S(l.name) + ", \"type\": " + S(l.type) + ", \"blob\": " +
         S(l.blob) + ", \"method\": " + S(l.method) + ", \"local_cosine\": " + N(l.local_cosine) +
         ", \"local_sqnr_db\": " + N(l.local_sqnr_db) + ", \"chain_cosine\": " + N(l.chain_cosine) +
         ", \"chain_sqnr_db\": " + N(l.chain_sqnr_db) + ", \"clipped\": " + N(l.clipped) + ", \"note\": " +
         (l.note.empty() ? "null" : S(l.note)) + "}";
  }
  j += "]}, \"histograms\": {\"source\": " + S(r.histogram_source) + ", \"blobs\": [";
  for (size_t i = 0; i < r.histograms.size(); ++i) {
    const auto& b = r.histograms[i];
    j += std::string(i ? ", " : "") + "{\"blob\": " + S(b.blob) + ", \"producer\": " +
         (b.producer.empty() ? "null" : S(b.producer)) + ", \"max_abs\": " + N(b.max_abs) + ", \"counts\": [";
    for (size_t k = 0; k < b.counts.size(); ++k) {
      char c[32];
      std::snprintf(c, sizeof(c), "%s%.6g", k ? ", " : "", b.counts[k]);
      j += c;
    }
    j += "], \"thresholds\": {";
    for (size_t k = 0; k < b.methods.size(); ++k) {
      j += std::string(k ? ", " : "") + S(b.methods[k].method) + ": {\"threshold\": " + N(b.methods[k].threshold) +
           ", \"clipped\": " + N(b.methods[k].clipped) + "}";
    }
    j += "}, \"chosen\": {\"method\": " + S(b.chosen_method) + ", \"threshold\": " + N(b.chosen_threshold) +
         ", \"per_channel\": " + (b.per_channel ? "true" : "false") + ", \"clipped\": " + N(b.clipped) + "}}";
  }
  j += "]}, \"float_layers\": [";
  for (size_t i = 0; i < r.float_layers.size(); ++i) {
    const auto& l = r.float_layers[i];
    j += std::string(i ? ", " : "") + "{\"name\": " + S(l.name) + ", \"type\": " + S(l.type) + ", \"reason\": " +
         S(l.reason) + "}";
  }
  j += "], \"weight_ranges\": [";
  for (size_t i = 0; i < r.weight_ranges.size(); ++i) {
    const auto& w = r.weight_ranges[i];
    j += std::string(i ? ", " : "") + "{\"layer\": " + S(w.layer) + ", \"type\": " + S(w.type) +
         ", \"local_cosine\": " + N(w.local_cosine) + ", \"min\": [";
    for (size_t c = 0; c < w.min.size(); ++c) j += (c ? ", " : "") + N(w.min[c]);
    j += "], \"max\": [";
    for (size_t c = 0; c < w.max.size(); ++c) j += (c ? ", " : "") + N(w.max[c]);
    j += "]}";
  }
  j += "], \"sweep\": ";
  if (!r.sweep) return j + "null";
  j += "{\"title\": " + S(r.sweep->title) + ", \"columns\": [";
  for (size_t c = 0; c < r.sweep->columns.size(); ++c) j += (c ? ", " : "") + S(r.sweep->columns[c]);
  j += "], \"rows\": [";
  for (size_t i = 0; i < r.sweep->rows.size(); ++i) {
    j += i ? ", [" : "[";
    for (size_t c = 0; c < r.sweep->rows[i].size(); ++c) j += (c ? ", " : "") + S(r.sweep->rows[i][c]);
    j += "]";
  }
  return j + "], \"note\": " + S(r.sweep->note) + "}";
}

}  // namespace qt
