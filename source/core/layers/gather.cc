// Gather with constant indices (tnn_layers.md §2.17). Indices read from a run-time blob are not supported: the
// engine's blobs are float.
#include "core/layers/gather.h"

#include "core/kernels/tensor_ops_fp32.h"
#include "core/layers/layer.h"

namespace qt {
namespace {

Status Parse(ParamReader& r, LayerParams* params) {
  auto* p = &std::get<GatherParams>(*params);
  QT_RETURN_IF_ERROR(r.IntOr("axis", &p->axis, 0));
  QT_RETURN_IF_ERROR(r.IntOr("data_in_resource", &p->data_in_resource, 0));
  return r.IntOr("indices_in_resource", &p->indices_in_resource, 1);
}
void Write(const LayerParams& params, ParamWriter& w) {
  const auto& p = std::get<GatherParams>(params);
  w.Int(p.axis);
  w.Int(p.data_in_resource);
  w.Int(p.indices_in_resource);
}

Status Check(const Graph& g, const Layer& l) {
  QT_RETURN_IF_ERROR(RequireInputs(l, 1, 1));
  QT_RETURN_IF_ERROR(RequireOutputs(l, 1));
  const auto& p = l.Params<GatherParams>();
  if (!p.indices_in_resource) {
    return Status::Unsupported(LayerWhere(l) + ": indices from an input blob are not supported (only constant "
                                               "indices in the resource)");
  }
  const auto* r = FindResource<GatherResource>(g, l);
  if (!r || !r->has_indices) return MissingResource(l, "gather indices");
  if (p.data_in_resource && !r->has_data) return MissingResource(l, "gather data");
  if (r->indices.dtype() != DataType::kInt32) {
    return Status::InvalidArgument(LayerWhere(l) + ": the gather indices are " + DataTypeName(r->indices.dtype()) +
                                   ", expected int32");
  }
  return Status::Ok();
}

Dims DimsOfRaw(const RawBuffer& b) {
  if (b.dims().empty()) return b.count() == 1 ? Dims{} : Dims{static_cast<int>(b.count())};
  return Dims(b.dims().begin(), b.dims().end());
}

struct Operands {
  Dims data_dims, indices_dims;
  int axis = 0;
};

Status Resolve(const Graph& g, const Layer& l, const Dims& in, Operands* o) {
  QT_RETURN_IF_ERROR(Check(g, l));
  const auto& p = l.Params<GatherParams>();
  const auto* r = FindResource<GatherResource>(g, l);
  o->data_dims = p.data_in_resource ? DimsOfRaw(r->data) : in;
  o->indices_dims = DimsOfRaw(r->indices);
  const int rank = static_cast<int>(o->data_dims.size());
  o->axis = p.axis < 0 ? p.axis + rank : p.axis;
  if (o->axis < 0 || o->axis >= rank) {
    return Status::InvalidArgument(LayerWhere(l) + ": axis " + std::to_string(p.axis) + " is out of range for " +
                                   DimsToString(o->data_dims));
  }
  return Status::Ok();
}

Status Infer(const Graph& g, const Layer& l, const std::vector<Dims>& in, std::vector<Dims>* out) {
  Operands o;
  QT_RETURN_IF_ERROR(Resolve(g, l, in[0], &o));
  out->assign(1, GatherOutputDims(o.data_dims, o.axis, o.indices_dims));
  return Status::Ok();
}

class GatherExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    QT_RETURN_IF_ERROR(Resolve(ctx.graph, ctx.layer, ctx.in_dims[0], &ops_));
    const auto* r = FindResource<GatherResource>(ctx);
    const auto idx = r->indices.As<int32_t>();
    indices_.assign(idx.begin(), idx.end());
    if (ctx.layer.Params<GatherParams>().data_in_resource) data_ = r->data.ToFloat();
    out_dims_ = ctx.out_dims[0];
    return Status::Ok();
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    const float* data = data_.empty() ? in[0]->data.data() : data_.data();
    return GatherFp32(data, ops_.data_dims, ops_.axis, indices_.data(), ops_.indices_dims, out[0]->data.data(),
                      out_dims_);
  }

 private:
  Operands ops_;
  std::vector<int64_t> indices_;
  std::vector<float> data_;
  Dims out_dims_;
};

std::unique_ptr<LayerExec> CreateFp32(const Layer&, const Fp32Options&) { return std::make_unique<GatherExec>(); }

}  // namespace

const LayerKind& GatherKind() {
  static const LayerKind kind{"Gather", {}, 104, false, DefaultOf<GatherParams>, Parse, Write, Check, Infer,
                              CreateFp32, nullptr};
  return kind;
}

}  // namespace qt
