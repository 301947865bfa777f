#include "quantization/quantizer/mixed_precision.h"

#include <algorithm>
#include <set>

#include "core/runtime/net.h"
#include "quantization/eval/evaluator.h"

namespace qt {
namespace {

bool HasWeights(const Layer& l) {
  return l.type == LayerType::kConvolution || l.type == LayerType::kInnerProduct;
}

bool IsDetectionRows(const Graph& g, const std::string& blob) {
  const Layer* p = g.Producer(blob);
  return p && p->type == LayerType::kDetectionOutput;
}

}  // namespace

std::vector<std::string> FloatClosure(const Graph& int8, const std::string& layer) {
  std::vector<std::string> out = {layer};
  std::set<std::string> seen = {layer};
  const Layer* l = int8.FindLayer(layer);
  if (!l) return out;
  std::vector<std::string> blobs = l->inputs;
  while (!blobs.empty()) {
    const std::string b = blobs.back();
    blobs.pop_back();
    const Layer* p = int8.Producer(b);
    if (!p || !p->quantized || seen.count(p->name)) continue;
    seen.insert(p->name);
    out.push_back(p->name);
    if (!HasWeights(*p)) blobs.insert(blobs.end(), p->inputs.begin(), p->inputs.end());
  }
  return out;
}

Status DequantizeLayers(const Graph& fp32, const std::vector<std::string>& layers, Graph* int8) {
  for (const auto& name : layers) {
    Layer* l = int8->FindLayer(name);
    if (!l) return Status::NotFound("no layer named '" + name + "'");
    l->quantized = false;
    auto r = fp32.resources.find(name);
    if (r != fp32.resources.end()) int8->resources[name] = r->second;
  }
  return Status::Ok();
}

std::vector<std::string> ScoredBlobs(const Graph& g) {
  std::vector<std::string> blobs;
  auto add = [&](const std::string& b) {
    if (std::find(blobs.begin(), blobs.end(), b) == blobs.end()) blobs.push_back(b);
  };
  for (const auto& name : g.outputs) {
    if (IsDetectionRows(g, name)) {
      for (const auto& in : g.Producer(name)->inputs) add(in);
    } else {
      add(name);
    }
  }
  return blobs;
}

Status GraphOutputs(const Graph& g, const std::vector<SampleTensors>& inputs,
                    std::vector<std::map<std::string, Tensor>>* outputs, bool with_detections) {
  outputs->assign(inputs.size(), {});
  if (inputs.empty()) return Status::Ok();
  Net net;
  QT_RETURN_IF_ERROR(net.Init(g));
  std::vector<std::string> scored = ScoredBlobs(g);
  if (with_detections) {
    for (const auto& name : g.outputs) {
      if (IsDetectionRows(g, name)) scored.push_back(name);
    }
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    for (const auto& [name, t] : inputs[i]) QT_RETURN_IF_ERROR(net.SetInput(name, t));
    QT_RETURN_IF_ERROR(net.Forward());
    for (const auto& name : scored) QT_RETURN_IF_ERROR(net.GetBlob(name, &(*outputs)[i][name]));
  }
  return Status::Ok();
}

Status HeldOutMinCosine(const Graph& int8, const std::vector<SampleTensors>& inputs,
                        const std::vector<std::map<std::string, Tensor>>& reference, double* cosine) {
  double top1 = 0;
  return HeldOutScore(int8, inputs, reference, "", cosine, &top1);
}

Status HeldOutScore(const Graph& int8, const std::vector<SampleTensors>& inputs,
                    const std::vector<std::map<std::string, Tensor>>& reference, const std::string& scores,
                    double* cosine, double* top1_agreement, std::vector<DetectionAgreement>* detections) {
  int agree = 0;
  Net net;
  QT_RETURN_IF_ERROR(net.Init(int8));
  std::map<std::string, double> sums;
  std::map<std::string, DetectionAgreement> matched;
  std::set<std::string> rows;
  for (const auto& name : int8.outputs) {
    if (IsDetectionRows(int8, name)) rows.insert(name);
  }
  Tensor t;
  for (size_t i = 0; i < inputs.size(); ++i) {
    for (const auto& [name, value] : inputs[i]) QT_RETURN_IF_ERROR(net.SetInput(name, value));
    QT_RETURN_IF_ERROR(net.Forward());
    for (const auto& [name, value] : reference[i]) {
      QT_RETURN_IF_ERROR(net.GetBlob(name, &t));
      const std::vector<float>& ref = value.data;
      if (rows.count(name)) {
        DetectionAgreement& d = matched[name];
        d.blob = name;
        MatchDetections(ref, t.data, &d);
        continue;
      }
      sums[name] += Cosine(ref, t.data);
      if (name == scores && !ref.empty()) agree += TopK(ref, 1) == TopK(t.data, 1);
    }
  }
  *top1_agreement = static_cast<double>(agree) / std::max<size_t>(inputs.size(), 1);
  *cosine = 1;
  for (const auto& [name, s] : sums) *cosine = std::min(*cosine, s / std::max<size_t>(inputs.size(), 1));
  if (detections) {
    detections->clear();
    for (const auto& [name, d] : matched) detections->push_back(d);
  }
  return Status::Ok();
}

Status ApplyFloatBudget(const Graph& fp32, const std::vector<SampleTensors>& held_out, const FloatBudget& budget,
                        const ProgressFn& progress, Graph* int8, std::vector<FloatLayerStep>* steps) {
  if (held_out.empty()) return Status::InvalidArgument("the accuracy budget needs held-out calibration inputs");
  std::vector<std::map<std::string, Tensor>> reference;
  QT_RETURN_IF_ERROR(GraphOutputs(fp32, held_out, &reference));
  double current = 0;
  QT_RETURN_IF_ERROR(HeldOutMinCosine(*int8, held_out, reference, &current));
  struct Ranked {
    std::string layer;
    double gain;
  };
  std::vector<Ranked> ranked;
  std::vector<std::string> candidates;
  for (const auto& l : int8->layers) {
    if (l.quantized && HasWeights(l)) candidates.push_back(l.name);
  }
  for (size_t i = 0; i < candidates.size(); ++i) {
    Graph trial = *int8;
    QT_RETURN_IF_ERROR(DequantizeLayers(fp32, FloatClosure(*int8, candidates[i]), &trial));
    double c = 0;
    QT_RETURN_IF_ERROR(HeldOutMinCosine(trial, held_out, reference, &c));
    ranked.push_back({candidates[i], c - current});
    if (progress) progress("layer sensitivity", i + 1, candidates.size());
  }
  // Stable: equal gains keep layer order.
  std::stable_sort(ranked.begin(), ranked.end(), [](const Ranked& a, const Ranked& b) { return a.gain > b.gain; });
  int chosen = 0;
  for (const auto& r : ranked) {
    if (budget.max_layers >= 0 && chosen >= budget.max_layers) break;
    if (budget.min_cosine > 0 && current >= budget.min_cosine) break;
    const Layer* l = int8->FindLayer(r.layer);
    if (!l || !l->quantized) continue;  // already float through an earlier layer's closure
    FloatLayerStep step;
    step.layer = r.layer;
    step.sensitivity = r.gain;
    step.cosine_before = current;
    step.layers = FloatClosure(*int8, r.layer);
    // Gains measured one layer at a time do not add up: a layer that does not help on top of those already chosen
    // is passed over.
    Graph trial = *int8;
    QT_RETURN_IF_ERROR(DequantizeLayers(fp32, step.layers, &trial));
    QT_RETURN_IF_ERROR(HeldOutMinCosine(trial, held_out, reference, &step.cosine_after));
    if (step.cosine_after <= current) continue;
    *int8 = std::move(trial);
    current = step.cosine_after;
    steps->push_back(std::move(step));
    ++chosen;
  }
  return Status::Ok();
}

}  // namespace qt
