#include "core/runtime/net.h"

#include <algorithm>

#include "core/int8/kernels_int8.h"
#include "core/layers/axis_layers.h"
#include "core/layers/layer.h"
#include "core/layers/pad.h"
#include "core/layers/pooling.h"
#include "core/layers/prelu.h"
#include "core/runtime/reformat.h"
#include "core/runtime/tnn_fusions.h"

namespace qt {

namespace {

// Gives *data n elements: a buffer of exactly that size from the pool when *data has none (it was recycled), so a
// pass takes and returns the same buffers as the previous one and nothing is allocated or cleared after the first.
// The pool only fills when recycling is on; empty, this is a plain resize.
template <typename T>
void Provide(std::vector<std::vector<T>>* pool, int64_t n, std::vector<T>* data) {
  if (data->empty()) {
    for (auto it = pool->begin(); it != pool->end(); ++it) {
      if (static_cast<int64_t>(it->size()) == n) {
        *data = std::move(*it);
        pool->erase(it);
        break;
      }
    }
  }
  data->resize(n);
}

}  // namespace

// A blob holds a float value, an int8 value or both; a consumer of the other kind gets a conversion made on
// first use (TNN's runtime inserts Reformat layers at the same places).
struct Net::Blob {
  Dims dims;
  Tensor f;
  Int8Tensor q;
  bool has_float = false;
  bool has_int8 = false;
  const BlobScale* scale = nullptr;
  std::string name;

  Status NeedFloat(std::vector<std::vector<float>>* pool) {
    if (has_float) return Status::Ok();
    if (!has_int8) return Status::Internal("blob '" + name + "' is read before it is written");
    Provide(pool, q.count(), &f.data);
    DequantizeTensor(q, &f);
    has_float = true;
    return Status::Ok();
  }
  // Readies q for a writer of the blob's int8 value, in its own scales (the caller checked it has them).
  void ProvideInt8(std::vector<std::vector<int8_t>>* pool) {
    q.dims = dims;
    Provide(pool, DimsCount(dims), &q.data);
    q.scales = scale->scale;
    q.zero_points = scale->zero_point;
  }
  Status NeedInt8(std::vector<std::vector<int8_t>>* pool) {
    if (has_int8) return Status::Ok();
    if (!has_float) return Status::Internal("blob '" + name + "' is read before it is written");
    if (!scale) return Status::InvalidArgument("blob '" + name + "' feeds a quantized layer but has no scale");
    Provide(pool, f.count(), &q.data);
    QuantizeTensor(f, *scale, &q);
    has_int8 = true;
    return Status::Ok();
  }
};

struct NetValues::Value {
  Tensor f;
  Int8Tensor q;
  bool has_float = false;
  bool has_int8 = false;
};

NetValues::NetValues() = default;
NetValues::~NetValues() = default;
NetValues::NetValues(NetValues&&) noexcept = default;
NetValues& NetValues::operator=(NetValues&&) noexcept = default;

Net::Net() = default;
Net::~Net() = default;

void Net::SwapValues(NetValues* values) {
  values->values_.resize(blobs_.size());
  auto v = values->values_.begin();
  for (auto& [name, b] : blobs_) {
    std::swap(b->f, v->f);
    std::swap(b->q, v->q);
    std::swap(b->has_float, v->has_float);
    std::swap(b->has_int8, v->has_int8);
    ++v;
  }
}

Net::Blob* Net::FindBlob(const std::string& name) {
  auto it = blobs_.find(name);
  return it == blobs_.end() ? nullptr : it->second.get();
}
const Net::Blob* Net::FindBlob(const std::string& name) const {
  auto it = blobs_.find(name);
  return it == blobs_.end() ? nullptr : it->second.get();
}

Status Net::Init(const Graph& graph, const BlobDims& input_dims, bool tnn_naive) {
  return Init(Graph(graph), input_dims, tnn_naive);
}

Status Net::Init(Graph&& graph, const BlobDims& input_dims, bool tnn_naive) {
  graph_ = std::move(graph);
  QT_RETURN_IF_ERROR(graph_.Validate());
  FuseQuantizedLikeTnn(&graph_);
  QT_RETURN_IF_ERROR(InferShapes(graph_, input_dims, &blob_dims_));
  inputs_ = graph_.inputs;
  for (auto& in : inputs_) in.dims = blob_dims_.at(in.name);
  blobs_.clear();
  for (const auto& [name, dims] : blob_dims_) {
    auto b = std::make_unique<Blob>();
    b->name = name;
    b->dims = dims;
    auto it = graph_.blob_scales.find(name);
    if (it != graph_.blob_scales.end()) {
      const int64_t n = static_cast<int64_t>(it->second.scale.size());
      const int channels = dims.size() > 1 ? dims[1] : 1;
      if (n != 1 && n != channels) {
        return Status::InvalidArgument("blob '" + name + "' has " + std::to_string(n) + " scales but " +
                                       std::to_string(channels) + " channels");
      }
      b->scale = &it->second;
    }
    blobs_[name] = std::move(b);
  }
  tnn_naive_ = tnn_naive;
  execs_.clear();
  execs_.resize(graph_.layers.size());
  for (size_t i = 0; i < graph_.layers.size(); ++i) QT_RETURN_IF_ERROR(PrepareLayer(i));
  std::map<std::string, size_t> last_use;
  for (size_t i = 0; i < graph_.layers.size(); ++i) {
    for (const auto& n : graph_.layers[i].outputs) last_use.emplace(n, i);
    for (const auto& n : graph_.layers[i].inputs) last_use[n] = i;
  }
  input_last_read_.clear();
  for (const auto& in : graph_.inputs) {
    const bool output = std::find(graph_.outputs.begin(), graph_.outputs.end(), in.name) != graph_.outputs.end();
    const auto it = last_use.find(in.name);
    if (!output) input_last_read_.emplace_back(FindBlob(in.name), it == last_use.end() ? 0 : it->second);
  }
  for (const auto& in : graph_.inputs) last_use.erase(in.name);
  for (const auto& out : graph_.outputs) last_use.erase(out);
  std::map<std::string, int> readers;
  for (const auto& l : graph_.layers) {
    for (const auto& n : l.inputs) ++readers[n];
  }
  for (const auto& out : graph_.outputs) ++readers[out];
  feeds_next_only_.assign(graph_.layers.size(), false);
  for (size_t i = 0; i + 1 < graph_.layers.size(); ++i) {
    const Layer &l = graph_.layers[i], &next = graph_.layers[i + 1];
    feeds_next_only_[i] = l.outputs.size() == 1 && next.inputs.size() == 1 && next.inputs[0] == l.outputs[0] &&
                          readers[l.outputs[0]] == 1;
  }
  pool_after_.clear();
  for (size_t i = 0; i + 1 < graph_.layers.size(); ++i) {
    const Layer& next = graph_.layers[i + 1];
    if (!feeds_next_only_[i] || next.type != LayerType::kPooling || next.quantized) continue;
    const PoolParams& pp = next.Params<PoolParams>();
    Pool2dParams q;
    if (pp.is_adaptive || !MakePool2dParams(pp, blob_dims_.at(next.inputs[0]), true, &q).ok()) continue;
    pool_after_[i] = q;
  }
  release_after_.assign(graph_.layers.size(), {});
  for (const auto& [name, i] : last_use) release_after_[i].push_back(FindBlob(name));
  free_float_.clear();
  free_int8_.clear();
  PlanConcatsInPlace(readers);
  PlanInt8Pads(readers);
  PlanPadAdds(readers);
  PlanPaddedConvs(readers);
  return Status::Ok();
}

void Net::PlanPaddedConvs(const std::map<std::string, int>& readers) {
  padded_conv_.clear();
  std::map<std::string, size_t> reader;
  for (size_t j = 0; j < graph_.layers.size(); ++j) {
    for (const auto& n : graph_.layers[j].inputs) reader[n] = j;
  }
  for (size_t i = 0; i < graph_.layers.size(); ++i) {
    const Layer& pad = graph_.layers[i];
    if (pad.type != LayerType::kPad || pad.quantized || pad_skipped_[i] || int8_pad_[i] || int8_pool_.count(i)) {
      continue;
    }
    const std::string& y = pad.outputs[0];
    const auto last_reader = reader.find(y);
    // One layer reads it, and it is no model output (which counts as a reader too).
    if (last_reader == reader.end() || readers.at(y) != 1) continue;
    const PadParams4d pp = ToPadParams4d(pad.Params<PadParams>());
    if (pp.mode != PadMode::kConstant || pp.value != 0.f || pp.pad_c_begin || pp.pad_c_end || pp.pad_top < 0 ||
        pp.pad_left < 0 || pp.pad_bottom < 0 || pp.pad_right < 0) {
      continue;
    }
    const size_t j = last_reader->second;
    const Layer& conv = graph_.layers[j];
    const ConvFp32* c = execs_[j]->fp32_conv();
    if (conv.type != LayerType::kConvolution || conv.quantized || !c || c->algo() != ConvAlgo::kDirect ||
        conv.inputs.size() != 1) {
      continue;
    }
    const auto res = graph_.resources.find(conv.name);
    const ConvResource* r = res == graph_.resources.end() ? nullptr : std::get_if<ConvResource>(&res->second);
    if (!r) continue;
    Blob* x = FindBlob(pad.inputs[0]);
    Conv2dParams q = c->params();
    q.in_h = x->dims[2];
    q.in_w = x->dims[3];
    q.pad_top += pp.pad_top;
    q.pad_left += pp.pad_left;
    const std::vector<float> weights = r->filter.ToFloat();
    const std::vector<float> bias = r->has_bias ? r->bias.ToFloat() : std::vector<float>();
    auto folded = std::make_unique<ConvFp32>();
    folded->Init(q, weights.data(), bias.empty() ? nullptr : bias.data(), c->isa(), ConvAlgo::kDirect);
    KeepUntil(x, j);
    pad_skipped_[i] = true;
    padded_conv_[j] = {x, std::move(folded)};
  }
}

void Net::KeepUntil(Blob* b, size_t j) {
  for (size_t k = 0; k < j; ++k) {
    auto& list = release_after_[k];
    auto it = std::find(list.begin(), list.end(), b);
    if (it == list.end()) continue;
    list.erase(it);
    release_after_[j].push_back(b);
  }
}

std::map<std::string, size_t> Net::Writers() const {
  std::map<std::string, size_t> writer;
  for (size_t i = 0; i < graph_.layers.size(); ++i) {
    for (const auto& n : graph_.layers[i].outputs) writer[n] = i;
  }
  return writer;
}

void Net::PlanPadAdds(const std::map<std::string, int>& readers) {
  pad_add_.clear();
  pad_skipped_.assign(graph_.layers.size(), false);
  const std::map<std::string, size_t> writer = Writers();
  for (size_t j = 0; j < graph_.layers.size(); ++j) {
    const Layer& add = graph_.layers[j];
    if (add.type != LayerType::kAdd || add.quantized || add.inputs.size() != 2 || add.outputs.size() != 1) continue;
    const Dims& od = blob_dims_.at(add.outputs[0]);
    if (od.size() != 4 || blob_dims_.at(add.inputs[0]) != od || blob_dims_.at(add.inputs[1]) != od) continue;
    for (int k = 0; k < 2; ++k) {
      const std::string& y = add.inputs[k];
      auto w = writer.find(y);
      if (w == writer.end() || readers.at(y) != 1) continue;  // a model output counts as a reader
      const size_t i = w->second;
      const Layer& pad = graph_.layers[i];
      if (pad.type != LayerType::kPad || pad.quantized || int8_pad_[i] || int8_pool_.count(i)) continue;
      const PadParams4d pp = ToPadParams4d(pad.Params<PadParams>());
      if (pp.mode != PadMode::kConstant || pp.pad_top || pp.pad_bottom || pp.pad_left || pp.pad_right) continue;
      const Dims& xd = blob_dims_.at(pad.inputs[0]);
      if (xd.size() != 4 || xd[0] != od[0] || xd[2] != od[2] || xd[3] != od[3]) continue;
      PadAdd plan;
      plan.x = FindBlob(pad.inputs[0]);
      plan.z = FindBlob(add.inputs[1 - k]);
      plan.params = pp;
      plan.pad_first = k == 0;
      plan.relu = j + 1 < graph_.layers.size() && feeds_next_only_[j] &&
                  graph_.layers[j + 1].type == LayerType::kRelu && !graph_.layers[j + 1].quantized;
      KeepUntil(plan.x, j);
      pad_skipped_[i] = true;
      pad_add_[j] = plan;
      break;
    }
  }
}

void Net::PlanInt8Pads(const std::map<std::string, int>& readers) {
  int8_pad_.clear();
  int8_pad_.resize(graph_.layers.size());
  int8_pad_keeps_float_.assign(graph_.layers.size(), false);
  int8_pool_.clear();
  std::map<std::string, size_t> writer;
  std::map<std::string, int> int8_readers;
  for (size_t i = 0; i < graph_.layers.size(); ++i) {
    const Layer& l = graph_.layers[i];
    for (const auto& n : l.outputs) writer[n] = i;
    if (l.quantized) {
      for (const auto& n : l.inputs) ++int8_readers[n];
    }
  }
  // Scales as the reformats read them: one, or one per channel with as many zero points or none.
  auto usable = [](const Blob* b) {
    return b->scale && b->dims.size() == 4 &&
           (b->scale->zero_point.empty() || b->scale->zero_point.size() == b->scale->scale.size());
  };
  for (size_t i = 0; i < graph_.layers.size(); ++i) {
    const Layer& l = graph_.layers[i];
    if ((l.type != LayerType::kPad && l.type != LayerType::kPRelu) || l.quantized || l.inputs.size() != 1 ||
        l.outputs.size() != 1) {
      continue;
    }
    const Blob* in = FindBlob(l.inputs[0]);
    const Blob* out = FindBlob(l.outputs[0]);
    const auto w = writer.find(in->name);
    if (w == writer.end() || !graph_.layers[w->second].quantized || !usable(in)) continue;
    PadParams4d pad_params;
    std::vector<float> slopes;
    if (l.type == LayerType::kPad) {
      pad_params = ToPadParams4d(l.Params<PadParams>());
    } else {
      const auto res = graph_.resources.find(l.name);
      const PReluResource* r = res == graph_.resources.end() ? nullptr : std::get_if<PReluResource>(&res->second);
      if (!r) continue;
      slopes = r->slope.ToFloat();
      if (l.Params<PReluParams>().channel_shared != 0 && !slopes.empty()) slopes.resize(1);
      if (slopes.size() != 1 && static_cast<int>(slopes.size()) != in->dims[1]) continue;
    }
    const Blob* pooled = i + 1 < graph_.layers.size() && feeds_next_only_[i] ? FindBlob(graph_.layers[i + 1].outputs[0])
                                                                            : nullptr;
    if (pooled && usable(pooled)) {
      const Layer& next = graph_.layers[i + 1];
      const auto pr = readers.find(pooled->name);
      const auto pq = int8_readers.find(pooled->name);
      const std::vector<float>& scales = pooled->scale->scale;
      const bool rising = std::all_of(scales.begin(), scales.end(), [](float v) { return v > 0.f; });
      Pool2dParams pp;
      if (next.type == LayerType::kPooling && !next.quantized && next.outputs.size() == 1 &&
          pooled->dims[1] == out->dims[1] && pr != readers.end() && pq != int8_readers.end() &&
          pq->second == pr->second && rising && !next.Params<PoolParams>().is_adaptive &&
          MakePool2dParams(next.Params<PoolParams>(), out->dims, true, &pp).ok() && pp.type == PoolType::kMax) {
        auto map = std::make_unique<PadInt8>();
        map->Init(in->dims, pad_params, in->scale->scale, in->scale->zero_point, pooled->scale->scale,
                  pooled->scale->zero_point, slopes);
        int8_pool_[i] = {std::move(map), pp};
        continue;
      }
    }
    const auto r = readers.find(out->name);
    const auto q = int8_readers.find(out->name);
    // `readers` counts a model output once more, so a model output never has as many int8 readers as readers.
    if (!usable(out) || r == readers.end() || q == int8_readers.end()) continue;
    int8_pad_keeps_float_[i] = q->second != r->second;
    auto pad = std::make_unique<PadInt8>();
    pad->Init(in->dims, pad_params, in->scale->scale, in->scale->zero_point, out->scale->scale,
              out->scale->zero_point, slopes);
    int8_pad_[i] = std::move(pad);
  }
}

void Net::PlanConcatsInPlace(const std::map<std::string, int>& readers) {
  concat_slot_.clear();
  concat_in_place_.assign(graph_.layers.size(), false);
  const std::map<std::string, size_t> writer = Writers();
  for (size_t c = 0; c < graph_.layers.size(); ++c) {
    const Layer& l = graph_.layers[c];
    if (l.type != LayerType::kConcat || l.quantized || l.outputs.size() != 1) continue;
    Blob* out = FindBlob(l.outputs[0]);
    if (out->dims.size() < 2 || out->dims[0] != 1 || NormalizeAxis(l.Params<AxisParams>().axis, out->dims.size()) != 1) {
      continue;
    }
    std::vector<std::pair<const Blob*, int64_t>> slots;
    int64_t offset = 0;
    bool ok = true;
    for (const auto& n : l.inputs) {
      auto w = writer.find(n);
      // A blob read twice (also by this Concat) or written by anything but a lone float convolution keeps its own
      // buffer; so does one already placed in another Concat.
      ok = ok && w != writer.end() && w->second < c && readers.at(n) == 1 && !graph_.FindInput(n) &&
           graph_.layers[w->second].outputs.size() == 1 && !graph_.layers[w->second].quantized &&
           execs_[w->second]->fp32_conv() != nullptr && !concat_slot_.count(FindBlob(n));
      if (!ok) break;
      const Blob* b = FindBlob(n);
      slots.emplace_back(b, offset);
      offset += DimsCount(b->dims);
    }
    if (!ok || offset != DimsCount(out->dims)) continue;
    for (const auto& [b, off] : slots) concat_slot_[b] = {out, off};
    concat_in_place_[c] = true;
  }
}

float* Net::FloatOutput(Blob* b) {
  auto it = concat_slot_.find(b);
  if (it == concat_slot_.end()) {
    b->f.dims = b->dims;
    Provide(&free_float_, DimsCount(b->dims), &b->f.data);
    return b->f.data.data();
  }
  Blob* target = it->second.first;
  // The first slice written brings the Concat's buffer; the Concat then only marks it written.
  if (target->f.data.empty()) {
    target->f.dims = target->dims;
    Provide(&free_float_, DimsCount(target->dims), &target->f.data);
  }
  return target->f.data.data() + it->second.second;
}

Status Net::PrepareLayer(size_t i) {
  const Layer& layer = graph_.layers[i];
  std::unique_ptr<LayerExec> exec;
  if (layer.quantized) {
    QT_RETURN_IF_ERROR(CreateInt8LayerExec(layer, &exec));
  } else {
    exec = CreateFp32LayerExec(layer, tnn_naive_);
  }
  LayerContext ctx{graph_, layer, {}, {}};
  for (const auto& n : layer.inputs) ctx.in_dims.push_back(blob_dims_.at(n));
  for (const auto& n : layer.outputs) ctx.out_dims.push_back(blob_dims_.at(n));
  QT_RETURN_IF_ERROR(exec->Prepare(ctx).WithContext("layer '" + layer.name + "' (" + layer.type_str + ")"));
  execs_[i] = std::move(exec);
  return Status::Ok();
}

Status Net::SetLayerResource(const std::string& layer, LayerResource resource) {
  for (size_t i = 0; i < graph_.layers.size(); ++i) {
    if (graph_.layers[i].name != layer) continue;
    auto it = graph_.resources.find(layer);
    if (it == graph_.resources.end() || it->second.index() != resource.index()) {
      return Status::InvalidArgument("layer '" + layer + "' has no resource of that kind to replace");
    }
    it->second = std::move(resource);
    return PrepareLayer(i);
  }
  return Status::NotFound("the network has no layer named '" + layer + "'");
}

void Net::ReleaseBlobsBefore(size_t begin) {
  auto release = [](Blob* b) {
    std::vector<float>().swap(b->f.data);
    std::vector<int8_t>().swap(b->q.data);
    b->has_float = b->has_int8 = false;
  };
  for (size_t i = 0; i < std::min(begin, release_after_.size()); ++i) {
    for (Blob* b : release_after_[i]) release(b);
  }
  for (const auto& [b, last] : input_last_read_) {
    if (last < begin) release(b);
  }
}

void Net::Release(Blob* b) {
  // A moved-from vector is empty, which is what Provide looks for.
  if (!b->f.data.empty()) free_float_.push_back(std::move(b->f.data));
  if (!b->q.data.empty()) free_int8_.push_back(std::move(b->q.data));
  b->has_float = b->has_int8 = false;
}

Status Net::SetInput(const std::string& name, const Tensor& input) {
  Blob* b = FindBlob(name);
  if (!b || !graph_.FindInput(name)) return Status::NotFound("the model has no input named '" + name + "'");
  if (input.dims != b->dims) {
    return Status::InvalidArgument("input '" + name + "' expects dims " + DimsToString(b->dims) + ", got " +
                                   DimsToString(input.dims));
  }
  b->f = input;
  b->has_float = true;
  b->has_int8 = false;
  return Status::Ok();
}

Status Net::Forward(const LayerCallback& callback) {
  for (const auto& in : inputs_) {
    const Blob* b = FindBlob(in.name);
    if (!b->has_float && !b->has_int8) return Status::InvalidArgument("input '" + in.name + "' was not set");
  }
  for (auto& [name, b] : blobs_) {
    if (!graph_.FindInput(name)) b->has_float = b->has_int8 = false;
  }
  return ForwardLayers(0, graph_.layers.size(), callback);
}

Status Net::ForwardLayers(size_t begin, size_t end, const LayerCallback& callback) {
  if (end > graph_.layers.size() || begin > end) return Status::InvalidArgument("layer range out of the network");
  if (recycle_ && (begin != 0 || end != graph_.layers.size())) {
    return Status::InvalidArgument("running part of the network needs blob recycling off");
  }
  for (size_t i = begin; i < end; ++i) {
    if (recycle_ && !callback && pad_skipped_[i]) {
      for (Blob* b : release_after_[i]) Release(b);
      continue;
    }
    if (recycle_ && !callback) {
      if (const size_t ran = RunFused(i, end)) {
        for (size_t j = i; j < i + ran; ++j) {
          for (Blob* b : release_after_[j]) Release(b);
        }
        i += ran - 1;
        continue;
      }
    }
    const Layer& layer = graph_.layers[i];
    LayerExec* exec = execs_[i].get();
    std::vector<Blob*> ins, outs;
    for (const auto& n : layer.inputs) ins.push_back(FindBlob(n));
    for (const auto& n : layer.outputs) outs.push_back(FindBlob(n));
    // The bytes of a Pad or PReLU between int8 layers, from its input's.
    auto map_bytes = [&]() -> Status {
      QT_RETURN_IF_ERROR(ins[0]->NeedInt8(&free_int8_));
      Blob* out = outs[0];
      out->ProvideInt8(&free_int8_);
      int8_pad_[i]->Run(ins[0]->q.data.data(), out->q.data.data());
      out->has_int8 = true;
      return Status::Ok();
    };
    const bool byte_map = recycle_ && !callback && int8_pad_[i];
    if (byte_map && !int8_pad_keeps_float_[i]) {
      QT_RETURN_IF_ERROR(map_bytes());
      outs[0]->has_float = false;
      for (Blob* b : release_after_[i]) Release(b);
      continue;
    }
    if (recycle_ && !callback && (concat_in_place_[i] || (outs.size() == 1 && concat_slot_.count(outs[0])))) {
      if (!concat_in_place_[i]) {
        QT_RETURN_IF_ERROR(ins[0]->NeedFloat(&free_float_));
        exec->fp32_conv()->Run(ins[0]->f.data.data(), FloatOutput(outs[0]));
      }
      // The Concat's output is complete once its last slice is written; the slices' own blobs hold nothing.
      outs[0]->has_float = concat_in_place_[i];
      outs[0]->has_int8 = false;
      for (Blob* b : release_after_[i]) Release(b);
      continue;
    }
    if (exec->is_int8()) {
      std::vector<const Int8Tensor*> qin;
      std::vector<Int8Tensor*> qout;
      for (Blob* b : ins) {
        QT_RETURN_IF_ERROR(b->NeedInt8(&free_int8_));
        qin.push_back(&b->q);
      }
      for (Blob* b : outs) {
        if (!b->scale) return Status::InvalidArgument("quantized layer '" + layer.name + "' output '" + b->name +
                                                      "' has no scale");
        b->ProvideInt8(&free_int8_);
        qout.push_back(&b->q);
      }
      QT_RETURN_IF_ERROR(exec->ForwardInt8(qin, qout).WithContext("layer '" + layer.name + "'"));
      for (Blob* b : outs) {
        b->has_int8 = true;
        b->has_float = false;
      }
    } else {
      std::vector<const Tensor*> fin;
      std::vector<Tensor*> fout;
      for (Blob* b : ins) {
        QT_RETURN_IF_ERROR(b->NeedFloat(&free_float_));
        fin.push_back(&b->f);
      }
      for (Blob* b : outs) {
        b->f.dims = b->dims;
        Provide(&free_float_, DimsCount(b->dims), &b->f.data);
        fout.push_back(&b->f);
      }
      QT_RETURN_IF_ERROR(exec->Forward(fin, fout).WithContext("layer '" + layer.name + "'"));
      for (Blob* b : outs) {
        b->has_float = true;
        b->has_int8 = false;
      }
      if (byte_map) QT_RETURN_IF_ERROR(map_bytes());
    }
    if (callback) {
      std::vector<const Tensor*> views;
      for (Blob* b : outs) {
        QT_RETURN_IF_ERROR(b->NeedFloat(&free_float_));
        views.push_back(&b->f);
      }
      QT_RETURN_IF_ERROR(callback(layer, views));
    }
    if (recycle_) {
      for (Blob* b : release_after_[i]) Release(b);
    }
  }
  return Status::Ok();
}

size_t Net::RunFused(size_t i, size_t end) {
  const auto pc = padded_conv_.find(i);
  if (pc != padded_conv_.end()) {
    Blob* x = pc->second.first;
    Blob* out = FindBlob(graph_.layers[i].outputs[0]);
    if (!x->NeedFloat(&free_float_).ok()) return 0;
    pc->second.second->Run(x->f.data.data(), FloatOutput(out));
    out->has_float = !concat_slot_.count(out);
    out->has_int8 = false;
    return 1;
  }
  const auto pa = pad_add_.find(i);
  if (pa != pad_add_.end()) {
    const PadAdd& f = pa->second;
    const size_t ran = f.relu ? 2 : 1;
    Blob* out = FindBlob(graph_.layers[i + ran - 1].outputs[0]);
    if (!f.x->NeedFloat(&free_float_).ok() || !f.z->NeedFloat(&free_float_).ok()) return 0;
    AddChannelPaddedFp32(f.z->f.data.data(), f.x->f.data.data(), f.x->dims, f.params, f.pad_first, f.relu,
                         FloatOutput(out));
    out->has_float = !concat_slot_.count(out);
    out->has_int8 = false;
    return ran;
  }
  if (i + 1 >= end || !feeds_next_only_[i]) return 0;
  const auto int8_pool = int8_pool_.find(i);
  if (int8_pool != int8_pool_.end()) {
    Blob* in = FindBlob(graph_.layers[i].inputs[0]);
    Blob* mid = FindBlob(graph_.layers[i].outputs[0]);
    Blob* out = FindBlob(graph_.layers[i + 1].outputs[0]);
    if (!in->NeedInt8(&free_int8_).ok()) return 0;
    // mid's bytes are in the pooling's output scale, not its own; the pooling is its only reader.
    Provide(&free_int8_, DimsCount(mid->dims), &mid->q.data);
    int8_pool->second.first->Run(in->q.data.data(), mid->q.data.data());
    mid->has_float = mid->has_int8 = false;
    out->ProvideInt8(&free_int8_);
    MaxPool2dInt8(int8_pool->second.second, mid->q.data.data(), out->q.data.data());
    out->has_int8 = true;
    out->has_float = false;
    return 2;
  }
  const ConvFp32* a = execs_[i]->fp32_conv();
  const auto pool = pool_after_.find(i);
  if (a && pool != pool_after_.end()) {
    const Pool2dParams& q = pool->second;
    const bool max = a->FusesWithMaxPool(q), average = !max && a->FusesWithGlobalAverage(q);
    if (max || average) {
      Blob* in = FindBlob(graph_.layers[i].inputs[0]);
      Blob* out = FindBlob(graph_.layers[i + 1].outputs[0]);
      if (!in->NeedFloat(&free_float_).ok()) return 0;
      if (max) {
        a->RunWithMaxPool(q, in->f.data.data(), FloatOutput(out));
      } else {
        a->RunWithGlobalAverage(q, in->f.data.data(), FloatOutput(out));
      }
      out->has_float = !concat_slot_.count(out);
      out->has_int8 = false;
      return 2;
    }
  }
  const ConvFp32* b = execs_[i + 1]->fp32_conv();
  if (!a || !b || !a->FusesWithDepthwise(*b)) return 0;
  const ConvFp32* c = i + 2 < end && feeds_next_only_[i + 1] ? execs_[i + 2]->fp32_conv() : nullptr;
  if (c && !ConvFp32::FusesAfterDepthwise(*b, *c)) c = nullptr;
  const size_t ran = c ? 3 : 2;
  Blob* in = FindBlob(graph_.layers[i].inputs[0]);
  Blob* out = FindBlob(graph_.layers[i + ran - 1].outputs[0]);
  if (!in->NeedFloat(&free_float_).ok()) return 0;
  a->RunWithDepthwise(*b, in->f.data.data(), FloatOutput(out), c);
  out->has_float = !concat_slot_.count(out);
  out->has_int8 = false;
  return ran;
}

Status Net::GetBlob(const std::string& name, Tensor* out) const {
  const Tensor* value = nullptr;
  QT_RETURN_IF_ERROR(ViewBlob(name, &value, out));
  if (value != out) *out = *value;
  return Status::Ok();
}

Status Net::ViewBlob(const std::string& name, const Tensor** value, Tensor* scratch) const {
  const Blob* b = FindBlob(name);
  if (!b) return Status::NotFound("no blob named '" + name + "'");
  if (b->has_float) {
    *value = &b->f;
  } else if (b->has_int8) {
    DequantizeTensor(b->q, scratch);
    *value = scratch;
  } else {
    return Status::InvalidArgument("blob '" + name + "' has no value (run Forward first)");
  }
  return Status::Ok();
}

}  // namespace qt
