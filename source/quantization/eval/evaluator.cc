#include "quantization/eval/evaluator.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "core/graph/graph_simplify.h"
#include "core/io/tnn_io.h"
#include "core/layers/detection_output.h"
#include "core/runtime/net.h"

namespace qt {

Graph FusedReference(const Graph& fp32, const Graph* int8) {
  std::set<std::string> named;
  if (int8) {
    for (const auto& l : int8->layers) {
      named.insert(l.inputs.begin(), l.inputs.end());
      named.insert(l.outputs.begin(), l.outputs.end());
    }
    named.insert(int8->outputs.begin(), int8->outputs.end());
  }
  Graph fused = fp32;
  FuseConvActivation(&fused, named);
  return fused;
}

double Cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    ab += double{a[i]} * b[i];
    aa += double{a[i]} * a[i];
    bb += double{b[i]} * b[i];
  }
  if (aa == 0 && bb == 0) return 1.0;
  if (aa == 0 || bb == 0) return 0.0;
  return ab / std::sqrt(aa * bb);
}

std::vector<int> TopK(const std::vector<float>& scores, int k) {
  std::vector<int> idx(scores.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int>(i);
  k = std::min<int>(k, static_cast<int>(idx.size()));
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int a, int b) {
    return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
  });
  idx.resize(k);
  return idx;
}

Status ReadLabels(const std::string& path, std::map<std::string, int>* labels) {
  std::string text;
  QT_RETURN_IF_ERROR(ReadFileText(path, &text));
  std::istringstream in(text);
  std::string line;
  int line_no = 0;
  labels->clear();
  while (std::getline(in, line)) {
    ++line_no;
    std::istringstream fields(line);
    std::string file, extra;
    long label = 0;
    if (!(fields >> file) || file[0] == '#') continue;
    if (!(fields >> label) || (fields >> extra) || label < 0) {
      return Status::ParseError(path + ":" + std::to_string(line_no) +
                                ": expected '<file name> <class index>' with a class index >= 0");
    }
    (*labels)[std::filesystem::path(file).filename().string()] = static_cast<int>(label);
  }
  if (labels->empty()) return Status::ParseError(path + ": no labels in the file");
  return Status::Ok();
}

std::string ClassScoreOutput(const Graph& fp32, const BlobDims& dims) {
  std::vector<std::string> names = fp32.outputs;
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    const Dims& d = dims.at(name);
    const Layer* producer = fp32.Producer(name);
    if (!producer || d.size() < 2 || d[1] < 2 || DimsCount(d, 2) != 1) continue;
    if (producer->type == LayerType::kSoftmax || (producer->type == LayerType::kInnerProduct && d[1] >= 10)) {
      return name;
    }
  }
  return "";
}

Evaluator::Evaluator() = default;
Evaluator::~Evaluator() = default;

Status Evaluator::Init(const Graph& fp32, const Graph* int8, const Preprocess& pre) {
  pre_ = pre;
  fp32_ = std::make_unique<Net>();
  QT_RETURN_IF_ERROR(fp32_->Init(FusedReference(fp32, int8)).WithContext("fp32 model"));
  fp32_->set_recycle_blobs(true);  // its blobs are compared in the layer callback
  input_names_.clear();
  for (const auto& in : fp32_->inputs()) input_names_.push_back(in.name);
  std::sort(input_names_.begin(), input_names_.end());
  sum_ = EvalSummary();
  output_cosine_sum_ = 0;
  layers_.clear();
  layer_index_.clear();
  int8_.reset();
  int8_graph_ = int8;
  output_names_ = fp32.outputs;
  std::sort(output_names_.begin(), output_names_.end());
  // Class scores: an output of [N, C] or [N, C, 1, 1] values that a Softmax computes, or an InnerProduct with at
  // least 10 classes (logits); a 1x1-convolution head of that shape is a regression (landmarks, box offsets).
  score_output_ = ClassScoreOutput(fp32, fp32_->blob_dims());
  sum_.classifier = !score_output_.empty();
  // Labels say the model classifies: without a recognised score output its first output holds the scores.
  if (score_output_.empty()) score_output_ = output_names_[0];
  output_sums_.assign(output_names_.size(), OutputAgreement());
  output_norm_sums_.assign(output_names_.size(), 0.0);
  detections_.clear();
  for (size_t i = 0; i < output_names_.size(); ++i) {
    output_sums_[i].name = output_names_[i];
    const Layer* producer = fp32.Producer(output_names_[i]);
    if (producer && producer->type == LayerType::kDetectionOutput) {
      DetectionAgreement d;
      d.blob = output_names_[i];
      d.keep_top_k = producer->Params<DetectionOutputLayerParams>().keep_top_k;
      detections_.push_back(d);
    }
  }
  if (!int8) return Status::Ok();
  int8_ = std::make_unique<Net>();
  QT_RETURN_IF_ERROR(int8_->Init(*int8).WithContext("int8 model"));
  std::vector<std::string> int8_inputs;
  for (const auto& in : int8_->inputs()) int8_inputs.push_back(in.name);
  std::sort(int8_inputs.begin(), int8_inputs.end());
  if (int8_inputs != input_names_) return Status::InvalidArgument("the fp32 and int8 models have different inputs");
  for (const auto& name : int8->outputs) {
    if (!fp32_->blob_dims().count(name)) {
      return Status::InvalidArgument("int8 model output '" + name + "' is not a blob of the fp32 model");
    }
  }
  sum_.has_int8 = true;
  for (const auto& l : int8->layers) {
    if (!l.quantized) continue;
    const std::string& blob = l.outputs[0];
    // A blob TNN's runtime fuses away (a convolution's output before its fused Add) has no int8 value.
    auto d = fp32_->blob_dims().find(blob);
    auto q = int8_->blob_dims().find(blob);
    if (d == fp32_->blob_dims().end() || q == int8_->blob_dims().end() || d->second != q->second) continue;
    layer_index_[blob].push_back(layers_.size());
    layers_.push_back({l.name, blob});
  }
  return Status::Ok();
}

Status Evaluator::Add(const CalibrationSample& sample, int label) {
  std::map<std::string, Tensor> inputs;
  for (const auto& name : input_names_) {
    auto f = sample.find(name);
    if (f == sample.end()) return Status::InvalidArgument("no input file for model input '" + name + "'");
    QT_RETURN_IF_ERROR(LoadInput(f->second, fp32_->blob_dims().at(name), pre_, &inputs[name]));
  }
  return AddTensors(inputs, label, std::filesystem::path(sample.begin()->second).filename().string());
}

namespace {

// The model outputs by name, read once: their values (name order) concatenated, and the first sample's values of
// the class-score output.
Status Outputs(const Net& net, const std::string& score_output, std::map<std::string, Tensor>* tensors,
               std::vector<float>* all, std::vector<float>* scores) {
  std::vector<std::string> names = net.outputs();
  std::sort(names.begin(), names.end());
  all->clear();
  tensors->clear();
  for (const auto& name : names) {
    Tensor& t = (*tensors)[name];
    QT_RETURN_IF_ERROR(net.GetBlob(name, &t));
    if (name == score_output) {
      scores->assign(t.data.begin(), t.data.begin() + std::min<int64_t>(t.count(), DimsCount(t.dims, 1)));
    }
    all->insert(all->end(), t.data.begin(), t.data.end());
  }
  return Status::Ok();
}

// Adds `x` to a list kept sorted by `first` (which puts x before y) and at most kWorstInputs long.
template <typename T, typename First>
void KeepFirst(const T& x, First first, std::vector<T>* list) {
  list->insert(std::upper_bound(list->begin(), list->end(), x, first), x);
  if (list->size() > kWorstInputs) list->pop_back();
}

// The inputs of lowest cosine (ties: name order).
void KeepWorst(const InputCosine& c, std::vector<InputCosine>* worst) {
  KeepFirst(c, [](const InputCosine& a, const InputCosine& b) {
    return a.cosine < b.cosine || (a.cosine == b.cosine && a.input < b.input);
  }, worst);
}

// The inputs with the most unmatched detections (ties: name order); none that match all.
void KeepWorst(const InputDetections& d, std::vector<InputDetections>* worst) {
  if (d.unmatched() == 0) return;
  KeepFirst(d, [](const InputDetections& a, const InputDetections& b) {
    return a.unmatched() > b.unmatched() || (a.unmatched() == b.unmatched() && a.input < b.input);
  }, worst);
}

// The most detections (rows of a label >= 0) that one image of DetectionOutput rows has.
int64_t MostPerImage(const std::vector<float>& rows) {
  std::map<float, int64_t> per_image;
  int64_t most = 0;
  for (size_t i = 0; i + 7 <= rows.size(); i += 7) {
    if (rows[i + 1] >= 0) most = std::max(most, ++per_image[rows[i]]);
  }
  return most;
}

// cos(int8 value, fp32 value) and how many fp32 values fall outside the int8 range of `s` (x/s + zp beyond
// [−128.5, 127.5]), in one pass.
struct Agreement {
  double cosine = 0;
  int64_t clipped = 0;
};

Agreement Compare(const Tensor& q, const Tensor& f, const BlobScale& s) {
  // Sums in 8 independent double lanes (combined in a fixed order), so the loop vectorises.
  constexpr int kLanes = 8;
  const int channels = f.channels();
  const int64_t spatial = f.spatial();
  const int64_t n = std::min(q.count(), f.count());
  double ab[kLanes] = {}, aa[kLanes] = {}, bb[kLanes] = {};
  int64_t clipped = 0;
  for (int64_t start = 0; start < n; start += spatial) {
    const size_t c = s.scale.size() == 1 ? 0 : static_cast<size_t>((start / spatial) % channels);
    const float inv = s.scale[c] == 0.f ? 0.f : 1.f / s.scale[c];
    const float zp = s.zero_point.empty() ? 0.f : s.zero_point[c];
    const float* a = q.data.data() + start;
    const float* b = f.data.data() + start;
    const int64_t end = std::min(spatial, n - start);
    // Two loops, each of which the compiler vectorises whole; together they were one loop that it did not.
    int32_t clip = 0;
    for (int64_t i = 0; i < end; ++i) {
      const float v = b[i] * inv + zp;
      clip += (v > 127.5f) | (v < -128.5f);
    }
    int64_t i = 0;
#if defined(__AVX512F__)
    // The same lanes as the loop below (lane k sums elements i + k), loaded whole instead of one float at a time as
    // the compiler does it; a product of two floats is exact in double, so fused or not, the sums are the same.
    __m512d vab = _mm512_loadu_pd(ab), vaa = _mm512_loadu_pd(aa), vbb = _mm512_loadu_pd(bb);
    for (; i + kLanes <= end; i += kLanes) {
      const __m512d x = _mm512_cvtps_pd(_mm256_loadu_ps(a + i));
      const __m512d y = _mm512_cvtps_pd(_mm256_loadu_ps(b + i));
      vab = _mm512_fmadd_pd(x, y, vab);
      vaa = _mm512_fmadd_pd(x, x, vaa);
      vbb = _mm512_fmadd_pd(y, y, vbb);
    }
    _mm512_storeu_pd(ab, vab);
    _mm512_storeu_pd(aa, vaa);
    _mm512_storeu_pd(bb, vbb);
#endif
    for (; i + kLanes <= end; i += kLanes) {
      for (int k = 0; k < kLanes; ++k) {
        const double x = a[i + k], y = b[i + k];
        ab[k] += x * y;
        aa[k] += x * x;
        bb[k] += y * y;
      }
    }
    for (int k = 0; i < end; ++i, ++k) {
      const double x = a[i], y = b[i];
      ab[k] += x * y;
      aa[k] += x * x;
      bb[k] += y * y;
    }
    clipped += clip;
  }
  double sab = 0, saa = 0, sbb = 0;
  for (int k = 0; k < kLanes; ++k) {
    sab += ab[k];
    saa += aa[k];
    sbb += bb[k];
  }
  Agreement r;
  r.cosine = saa == 0 && sbb == 0 ? 1.0 : (saa == 0 || sbb == 0 ? 0.0 : sab / std::sqrt(saa * sbb));
  r.clipped = clipped;
  return r;
}

}  // namespace

Status Evaluator::AddTensors(const std::map<std::string, Tensor>& inputs, int label, const std::string& name) {
  const std::string input = name.empty() ? "#" + std::to_string(sum_.inputs) : name;
  // The int8 model runs first and keeps its blobs; the fp32 model then compares each of its layer outputs with the
  // int8 blob of the same name as it is produced, so it can recycle its own blob memory as it goes.
  if (int8_) {
    for (const auto& [name, t] : inputs) QT_RETURN_IF_ERROR(int8_->SetInput(name, t));
    QT_RETURN_IF_ERROR(int8_->Forward().WithContext("int8 model"));
  }
  for (const auto& [name, t] : inputs) QT_RETURN_IF_ERROR(fp32_->SetInput(name, t));
  QT_RETURN_IF_ERROR(fp32_->Forward([&](const Layer& layer, const std::vector<const Tensor*>& outs) {
    for (size_t k = 0; k < layer.outputs.size(); ++k) {
      auto it = layer_index_.find(layer.outputs[k]);
      if (it == layer_index_.end()) continue;
      const Tensor* q = nullptr;
      QT_RETURN_IF_ERROR(int8_->ViewBlob(it->first, &q, &q_scratch_));
      const Agreement a = Compare(*q, *outs[k], int8_graph_->blob_scales.at(it->first));
      for (size_t i : it->second) {
        layers_[i].cosine_sum += a.cosine;
        layers_[i].clipped += a.clipped;
        layers_[i].values += outs[k]->count();
      }
    }
    return Status::Ok();
  }).WithContext("fp32 model"));
  std::vector<float> fp32_all, fp32_scores;
  std::map<std::string, Tensor> fp32_outputs, int8_outputs;
  QT_RETURN_IF_ERROR(Outputs(*fp32_, score_output_, &fp32_outputs, &fp32_all, &fp32_scores));
  const std::vector<int> fp32_top = TopK(fp32_scores, 5);
  ++sum_.inputs;
  if (label >= 0) {
    ++sum_.labelled;
    sum_.fp32_top1 += !fp32_top.empty() && fp32_top[0] == label;
    sum_.fp32_top5 += std::count(fp32_top.begin(), fp32_top.end(), label) > 0;
  }
  if (!int8_) return Status::Ok();

  std::vector<float> int8_all, int8_scores;
  QT_RETURN_IF_ERROR(Outputs(*int8_, score_output_, &int8_outputs, &int8_all, &int8_scores));
  const std::vector<int> int8_top = TopK(int8_scores, 5);
  if (label >= 0) {
    sum_.int8_top1 += !int8_top.empty() && int8_top[0] == label;
    sum_.int8_top5 += std::count(int8_top.begin(), int8_top.end(), label) > 0;
  }
  sum_.top1_agreement += !fp32_top.empty() && !int8_top.empty() && fp32_top[0] == int8_top[0];
  output_cosine_sum_ += Cosine(int8_all, fp32_all);
  for (size_t i = 0; i < output_names_.size(); ++i) {
    const Tensor& f = fp32_outputs.at(output_names_[i]);
    auto it = int8_outputs.find(output_names_[i]);
    Tensor other;  // an fp32 output the int8 model computes but does not list as an output
    if (it == int8_outputs.end()) QT_RETURN_IF_ERROR(int8_->GetBlob(output_names_[i], &other));
    const Tensor& q = it == int8_outputs.end() ? other : it->second;
    double dd = 0, ff = 0, worst = 0;
    for (int64_t k = 0; k < f.count() && k < q.count(); ++k) {
      const double d = double{q.data[k]} - f.data[k];
      dd += d * d;
      ff += double{f.data[k]} * f.data[k];
      worst = std::max(worst, std::abs(d));
    }
    OutputAgreement& o = output_sums_[i];
    const double cosine = Cosine(q.data, f.data);
    o.cosine += cosine;
    o.rel_l2 += ff > 0 ? std::sqrt(dd / ff) : (dd > 0 ? 1.0 : 0.0);
    o.max_abs += worst;
    output_norm_sums_[i] += std::sqrt(ff);
    KeepWorst({input, cosine, std::sqrt(ff)}, &o.worst);
    for (auto& det : detections_) {
      if (det.blob != output_names_[i]) continue;
      DetectionAgreement one;
      MatchDetections(f.data, q.data, &one);
      det.fp32 += one.fp32;
      det.int8 += one.int8;
      det.matched += one.matched;
      const bool capped =
          det.keep_top_k > 0 && std::max(MostPerImage(f.data), MostPerImage(q.data)) >= det.keep_top_k;
      KeepWorst({input, one.fp32, one.int8, one.matched, capped}, &det.worst);
    }
  }
  return Status::Ok();
}

namespace {

struct Detection {
  float image, label, score, x1, y1, x2, y2;
};

std::vector<Detection> Rows(const std::vector<float>& v) {
  std::vector<Detection> rows;
  for (size_t i = 0; i + 7 <= v.size(); i += 7) {
    if (v[i + 1] < 0) continue;  // Caffe's "no detection" row
    rows.push_back({v[i], v[i + 1], v[i + 2], v[i + 3], v[i + 4], v[i + 5], v[i + 6]});
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Detection& a, const Detection& b) { return a.score > b.score; });
  return rows;
}

double IoU(const Detection& a, const Detection& b) {
  const double w = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  const double h = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const double inter = w * h;
  const double area_a = (double{a.x2} - a.x1) * (double{a.y2} - a.y1);
  const double area_b = (double{b.x2} - b.x1) * (double{b.y2} - b.y1);
  return inter / (area_a + area_b - inter);
}

}  // namespace

void MatchDetections(const std::vector<float>& fp32_rows, const std::vector<float>& int8_rows,
                     DetectionAgreement* agreement) {
  const std::vector<Detection> f = Rows(fp32_rows), q = Rows(int8_rows);
  std::vector<bool> used(f.size(), false);
  for (const Detection& d : q) {
    int best = -1;
    double best_iou = 0.5;
    for (size_t j = 0; j < f.size(); ++j) {
      if (used[j] || f[j].image != d.image || f[j].label != d.label) continue;
      const double iou = IoU(d, f[j]);
      if (iou >= best_iou) {
        best_iou = iou;
        best = static_cast<int>(j);
      }
    }
    if (best >= 0) {
      used[best] = true;
      ++agreement->matched;
    }
  }
  agreement->fp32 += static_cast<int64_t>(f.size());
  agreement->int8 += static_cast<int64_t>(q.size());
}

void Evaluator::Merge(const Evaluator& o) {
  sum_.inputs += o.sum_.inputs;
  sum_.labelled += o.sum_.labelled;
  sum_.fp32_top1 += o.sum_.fp32_top1;
  sum_.fp32_top5 += o.sum_.fp32_top5;
  sum_.int8_top1 += o.sum_.int8_top1;
  sum_.int8_top5 += o.sum_.int8_top5;
  sum_.top1_agreement += o.sum_.top1_agreement;
  output_cosine_sum_ += o.output_cosine_sum_;
  for (size_t i = 0; i < output_sums_.size() && i < o.output_sums_.size(); ++i) {
    output_sums_[i].cosine += o.output_sums_[i].cosine;
    output_sums_[i].rel_l2 += o.output_sums_[i].rel_l2;
    output_sums_[i].max_abs += o.output_sums_[i].max_abs;
    output_norm_sums_[i] += o.output_norm_sums_[i];
    for (const InputCosine& c : o.output_sums_[i].worst) KeepWorst(c, &output_sums_[i].worst);
  }
  for (size_t i = 0; i < detections_.size() && i < o.detections_.size(); ++i) {
    detections_[i].fp32 += o.detections_[i].fp32;
    detections_[i].int8 += o.detections_[i].int8;
    detections_[i].matched += o.detections_[i].matched;
    for (const InputDetections& d : o.detections_[i].worst) KeepWorst(d, &detections_[i].worst);
  }
  for (size_t i = 0; i < layers_.size() && i < o.layers_.size(); ++i) {
    layers_[i].cosine_sum += o.layers_[i].cosine_sum;
    layers_[i].clipped += o.layers_[i].clipped;
    layers_[i].values += o.layers_[i].values;
  }
}

double EvalSummary::MinOutputCosine() const {
  double m = 1.0;
  for (const auto& o : outputs) m = std::min(m, o.cosine);
  return m;
}

EvalSummary Evaluator::Summary() const {
  EvalSummary s = sum_;
  if (s.inputs > 0) s.output_cosine = output_cosine_sum_ / s.inputs;
  if (s.has_int8) {
    for (size_t i = 0; i < output_sums_.size(); ++i) {
      OutputAgreement o = output_sums_[i];
      if (s.inputs > 0) {
        o.cosine /= s.inputs;
        o.rel_l2 /= s.inputs;
        o.max_abs /= s.inputs;
      }
      const double mean_norm = s.inputs > 0 ? output_norm_sums_[i] / s.inputs : 0;
      for (InputCosine& c : o.worst) c.norm_ratio = mean_norm > 0 ? c.norm_ratio / mean_norm : 0;
      s.outputs.push_back(o);
    }
    s.detections = detections_;
  }
  for (const auto& l : layers_) {
    LayerAgreement a;
    a.layer = l.layer;
    a.blob = l.blob;
    a.cosine = s.inputs > 0 ? l.cosine_sum / s.inputs : 0;
    a.clipped = l.values > 0 ? static_cast<double>(l.clipped) / l.values : 0;
    s.layers.push_back(a);
  }
  std::stable_sort(s.layers.begin(), s.layers.end(),
                   [](const LayerAgreement& a, const LayerAgreement& b) { return a.cosine < b.cosine; });
  return s;
}

}  // namespace qt
