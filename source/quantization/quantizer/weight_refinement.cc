#include "quantization/quantizer/weight_refinement.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "core/base/parallel.h"
#include "core/int8/kernels_int8.h"
#include "core/layers/convolution.h"
#include "core/layers/inner_product.h"
#include "core/runtime/net.h"
#include "quantization/quantizer/lane_sums.h"

namespace qt {
namespace {

// One graph run on every refinement input in lockstep, a layer at a time: a network per thread, its layers
// prepared once, and each input's blob values swapped into a free network for each step (Net::SwapValues). The
// networks are prepared from the same graph, so an input's values depend neither on the network that runs it nor
// on the thread count; the weights are held once per thread instead of once per input.
class Lockstep {
 public:
  using Fn = std::function<Status(Net& net, size_t input)>;

  Status Init(const Graph& g, const std::vector<SampleTensors>& inputs) {
    values_.clear();
    values_.resize(inputs.size());
    nets_.resize(std::max<size_t>(1, std::min<size_t>(inputs.size(), GetNumThreads())));
    for (auto& net : nets_) net = std::make_unique<Net>();
    QT_RETURN_IF_ERROR(EachNet([&](Net& net) { return net.Init(g); }));
    for (auto& net : nets_) free_.push_back(net.get());
    return ForEach([&](Net& net, size_t k) {
      for (const auto& [name, t] : inputs[k]) QT_RETURN_IF_ERROR(net.SetInput(name, t));
      return Status::Ok();
    });
  }
  size_t size() const { return values_.size(); }
  const Net& net() const { return *nets_[0]; }

  // fn on every input, the inputs spread over the threads (each network's kernels then run serially): on the
  // refinement's few small inputs this keeps the cores busier than splitting each layer's kernels.
  Status ForEach(const Fn& fn) {
    std::vector<Status> status(values_.size());
    ParallelFor(static_cast<int64_t>(values_.size()), [&](int64_t b, int64_t e) {
      Net* net = Take();
      for (int64_t k = b; k < e; ++k) {
        status[k] = net ? Run(net, static_cast<size_t>(k), fn)
                        : Status::Internal("more refinement chunks at once than networks (threads changed?)");
      }
      if (net) Give(net);
    });
    for (const Status& st : status) QT_RETURN_IF_ERROR(st);
    return Status::Ok();
  }
  // fn on one input after the other, in input order: for sums taken over the inputs.
  Status ForEachInOrder(const Fn& fn) {
    for (size_t k = 0; k < values_.size(); ++k) QT_RETURN_IF_ERROR(Run(nets_[0].get(), k, fn));
    return Status::Ok();
  }
  Status SetLayerResource(const std::string& layer, const LayerResource& resource) {
    return EachNet([&](Net& net) { return net.SetLayerResource(layer, resource); });
  }

 private:
  // fn on every network, the networks in parallel.
  Status EachNet(const std::function<Status(Net&)>& fn) {
    std::vector<Status> status(nets_.size());
    ParallelFor(static_cast<int64_t>(nets_.size()), [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) status[t] = fn(*nets_[t]);
    });
    for (const Status& st : status) QT_RETURN_IF_ERROR(st);
    return Status::Ok();
  }
  Status Run(Net* net, size_t k, const Fn& fn) {
    net->SwapValues(&values_[k]);
    Status st = fn(*net, k);
    net->SwapValues(&values_[k]);
    return st;
  }
  // At most as many chunks run at once as there are threads, each with a network of its own.
  Net* Take() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (free_.empty()) return nullptr;
    Net* net = free_.back();
    free_.pop_back();
    return net;
  }
  void Give(Net* net) {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(net);
  }
  std::vector<std::unique_ptr<Net>> nets_;
  std::vector<NetValues> values_;
  std::mutex mutex_;
  std::vector<Net*> free_;
};

// The fp32 model's value of each int8 Conv/InnerProduct output on the refinement inputs, made as the refinement
// reaches the layer: the fp32 graph runs the inputs in lockstep up to the layer that writes it, holding its live
// blobs and the wanted values not yet used, not every wanted value of every input at once (hundreds of MB on a
// large input).
class Fp32Reference {
 public:
  Status Init(const Graph& fp32, const std::set<std::string>& wanted, const std::vector<SampleTensors>& inputs) {
    QT_RETURN_IF_ERROR(nets_.Init(fp32, inputs));
    const Graph& g = nets_.net().graph();
    for (size_t i = 0; i < g.layers.size(); ++i) {
      for (const auto& o : g.layers[i].outputs) {
        if (wanted.count(o)) writer_[o] = i;
      }
    }
    values_.assign(inputs.size(), {});
    return Status::Ok();
  }
  bool Has(const std::string& blob) const { return writer_.count(blob) > 0; }
  // Runs the fp32 graph on to the layer that writes `blob`, keeping the wanted values it passes.
  Status Reach(const std::string& blob) {
    const size_t begin = next_, end = writer_.at(blob) + 1;
    if (end <= begin) return Status::Ok();
    QT_RETURN_IF_ERROR(nets_.ForEach([&](Net& net, size_t k) {
      auto keep = [&](const Layer& layer, const std::vector<const Tensor*>& outs) -> Status {
        for (size_t o = 0; o < outs.size(); ++o) {
          if (writer_.count(layer.outputs[o])) values_[k][layer.outputs[o]] = *outs[o];
        }
        return Status::Ok();
      };
      QT_RETURN_IF_ERROR(net.ForwardLayers(begin, end, keep));
      net.ReleaseBlobsBefore(end);
      return Status::Ok();
    }));
    next_ = end;
    return Status::Ok();
  }
  const Tensor& At(size_t input, const std::string& blob) const { return values_[input].at(blob); }
  void Drop(const std::string& blob) {
    for (auto& v : values_) v.erase(blob);
  }

 private:
  Lockstep nets_;
  std::map<std::string, size_t> writer_;
  std::vector<std::map<std::string, Tensor>> values_;
  size_t next_ = 0;
};

// Gives every network the layer's new weights and runs that layer (`index` in the fused graph) again.
Status SwapLayerResource(Lockstep& nets, const std::string& layer, const LayerResource& resource, size_t index) {
  QT_RETURN_IF_ERROR(nets.SetLayerResource(layer, resource));
  return nets.ForEach([&](Net& net, size_t) { return net.ForwardLayers(index, index + 1); });
}

bool IsWeighted(const Layer& l) {
  return l.quantized && (l.type == LayerType::kConvolution || l.type == LayerType::kInnerProduct);
}

float ScaleOf(const std::vector<float>& s, int c) { return s.size() == 1 ? s[0] : s[c]; }

// Second moments of a convolution's int8 input patches (im2col rows, zero padding), one k×k matrix per group,
// over a strided subset of output positions of every network's current input value: about 8 rows per unknown,
// between 1024 and 8192 rows in all. *rows gets the number of rows taken per group.
Status InputMoments(Lockstep& nets, const Layer& l, const std::vector<float>& in_scale,
                    std::vector<Eigen::MatrixXd>* moments, int64_t* rows) {
  const auto& p = l.Params<ConvParams>();
  const Dims& d = nets.net().blob_dims().at(l.inputs[0]);
  if (d.size() != 4) return Status::Internal("convolution input '" + l.inputs[0] + "' is not NCHW");
  const int batch = d[0], channels = d[1], in_h = d[2], in_w = d[3];
  WindowGeometry geo;
  QT_RETURN_IF_ERROR(ConvGeometry(p, in_h, in_w, &geo));
  const int icg = channels / p.group, kk = p.kernel_h * p.kernel_w, k = icg * kk;
  const int64_t positions = int64_t{geo.out_h} * geo.out_w;
  const int64_t cap = std::clamp<int64_t>(int64_t{8} * k, 1024, 8192);
  const int64_t per_image = std::max<int64_t>(1, cap / static_cast<int64_t>(nets.size() * batch));
  const int64_t step = std::max<int64_t>(1, positions / per_image);
  const int64_t m = (positions + step - 1) / step;
  moments->assign(p.group, Eigen::MatrixXd::Zero(k, k));
  *rows = 0;
  Tensor scratch;
  Eigen::MatrixXd x(m, k);
  // Each row's window corner; the matrix is filled a column (one tap of one channel) at a time, down its
  // contiguous storage, reading one input plane.
  std::vector<int> top(m), left(m);
  for (int64_t row = 0; row < m; ++row) {
    const int64_t pos = row * step;
    top[row] = static_cast<int>(pos / geo.out_w) * p.stride_h - geo.pad_top;
    left[row] = static_cast<int>(pos % geo.out_w) * p.stride_w - geo.pad_left;
  }
  QT_RETURN_IF_ERROR(nets.ForEachInOrder([&](Net& net, size_t) {
    const Tensor* value = nullptr;
    QT_RETURN_IF_ERROR(net.ViewBlob(l.inputs[0], &value, &scratch));
    for (int b = 0; b < batch; ++b) {
      for (int g = 0; g < p.group; ++g) {
        for (int ci = 0; ci < icg; ++ci) {
          const int c = g * icg + ci;
          const float s = ScaleOf(in_scale, c);
          const float* plane = value->data.data() + (int64_t{b} * channels + c) * in_h * in_w;
          for (int ky = 0; ky < p.kernel_h; ++ky) {
            for (int kx = 0; kx < p.kernel_w; ++kx) {
              double* column = x.col(ci * kk + ky * p.kernel_w + kx).data();
              for (int64_t row = 0; row < m; ++row) {
                const int y = top[row] + ky * p.dilation_h, xx = left[row] + kx * p.dilation_w;
                const bool inside = s != 0.f && y >= 0 && y < in_h && xx >= 0 && xx < in_w;
                column[row] = inside ? Float2Int8(plane[y * in_w + xx] / s) : 0;
              }
            }
          }
        }
        (*moments)[g].selfadjointView<Eigen::Lower>().rankUpdate(x.transpose());
      }
      *rows += m;
    }
    return Status::Ok();
  }));
  for (auto& h : *moments) h = h.selfadjointView<Eigen::Lower>();
  return Status::Ok();
}

// Rounds a convolution's int8 weights adaptively (see RefineOptions) on the int8 inputs the networks hold.
Status RoundConvAdaptively(const Graph& fp32, Lockstep& nets, const Layer& l, Graph* int8, LayerRefinement* rep) {
  auto& res = std::get<ConvResource>(int8->resources.at(l.name));
  const auto zero = res.zero_point.As<int8_t>();
  if (std::any_of(zero.begin(), zero.end(), [](int8_t z) { return z != 0; })) return Status::Ok();
  const auto& p = l.Params<ConvParams>();
  const Dims& d = nets.net().blob_dims().at(l.inputs[0]);
  const int icg = d[1] / p.group, kk = p.kernel_h * p.kernel_w, k = icg * kk;
  if (k > 4096) return Status::Ok();
  const std::vector<float> in_scale = int8->blob_scales.at(l.inputs[0]).scale;
  std::vector<Eigen::MatrixXd> moments;
  int64_t rows = 0;
  QT_RETURN_IF_ERROR(InputMoments(nets, l, in_scale, &moments, &rows));
  // With fewer patches than unknowns the moments are singular: the data would not pin the rounding down.
  if (rows < 2 * k) return Status::Ok();
  const std::vector<float> w = std::get<ConvResource>(fp32.resources.at(l.name)).filter.ToFloat();
  const std::vector<float> ws = res.scale.ToFloat();
  std::vector<int8_t> q = res.filter.As<int8_t>();
  const int oc = p.output_channel, ocg = oc / p.group;
  // Output channels round independently; their objectives are summed in channel order afterwards, so the report
  // does not depend on the thread count.
  std::vector<double> before_of(oc, 0.0), after_of(oc, 0.0);
  std::vector<int64_t> flips_of(oc, 0);
  ParallelFor(oc, [&](int64_t o0, int64_t o1) {
    std::vector<double> r(k);
    std::vector<int> qi;
    for (int64_t o = o0; o < o1; ++o) {
      const float step = ScaleOf(ws, static_cast<int>(o));
      if (step == 0.f) continue;
      const int g = static_cast<int>(o / ocg);
      for (int i = 0; i < k; ++i) {
        r[i] = static_cast<double>(w[o * k + i]) * ScaleOf(in_scale, g * icg + i / kk) / step;
      }
      // The moments are symmetric: Eigen's column-major storage reads as the row-major matrix AdaptiveRound takes.
      flips_of[o] = AdaptiveRound(r, moments[g].data(), &qi, &before_of[o], &after_of[o]);
      for (int i = 0; i < k; ++i) q[o * k + i] = static_cast<int8_t>(qi[i]);
    }
  });
  double before = 0, after = 0;
  for (int o = 0; o < oc; ++o) {
    before += before_of[o];
    after += after_of[o];
    rep->rounding_flips += flips_of[o];
  }
  rep->rounding_objective = before > 0 ? after / before : 1;
  res.filter = RawBuffer::FromInt8(q);
  return nets.SetLayerResource(l.name, res);
}

// Folds the per-channel mean of (fp32 − int8) of the layer's output into its int32 bias, for the channels where
// that mean stands out of its noise (more than two standard errors). Only values where the layer is linear count:
// not saturated, and above zero on both sides after a fused ReLU (below 6 too for ReLU6).
Status CorrectBias(Lockstep& nets, const Fp32Reference& refs, const Layer& l, Graph* int8, size_t index,
                   LayerRefinement* rep) {
  int activation = kActivationNone;
  if (l.type == LayerType::kConvolution) {
    const auto& p = l.Params<ConvParams>();
    if (p.fusion == 2 && p.activation != kActivationNone) return Status::Ok();
    activation = p.activation;
  }
  LayerResource& any = int8->resources.at(l.name);
  RawBuffer* bias = nullptr;
  std::vector<float> ws;
  if (auto* c = std::get_if<ConvResource>(&any)) {
    if (!c->has_bias) return Status::Ok();
    bias = &c->bias;
    ws = c->scale.ToFloat();
  } else {
    auto& ip = std::get<InnerProductResource>(any);
    if (ip.bias.count() == 0) return Status::Ok();
    bias = &ip.bias;
    ws = ip.scale.ToFloat();
  }
  if (bias->dtype() != DataType::kInt32) return Status::Internal("layer '" + l.name + "' has no int32 bias");
  const std::string& out = l.outputs[0];
  const std::vector<float>& s_out = int8->blob_scales.at(out).scale;
  const Dims& d = nets.net().blob_dims().at(out);
  const int batch = d[0], channels = d.size() > 1 ? d[1] : 1;
  const int64_t spatial = DimsCount(d) / batch / channels;
  // A mean over a handful of values per channel (an inner product sees one per input) is mostly noise.
  if (spatial * batch * static_cast<int64_t>(nets.size()) < 256) return Status::Ok();
  std::vector<double> n(channels, 0), sum(channels, 0), sumsq(channels, 0);
  const bool no_activation = activation == kActivationNone, relu6 = activation == kActivationRelu6;
  double signal = 0;
  int64_t values = 0;
  Tensor scratch;
  QT_RETURN_IF_ERROR(nets.ForEachInOrder([&](Net& net, size_t k) {
    const Tensor* y = nullptr;
    QT_RETURN_IF_ERROR(net.ViewBlob(out, &y, &scratch));
    const Tensor& ref = refs.At(k, out);
    if (ref.data.size() != y->data.size()) return Status::Internal("blob '" + out + "' differs in size from fp32");
    for (int b = 0; b < batch; ++b) {
      for (int c = 0; c < channels; ++c) {
        const float limit = 127 * ScaleOf(s_out, c) * 0.999f;
        const int64_t base = (int64_t{b} * channels + c) * spatial;
        // The channel's sums in locals, added to in the same order: kept in the vectors, each addition waited for
        // the store of the one before (the compiler cannot tell the vectors from the tensors they are read from).
        double nc = n[c], sc = sum[c], qc = sumsq[c];
        for (int64_t i = 0; i < spatial; ++i) {
          const float f = ref.data[base + i], q = y->data[base + i];
          signal += static_cast<double>(f) * f;
          // Without branches (the signs of f and q are data, and mispredicted ones cost more than the sums): a
          // value left out adds (signed) zeros, which leave every sum as it was, since none of them is −0.
          const bool linear = (std::fabs(q) < limit) & (no_activation | ((f > 0) & (q > 0))) &
                              (!relu6 || ((f < 6) & (q < 6)));
          const double use = linear;
          const double e = (static_cast<double>(f) - q) * use;
          nc += use;
          sc += e;
          qc = std::fma(e, e, qc);
        }
        n[c] = nc;
        sum[c] = sc;
        sumsq[c] = qc;
        values += spatial;
      }
    }
    return Status::Ok();
  }));
  std::vector<int32_t> bq = bias->As<int32_t>();
  if (static_cast<int>(bq.size()) != channels) return Status::Ok();
  double removed = 0;
  for (int c = 0; c < channels; ++c) {
    if (n[c] < 2) continue;
    const double mean = sum[c] / n[c];
    const double var = std::max(0.0, sumsq[c] / n[c] - mean * mean);
    const float step = ScaleOf(ws, c);
    if (step == 0.f || std::fabs(mean) <= 2 * std::sqrt(var / n[c])) continue;
    const double delta = std::round(mean / step);
    if (delta == 0) continue;
    const double moved = std::clamp(static_cast<double>(bq[c]) + delta,
                                    static_cast<double>(std::numeric_limits<int32_t>::min()),
                                    static_cast<double>(std::numeric_limits<int32_t>::max()));
    bq[c] = static_cast<int32_t>(moved);
    ++rep->biases_corrected;
    removed += mean * mean;
  }
  if (rep->biases_corrected == 0) return Status::Ok();
  rep->mean_error_removed = signal > 0 ? std::sqrt(removed / channels) / std::sqrt(signal / values) : 0;
  *bias = RawBuffer::FromInt32(bq);
  return SwapLayerResource(nets, l.name, any, index);
}

// Σ (fp32 − int8)² of a blob over the networks' current values.
Status OutputError(Lockstep& nets, const Fp32Reference& refs, const std::string& blob, double* error) {
  *error = 0;
  Tensor scratch;
  return nets.ForEachInOrder([&](Net& net, size_t k) {
    const Tensor* y = nullptr;
    QT_RETURN_IF_ERROR(net.ViewBlob(blob, &y, &scratch));
    const Tensor& ref = refs.At(k, blob);
    if (ref.data.size() != y->data.size()) return Status::Internal("blob '" + blob + "' differs in size from fp32");
    *error += SquaredDistance(ref.data.data(), y->data.data(), ref.data.size());
    return Status::Ok();
  });
}

}  // namespace

int64_t AdaptiveRound(const std::vector<double>& r, const std::vector<double>& h, std::vector<int>* q) {
  double before = 0, after = 0;
  return AdaptiveRound(r, h.data(), q, &before, &after);
}

int64_t AdaptiveRound(const std::vector<double>& r, const double* h, std::vector<int>* q, double* nearest_objective,
                      double* objective) {
  const size_t k = r.size();
  q->resize(k);
  std::vector<double> g(k, 0.0);
  for (size_t i = 0; i < k; ++i) (*q)[i] = static_cast<int>(std::clamp(std::round(r[i]), -127.0, 127.0));
  std::vector<double> d(k);
  for (size_t j = 0; j < k; ++j) d[j] = (*q)[j] - r[j];
  for (size_t i = 0; i < k; ++i) g[i] = Dot(h + i * k, d.data(), k);
  *nearest_objective = 0;
  for (size_t i = 0; i < k; ++i) *nearest_objective += d[i] * g[i];
  for (int sweep = 0; sweep < 16; ++sweep) {
    bool changed = false;
    for (size_t i = 0; i < k; ++i) {
      const int delta = (*q)[i] >= r[i] ? -1 : 1;
      const int moved = (*q)[i] + delta;
      if (moved < -127 || moved > 127 || std::fabs(moved - r[i]) >= 1) continue;
      const double hii = h[i * k + i];
      // The objective changes by 2δ(Hd)_i + H_ii; a relative margin keeps rounding noise from flipping back and forth.
      if (2 * delta * g[i] + hii >= -1e-9 * hii) continue;
      (*q)[i] = moved;
      // H is symmetric: row i is column i, read contiguously.
      const double* row = h + i * k;
      for (size_t j = 0; j < k; ++j) g[j] += delta * row[j];
      changed = true;
    }
    if (!changed) break;
  }
  int64_t flips = 0;
  *objective = 0;
  for (size_t i = 0; i < k; ++i) {
    flips += (*q)[i] != static_cast<int>(std::clamp(std::round(r[i]), -127.0, 127.0));
    *objective += ((*q)[i] - r[i]) * g[i];
  }
  return flips;
}

Status RefineWeights(const Graph& fp32, const std::vector<SampleTensors>& inputs, const RefineOptions& options,
                     const ProgressFn& progress, Graph* int8, std::vector<LayerRefinement>* report) {
  report->clear();
  if (!options.adaptive_rounding && !options.bias_correction) return Status::Ok();
  if (inputs.empty()) return Status::Ok();
  Lockstep nets;
  QT_RETURN_IF_ERROR(nets.Init(*int8, inputs));
  // The weighted layers as the int8 network runs them, after its load-time fusions.
  const Graph& fused = nets.net().graph();
  std::set<std::string> wanted;
  for (const auto& l : fused.layers) {
    if (IsWeighted(l)) wanted.insert(l.outputs[0]);
  }
  Fp32Reference refs;
  QT_RETURN_IF_ERROR(refs.Init(fp32, wanted, inputs));
  auto run = [&](size_t i) -> Status {
    return nets.ForEach([&](Net& net, size_t) { return net.ForwardLayers(i, i + 1); });
  };
  // Each change is kept only if it lowers the squared error of the layer's output against fp32 on these inputs:
  // the rounding objective leaves out the activation and saturation, and a bias shift can help the values the
  // consumers see less than its mean suggests (after a ReLU6, before a global pooling).
  auto keep_if_better = [&](size_t i, const Layer& l, const LayerResource& before, double* error,
                            bool* kept) -> Status {
    double now = 0;
    QT_RETURN_IF_ERROR(OutputError(nets, refs, l.outputs[0], &now));
    *kept = now < *error;
    if (*kept) {
      *error = now;
      return Status::Ok();
    }
    int8->resources.at(l.name) = before;
    return SwapLayerResource(nets, l.name, before, i);
  };
  for (size_t i = 0; i < fused.layers.size(); ++i) {
    const Layer& l = fused.layers[i];
    // Only layer i may run again (after a change is undone), so what no layer from i on reads can go.
    QT_RETURN_IF_ERROR(nets.ForEach([&](Net& net, size_t) {
      net.ReleaseBlobsBefore(i);
      return net.ForwardLayers(i, i + 1);
    }));
    if (!IsWeighted(l) || !refs.Has(l.outputs[0])) continue;
    QT_RETURN_IF_ERROR(refs.Reach(l.outputs[0]));
    LayerRefinement rep;
    rep.layer = l.name;
    double error = 0;
    QT_RETURN_IF_ERROR(OutputError(nets, refs, l.outputs[0], &error));
    if (options.adaptive_rounding && l.type == LayerType::kConvolution) {
      const LayerResource before = int8->resources.at(l.name);
      QT_RETURN_IF_ERROR(RoundConvAdaptively(fp32, nets, l, int8, &rep).WithContext("layer '" + l.name + "'"));
      if (rep.rounding_flips > 0) {
        bool kept = false;
        QT_RETURN_IF_ERROR(run(i));
        QT_RETURN_IF_ERROR(keep_if_better(i, l, before, &error, &kept));
        if (!kept) {
          rep.rounding_flips = 0;
          rep.rounding_objective = 1;
        }
      }
    }
    if (options.bias_correction) {
      const LayerResource before = int8->resources.at(l.name);
      QT_RETURN_IF_ERROR(CorrectBias(nets, refs, l, int8, i, &rep).WithContext("layer '" + l.name + "'"));
      if (rep.biases_corrected > 0) {
        bool kept = false;
        QT_RETURN_IF_ERROR(keep_if_better(i, l, before, &error, &kept));
        if (!kept) {
          rep.biases_corrected = 0;
          rep.mean_error_removed = 0;
        }
      }
    }
    refs.Drop(l.outputs[0]);
    report->push_back(rep);
    if (progress) progress("refinement", i + 1, fused.layers.size());
  }
  return Status::Ok();
}

}  // namespace qt
