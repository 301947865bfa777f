// StridedSliceV2: ONNX Slice on a run-time tensor. Params and file order are TNN's (tnn_layers.md §2.8); the
// begins/ends are normalised with ONNX's rule (NormalizeOnnxSlice: negative values count from the back, then
// clamped), which is TNN's for every slice its own converter writes (sorted unique axes, in-range begins).
#include "core/layers/strided_slice_v2.h"

#include "core/kernels/tensor_ops_fp32.h"
#include "core/layers/layer.h"

namespace qt {
namespace {

constexpr int kMaxListSize = 8;

Status ParseList(ParamReader& r, const char* count_name, const char* name, std::vector<int>* v) {
  int n = 0;
  QT_RETURN_IF_ERROR(r.Count(count_name, &n, 0, kMaxListSize));
  v->assign(n, 0);
  for (int i = 0; i < n; ++i) QT_RETURN_IF_ERROR(r.Int(name, &(*v)[i]));
  return Status::Ok();
}
void WriteList(const std::vector<int>& v, ParamWriter& w) {
  w.Int(static_cast<int>(v.size()));
  for (int x : v) w.Int(x);
}

Status Parse(ParamReader& r, LayerParams* params) {
  auto* p = &std::get<StridedSliceV2Params>(*params);
  QT_RETURN_IF_ERROR(ParseList(r, "begins_count", "begin", &p->begins));
  QT_RETURN_IF_ERROR(ParseList(r, "ends_count", "end", &p->ends));
  QT_RETURN_IF_ERROR(ParseList(r, "axes_count", "axis", &p->axes));
  QT_RETURN_IF_ERROR(ParseList(r, "strides_count", "stride", &p->strides));
  const size_t n = p->begins.size();
  if (p->ends.size() != n || p->axes.size() != n || p->strides.size() != n) {
    return Status::ParseError("StridedSliceV2 has " + std::to_string(n) + " begins, " +
                              std::to_string(p->ends.size()) + " ends, " + std::to_string(p->axes.size()) +
                              " axes and " + std::to_string(p->strides.size()) + " strides; they must be equal");
  }
  return Status::Ok();
}
void Write(const LayerParams& params, ParamWriter& w) {
  const auto& p = std::get<StridedSliceV2Params>(params);
  WriteList(p.begins, w);
  WriteList(p.ends, w);
  WriteList(p.axes, w);
  WriteList(p.strides, w);
}

std::vector<int64_t> Wide(const std::vector<int>& v) { return std::vector<int64_t>(v.begin(), v.end()); }

Status Spec(const Layer& l, const Dims& in, StridedSliceSpec* spec) {
  const auto& p = l.Params<StridedSliceV2Params>();
  return NormalizeOnnxSlice(in, Wide(p.begins), Wide(p.ends), Wide(p.axes), Wide(p.strides), spec)
      .WithContext(LayerWhere(l));
}

Status Infer(const Graph&, const Layer& l, const std::vector<Dims>& in, std::vector<Dims>* out) {
  StridedSliceSpec spec;
  QT_RETURN_IF_ERROR(Spec(l, in[0], &spec));
  out->assign(1, spec.out_dims);
  return Status::Ok();
}

class SliceExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override { return Spec(ctx.layer, ctx.in_dims[0], &spec_); }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    StridedSliceFp32(in[0]->data.data(), in[0]->dims, spec_.begins, spec_.ends, spec_.steps, out[0]->data.data(),
                     spec_.out_dims);
    return Status::Ok();
  }

 private:
  StridedSliceSpec spec_;
};

std::unique_ptr<LayerExec> CreateFp32(const Layer&, const Fp32Options&) { return std::make_unique<SliceExec>(); }

}  // namespace

const LayerKind& StridedSliceV2Kind() {
  static const LayerKind kind{"StridedSliceV2", {}, 306, false, DefaultOf<StridedSliceV2Params>, Parse, Write,
                              CheckOneInOneOut, Infer, CreateFp32, nullptr};
  return kind;
}

}  // namespace qt
