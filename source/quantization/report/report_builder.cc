#include "quantization/report/report_builder.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "core/graph/shape_inference.h"
#include "core/runtime/net.h"
#include "quantization/eval/evaluator.h"
#include "quantization/quantizer/calibrator.h"
#include "quantization/quantizer/graph_passes.h"

namespace qt {
namespace {

// Σ a·b, Σ a², Σ b², Σ (a − b)² over one blob.
struct Sums {
  double ab = 0, aa = 0, bb = 0, dd = 0;
  int64_t values = 0;
};

Sums Compare(const Tensor& q, const Tensor& f) {
  // Sums in 8 independent lanes combined in a fixed order, so that the loop vectorises.
  constexpr int kLanes = 8;
  double ab[kLanes] = {}, aa[kLanes] = {}, bb[kLanes] = {}, dd[kLanes] = {};
  const int64_t n = std::min(q.count(), f.count());
  const float* x = q.data.data();
  const float* y = f.data.data();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int k = 0; k < kLanes; ++k) {
      const double a = x[i + k], b = y[i + k];
      ab[k] += a * b;
      aa[k] += a * a;
      bb[k] += b * b;
      dd[k] += (a - b) * (a - b);
    }
  }
  for (int k = 0; i < n; ++i, ++k) {
    const double a = x[i], b = y[i];
    ab[k] += a * b;
    aa[k] += a * a;
    bb[k] += b * b;
    dd[k] += (a - b) * (a - b);
  }
  Sums r;
  for (int k = 0; k < kLanes; ++k) {
    r.ab += ab[k];
    r.aa += aa[k];
    r.bb += bb[k];
    r.dd += dd[k];
  }
  r.values = n;
  return r;
}

// How many fp32 values fall beyond the int8 range of scale `s` (x/s + zp outside [−128.5, 127.5]).
int64_t Clipped(const Tensor& f, const BlobScale& s) {
  const int channels = std::max(f.channels(), 1);
  const int64_t spatial = std::max<int64_t>(f.spatial(), 1);
  int64_t clipped = 0;
  for (int64_t start = 0; start < f.count(); start += spatial) {
    const size_t c = s.scale.size() == 1 ? 0 : static_cast<size_t>((start / spatial) % channels);
    if (c >= s.scale.size() || s.scale[c] == 0.f) continue;
    const float inv = 1.f / s.scale[c];
    const float zp = s.zero_point.size() > c ? s.zero_point[c] : 0.f;
    const float* p = f.data.data() + start;
    const int64_t end = std::min(spatial, f.count() - start);
    int32_t k = 0;
    for (int64_t i = 0; i < end; ++i) {
      const float v = p[i] * inv + zp;
      k += (v > 127.5f) | (v < -128.5f);
    }
    clipped += k;
  }
  return clipped;
}

double CosineOf(const Sums& s) {
  if (s.aa == 0 && s.bb == 0) return 1.0;
  if (s.aa == 0 || s.bb == 0) return 0.0;
  return s.ab / std::sqrt(s.aa * s.bb);
}

struct Accum {
  double cosine_sum = 0, signal = 0, noise = 0;
  int inputs = 0;
  void Add(const Sums& s) {
    cosine_sum += CosineOf(s);
    signal += s.bb;
    noise += s.dd;
    ++inputs;
  }
  double Cosine() const { return inputs > 0 ? cosine_sum / inputs : kNoFigure; }
  double Sqnr() const {
    if (inputs == 0) return kNoFigure;
    if (noise == 0) return signal == 0 ? kNoFigure : std::numeric_limits<double>::infinity();
    return 10 * std::log10(signal / noise);
  }
};

// The quantized layer alone as a network whose inputs are its input blobs.
Status OneLayerGraph(const Graph& int8, const Layer& layer, const BlobDims& dims, Graph* sub) {
  sub->magic = int8.magic;
  for (const auto& in : layer.inputs) {
    if (std::any_of(sub->inputs.begin(), sub->inputs.end(), [&](const InputSpec& s) { return s.name == in; })) {
      continue;
    }
    auto d = dims.find(in);
    if (d == dims.end()) return Status::NotFound("no dims for blob '" + in + "'");
    sub->inputs.push_back({in, d->second});
  }
  sub->layers = {layer};
  sub->outputs = layer.outputs;
  auto r = int8.resources.find(layer.name);
  if (r != int8.resources.end()) sub->resources[layer.name] = r->second;
  for (const auto& blobs : {layer.inputs, layer.outputs}) {
    for (const auto& b : blobs) {
      auto s = int8.blob_scales.find(b);
      if (s != int8.blob_scales.end()) sub->blob_scales[b] = s->second;
    }
  }
  sub->constants = int8.constants;
  sub->RefreshBlobNames();
  return Status::Ok();
}

}  // namespace

Status ComputeLayerErrors(const Graph& fp32, const Graph& int8,
                          const std::vector<const std::map<std::string, Tensor>*>& inputs,
                          std::vector<ReportLayer>* layers) {
  layers->clear();
  Net f, q;
  QT_RETURN_IF_ERROR(f.Init(FusedReference(fp32, &int8)).WithContext("fp32 model"));
  QT_RETURN_IF_ERROR(q.Init(int8).WithContext("int8 model"));
  struct Entry {
    const Layer* layer;
    std::unique_ptr<Net> alone;
    Accum local, chain;
    int64_t clipped = 0, values = 0;
  };
  std::vector<Entry> entries;
  for (const auto& l : int8.layers) {
    if (!l.quantized) continue;
    ReportLayer r;
    r.name = l.name;
    r.type = l.type_str.empty() ? LayerTypeName(l.type) : l.type_str;
    r.blob = l.outputs[0];
    Entry e{&l, nullptr, {}, {}, 0, 0};
    auto fd = f.blob_dims().find(r.blob);
    if (fd == f.blob_dims().end()) {
      r.note = "the fp32 model has no blob '" + r.blob + "'";
    } else {
      Graph sub;
      Status s = OneLayerGraph(int8, l, f.blob_dims(), &sub);
      if (s.ok()) {
        e.alone = std::make_unique<Net>();
        s = e.alone->Init(sub);
      }
      if (!s.ok()) {
        e.alone.reset();
        r.note = "not run alone: " + s.message();
      }
    }
    layers->push_back(r);
    entries.push_back(std::move(e));
  }
  Tensor scratch, fv, lv;
  for (const auto* in : inputs) {
    for (const auto& [name, t] : *in) {
      QT_RETURN_IF_ERROR(f.SetInput(name, t));
      QT_RETURN_IF_ERROR(q.SetInput(name, t));
    }
    QT_RETURN_IF_ERROR(f.Forward().WithContext("fp32 model"));
    QT_RETURN_IF_ERROR(q.Forward().WithContext("int8 model"));
    for (size_t i = 0; i < entries.size(); ++i) {
      Entry& e = entries[i];
      const std::string& blob = (*layers)[i].blob;
      const Tensor* fp = nullptr;
      if (!f.ViewBlob(blob, &fp, &fv).ok()) continue;
      auto scale = int8.blob_scales.find(blob);
      if (scale != int8.blob_scales.end()) {
        e.clipped += Clipped(*fp, scale->second);
        e.values += fp->count();
      }
      auto qd = q.blob_dims().find(blob);
      if (qd != q.blob_dims().end() && qd->second == f.blob_dims().at(blob)) {
        const Tensor* qv = nullptr;
        if (q.ViewBlob(blob, &qv, &scratch).ok()) e.chain.Add(Compare(*qv, *fp));
      }
      if (!e.alone) continue;
      for (const auto& spec : e.alone->inputs()) {
        const Tensor* x = nullptr;
        QT_RETURN_IF_ERROR(f.ViewBlob(spec.name, &x, &scratch));
        QT_RETURN_IF_ERROR(e.alone->SetInput(spec.name, *x));
      }
      QT_RETURN_IF_ERROR(e.alone->Forward().WithContext("layer '" + e.layer->name + "' alone"));
      const Tensor* lq = nullptr;
      QT_RETURN_IF_ERROR(e.alone->ViewBlob(blob, &lq, &lv));
      e.local.Add(Compare(*lq, *fp));
    }
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    ReportLayer& r = (*layers)[i];
    const Entry& e = entries[i];
    r.local_cosine = e.local.Cosine();
    r.local_sqnr_db = e.local.Sqnr();
    r.chain_cosine = e.chain.Cosine();
    r.chain_sqnr_db = e.chain.Sqnr();
    if (e.values > 0) r.clipped = static_cast<double>(e.clipped) / e.values;
    if (e.chain.inputs == 0 && r.note.empty() && !inputs.empty()) {
      r.note = "fused with the next layer at run time: no int8 value of its own in the chain";
    }
  }
  return Status::Ok();
}

const std::vector<BlobMethod>& ReportedBlobMethods() {
  static const std::vector<BlobMethod> methods = {BlobMethod::kMinMax, BlobMethod::kKl, BlobMethod::kAciqGauss,
                                                  BlobMethod::kAciqLaplace, BlobMethod::kMse};
  return methods;
}

namespace {

// Share of the histogram's values above `t`, the bin holding t split in proportion. No value exceeds max_abs, so the
// last occupied bin is taken to end there.
double ShareAbove(const AbsHistogram& h, double max_abs, double t) {
  if (h.empty() || !std::isfinite(t)) return kNoFigure;
  const auto& c = h.counts();
  const double width = std::ldexp(1.0, h.exponent()) / h.bins();
  double total = 0, above = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    total += static_cast<double>(c[i]);
    const double lo = i * width, hi = std::min(lo + width, max_abs);
    if (lo >= t) {
      above += static_cast<double>(c[i]);
    } else if (hi > t) {
      above += static_cast<double>(c[i]) * (hi - t) / (hi - lo);
    }
  }
  return total > 0 ? above / total : kNoFigure;
}

// The blob whose scale `blob` stores: scale merging gives the input of a quantized ReLU or max pooling its output's
// scale, along chains (ReLU → max pooling).
std::string ScaleSource(const Graph& g, const std::string& blob) {
  std::string b = blob;
  for (int step = 0; step < 8; ++step) {
    const BlobScale& s = g.blob_scales.at(b);
    std::string next;
    const auto readers = g.Consumers(b);
    for (const Layer* l : readers) {
      // A ReLU or max pooling merges its scale back (MergeBlobScales); a Concat shares its per-tensor scale with
      // inputs that only it reads (ShareConcatScales).
      const bool passes = PassesScaleThrough(*l) && l->inputs.size() == 1;
      const bool shares = l->type == LayerType::kConcat && readers.size() == 1 && s.scale.size() == 1;
      if (l->quantized && (passes || shares) && l->outputs.size() == 1 && g.blob_scales.count(l->outputs[0]) &&
          g.blob_scales.at(l->outputs[0]) == s) {
        next = l->outputs[0];
        break;
      }
    }
    if (next.empty()) break;
    b = next;
  }
  return b;
}

}  // namespace

std::vector<ReportHistogram> BlobHistograms(const Graph& int8, const std::map<std::string, BlobStats>& stats,
                                            const std::map<std::string, std::string>& chosen, int bars) {
  std::vector<std::pair<std::string, std::string>> order;  // blob, producer
  std::set<std::string> seen;
  for (const auto& in : int8.inputs) {
    if (seen.insert(in.name).second) order.push_back({in.name, ""});
  }
  for (const auto& l : int8.layers) {
    for (const auto& b : l.outputs) {
      if (seen.insert(b).second) order.push_back({b, l.name});
    }
  }
  std::vector<ReportHistogram> out;
  for (const auto& [blob, producer] : order) {
    auto st = stats.find(blob);
    auto sc = int8.blob_scales.find(blob);
    if (st == stats.end() || sc == int8.blob_scales.end() || sc->second.scale.empty()) continue;
    const ChannelStats& t = st->second.tensor();
    ReportHistogram h;
    h.blob = blob;
    h.producer = producer;
    const std::string source = ScaleSource(int8, blob);
    auto m = chosen.find(source);
    h.chosen_method = m == chosen.end() ? "merged" : m->second;
    if (source != blob) h.chosen_method += " (merged: the scale of " + source + ")";
    h.per_channel = sc->second.scale.size() > 1;
    h.chosen_threshold = 127.0 * *std::max_element(sc->second.scale.begin(), sc->second.scale.end());
    h.max_abs = t.seen() ? t.max_abs() : 0;
    if (!t.hist.empty() && h.max_abs > 0) h.counts = t.hist.Resample(static_cast<float>(h.max_abs), bars);
    h.clipped = ShareAbove(t.hist, h.max_abs, h.chosen_threshold);
    for (BlobMethod method : ReportedBlobMethods()) {
      ReportThreshold r;
      r.method = BlobMethodName(method);
      ScaleResult s;
      if (ComputeBlobScale(st->second, /*merged=*/true, method, blob, &s).ok() && !s.scale.empty()) {
        r.threshold = 127.0 * s.scale[0];
        r.clipped = ShareAbove(t.hist, h.max_abs, r.threshold);
      }
      h.methods.push_back(r);
    }
    out.push_back(std::move(h));
  }
  return out;
}

std::vector<ReportFloatLayer> FloatLayers(const Graph& int8, const std::set<std::string>& user_float,
                                          const std::map<std::string, std::string>& reasons) {
  BlobDims dims;
  const bool have_dims = InferShapes(int8, {}, &dims).ok();
  std::set<std::string> int8_blobs;
  for (const auto& l : int8.layers) {
    if (l.quantized) int8_blobs.insert(l.outputs.begin(), l.outputs.end());
  }
  std::vector<ReportFloatLayer> out;
  for (const auto& l : int8.layers) {
    if (l.quantized) continue;
    ReportFloatLayer r{l.name, l.type_str.empty() ? LayerTypeName(l.type) : l.type_str, ""};
    auto given = reasons.find(l.name);
    const bool any_int8_input = std::any_of(l.inputs.begin(), l.inputs.end(), [&](const std::string& b) {
      return int8_blobs.count(b) > 0 || int8.FindInput(b) != nullptr;
    });
    if (given != reasons.end()) {
      r.reason = given->second;
    } else if (user_float.count(l.name)) {
      r.reason = "kept in float as asked (--fp32_layers)";
    } else if (PassesScaleThrough(l)) {
      r.reason = any_int8_input ? "runs in float where its neighbours do (its scale is not merged)"
                                : "its input comes from a float layer";
    } else if (have_dims && IsQuantizableLayer(int8, l, dims)) {
      r.reason = (l.type == LayerType::kConcat || l.type == LayerType::kAdd) && !any_int8_input
                     ? "reads float layers only: requantizing float values would only lose precision"
                     : "quantizable, left in float in this model";
    } else {
      r.reason = "no int8 form of this layer in TNN's runtime";
    }
    out.push_back(r);
  }
  return out;
}

std::vector<ReportWeightRange> WorstWeightRanges(const Graph& int8, const std::vector<ReportLayer>& layers,
                                                 int count) {
  std::vector<std::pair<double, const ReportLayer*>> ranked;
  for (const auto& r : layers) {
    const Layer* l = int8.FindLayer(r.name);
    if (!l || (l->type != LayerType::kConvolution && l->type != LayerType::kInnerProduct)) continue;
    const double c = std::isfinite(r.local_cosine) ? r.local_cosine : r.chain_cosine;
    ranked.push_back({std::isfinite(c) ? c : 2.0, &r});
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<ReportWeightRange> out;
  for (size_t k = 0; k < ranked.size() && static_cast<int>(out.size()) < count; ++k) {
    const Layer& l = *int8.FindLayer(ranked[k].second->name);
    auto res = int8.resources.find(l.name);
    if (res == int8.resources.end()) continue;
    const RawBuffer* w = nullptr;
    const RawBuffer* scale = nullptr;
    const RawBuffer* zp = nullptr;
    int channels = 0;
    if (l.type == LayerType::kConvolution) {
      const auto& c = std::get<ConvResource>(res->second);
      w = &c.filter, scale = &c.scale, zp = &c.zero_point;
      channels = l.Params<ConvParams>().output_channel;
    } else {
      const auto& c = std::get<InnerProductResource>(res->second);
      w = &c.weight, scale = &c.scale, zp = &c.zero_point;
      channels = l.Params<InnerProductParams>().num_output;
    }
    const std::vector<float> v = w->ToFloat();
    if (channels <= 0 || v.empty() || v.size() % channels != 0) continue;
    const std::vector<float> s = w->dtype() == DataType::kInt8 ? scale->ToFloat() : std::vector<float>{};
    const std::vector<float> z = zp->empty() ? std::vector<float>{} : zp->ToFloat();
    const size_t per = v.size() / channels;
    ReportWeightRange r;
    r.layer = l.name;
    r.type = l.type_str.empty() ? LayerTypeName(l.type) : l.type_str;
    r.local_cosine = ranked[k].second->local_cosine;
    for (int c = 0; c < channels; ++c) {
      const float sc = s.empty() ? 1.f : s[s.size() == 1 ? 0 : c];
      const float zc = z.empty() ? 0.f : z[z.size() == 1 ? 0 : c];
      const auto mm = std::minmax_element(v.begin() + c * per, v.begin() + (c + 1) * per);
      r.min.push_back((*mm.first - zc) * sc);
      r.max.push_back((*mm.second - zc) * sc);
    }
    out.push_back(std::move(r));
  }
  return out;
}

Status FillReport(const Graph& fp32, const Graph& int8, const std::map<std::string, BlobStats>& stats,
                  const std::map<std::string, std::string>& chosen_methods, const std::set<std::string>& user_float,
                  const std::map<std::string, std::string>& float_reasons,
                  const std::vector<const std::map<std::string, Tensor>*>& inputs, QuantReport* report) {
  QT_RETURN_IF_ERROR(ComputeLayerErrors(fp32, int8, inputs, &report->layers));
  for (auto& l : report->layers) {
    auto m = chosen_methods.find(l.blob);
    l.method = m == chosen_methods.end() ? "merged" : m->second;
  }
  report->local_inputs = report->chain_inputs = static_cast<int>(inputs.size());
  report->histograms = BlobHistograms(int8, stats, chosen_methods, 128);
  report->float_layers = FloatLayers(int8, user_float, float_reasons);
  report->weight_ranges = WorstWeightRanges(int8, report->layers, 4);
  return Status::Ok();
}

Status CollectReportStats(const Graph& fp32, const Graph& int8, const std::vector<CalibrationSample>& samples,
                          const Preprocess& pre, std::map<std::string, BlobStats>* stats) {
  BlobDims dims;
  QT_RETURN_IF_ERROR(InferShapes(fp32, {}, &dims));
  std::vector<std::string> blobs;
  for (const auto& [name, scale] : int8.blob_scales) {
    if (dims.count(name)) blobs.push_back(name);
  }
  StreamingCalibration how;
  how.request.tensor_hist = true;
  std::map<size_t, SampleTensors> none;
  return CollectBlobStats(fp32, samples, blobs, pre, how, nullptr, stats, &none);
}

}  // namespace qt
