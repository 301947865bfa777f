// StridedSlice (TNN v1): a box of the input with positive strides. Caffe's Crop imports to it.
#include "core/layers/strided_slice.h"

#include "core/kernels/tensor_ops_fp32.h"
#include "core/layers/layer.h"

namespace qt {
namespace {

Status ReadList(ParamReader& r, const char* count_name, const char* name, std::vector<int>* v) {
  int n = 0;
  QT_RETURN_IF_ERROR(r.Count(count_name, &n, 0, 6));
  v->assign(n, 0);
  for (int i = 0; i < n; ++i) QT_RETURN_IF_ERROR(r.Int(name, &(*v)[i]));
  return Status::Ok();
}

Status Parse(ParamReader& r, LayerParams* params) {
  auto* p = &std::get<StridedSliceParams>(*params);
  QT_RETURN_IF_ERROR(ReadList(r, "begin_count", "begin", &p->begins));
  QT_RETURN_IF_ERROR(ReadList(r, "end_count", "end", &p->ends));
  return ReadList(r, "stride_count", "stride", &p->strides);
}
void WriteList(const std::vector<int>& v, ParamWriter& w) {
  w.Int(static_cast<int>(v.size()));
  for (int x : v) w.Int(x);
}
void Write(const LayerParams& params, ParamWriter& w) {
  const auto& p = std::get<StridedSliceParams>(params);
  WriteList(p.begins, w);
  WriteList(p.ends, w);
  WriteList(p.strides, w);
}

// TNN's normalisation of the lists for an input, then the checks TNN leaves out.
Status Normalize(const Layer& l, const Dims& x, std::vector<int>* begins, std::vector<int>* ends, Dims* out) {
  const auto& p = l.Params<StridedSliceParams>();
  const size_t rank = x.size();
  if (p.begins.size() != rank || p.ends.size() != rank || p.strides.size() != rank) {
    return Status::InvalidArgument(LayerWhere(l) + ": begins, ends and strides need " + std::to_string(rank) +
                                   " values each for the " + DimsToString(x) + " input");
  }
  begins->resize(rank);
  ends->resize(rank);
  out->resize(rank);
  for (size_t a = 0; a < rank; ++a) {
    int b = p.begins[a], e = p.ends[a];
    const int s = p.strides[a];
    if (b < 0) b += x[a];
    if (e == 0) e = x[a];
    if (e < 0) e += x[a];
    if (s < 1 || b < 0 || b >= e || e > x[a]) {
      return Status::InvalidArgument(LayerWhere(l) + ": axis " + std::to_string(a) + " begin " +
                                     std::to_string(p.begins[a]) + ", end " + std::to_string(p.ends[a]) +
                                     ", stride " + std::to_string(s) + " do not give 0 <= begin < end <= " +
                                     std::to_string(x[a]) + " with a stride >= 1");
    }
    (*begins)[a] = b;
    (*ends)[a] = e;
    (*out)[a] = (e - b - 1) / s + 1;
  }
  return Status::Ok();
}

Status Infer(const Graph&, const Layer& l, const std::vector<Dims>& in, std::vector<Dims>* out) {
  std::vector<int> begins, ends;
  Dims o;
  QT_RETURN_IF_ERROR(Normalize(l, in[0], &begins, &ends, &o));
  out->assign(1, o);
  return Status::Ok();
}

class StridedSliceExec : public LayerExec {
 public:
  Status Prepare(const LayerContext& ctx) override {
    strides_ = ctx.layer.Params<StridedSliceParams>().strides;
    return Normalize(ctx.layer, ctx.in_dims[0], &begins_, &ends_, &out_dims_);
  }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    StridedSliceFp32(in[0]->data.data(), in[0]->dims, begins_, ends_, strides_, out[0]->data.data(), out_dims_);
    return Status::Ok();
  }

 private:
  std::vector<int> begins_, ends_, strides_;
  Dims out_dims_;
};

std::unique_ptr<LayerExec> CreateFp32(const Layer&, const Fp32Options&) {
  return std::make_unique<StridedSliceExec>();
}

}  // namespace

const LayerKind& StridedSliceKind() {
  static const LayerKind kind{"StridedSlice", {"StridedSlice_nhwc"}, 57, false, DefaultOf<StridedSliceParams>, Parse,
                              Write, CheckOneInOneOut, Infer, CreateFp32, nullptr};
  return kind;
}

}  // namespace qt
