// The ONNX backend tests of Debian's libonnx-testdata (/usr/share/libonnx-testdata/data/{node,pytorch-converted,
// pytorch-operator,simple}/*), a test suite nobody here wrote, run through the importer and the fp32 engine.
//
// Each case is a model.onnx with test_data_set_*/input_*.pb and output_*.pb (TensorProto files). The driver
// - fixes every run-time input's shape to its test data's shape (shapes are static once input dims are known);
// - turns the graph inputs the importer needs as constants (weights, shapes, pads, scales: see
//   OnnxInputMustBeConstant) into initializers holding the test data;
// - imports, runs and compares every output: |ours − expected| <= 1e-4 · max(1, |expected|), same dims, NaN only
//   where NaN is expected.
// A case is SKIPPED, with its reason printed, when its inputs or outputs are not float tensors, or when the
// importer refuses it as Unsupported (unsupported op, 1-D/3-D convolution, a resize rule TNN cannot express ...).
// Any other import error, any engine error and any numeric mismatch is a FAILURE. Every case is printed, then
// the skip reasons grouped, then the totals.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include "core/io/onnx_importer.h"
#include "core/io/onnx_internal.h"
#include "core/runtime/net.h"

namespace qt {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDataDir = "/usr/share/libonnx-testdata/data";
// The backend test suites with data: single-op node tests, the PyTorch module and operator exports, and the
// small hand-made models. ("real" holds only download links.)
const char* const kSuites[] = {"node", "pytorch-converted", "pytorch-operator", "simple"};
constexpr double kRelTol = 1e-4;

enum class Outcome { kPass, kPassFolded, kFail, kSkip };

struct CaseResult {
  std::string name;
  Outcome outcome = Outcome::kPass;
  std::string detail;
};

bool ReadMessage(const fs::path& path, google::protobuf::MessageLite* m) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return m->ParseFromString(bytes);
}

// Float values of a float TensorProto (raw_data or float_data).
bool TensorValues(const onnx::TensorProto& t, std::vector<float>* v) {
  if (t.data_type() != onnx::TensorProto::FLOAT) return false;
  int64_t n = 1;
  for (int64_t d : t.dims()) n *= d;
  if (t.has_raw_data()) {
    if (t.raw_data().size() != static_cast<size_t>(n) * 4) return false;
    v->resize(n);
    std::memcpy(v->data(), t.raw_data().data(), t.raw_data().size());
    return true;
  }
  if (t.float_data_size() != n) return false;
  v->assign(t.float_data().begin(), t.float_data().end());
  return true;
}

std::string DimsOf(const onnx::TensorProto& t) {
  std::string s = "[";
  for (int k = 0; k < t.dims_size(); ++k) s += (k ? "," : "") + std::to_string(t.dims(k));
  return s + "]";
}

// The reason of an Unsupported import error without the file and node prefix, for grouping.
std::string ShortReason(const std::string& message) {
  const std::string unsupported = "unsupported ONNX ops, nothing was converted: ";
  size_t at = message.find(unsupported);
  if (at != std::string::npos) {
    std::string kinds = message.substr(at + unsupported.size());
    std::string out;
    size_t pos = 0;
    while (pos < kinds.size()) {
      const size_t paren = kinds.find(" (node", pos);
      if (paren == std::string::npos) break;
      out += (out.empty() ? "" : ", ") + kinds.substr(pos, paren - pos);
      const size_t next = kinds.find("; ", paren);
      if (next == std::string::npos) break;
      pos = next + 2;
    }
    return "unsupported op: " + out;
  }
  at = message.find("): ");
  return at == std::string::npos ? message : message.substr(at + 3);
}

std::vector<fs::path> DataSets(const fs::path& dir) {
  std::vector<fs::path> sets;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0) sets.push_back(e.path());
  }
  std::sort(sets.begin(), sets.end());
  return sets;
}

bool Close(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || a == b || std::fabs(a - b) <= kRelTol * std::max(1.0, std::fabs(b));
}

// Cases made only of ops the importer evaluates at import time (Shape, Gather, Slice, Cast, integer arithmetic
// ...): every graph input becomes a constant, the importer's folding evaluator runs node by node, and each
// output must equal ONNX's expected one (floats within the tolerance, integers and booleans exactly).
// ONNX's test data stores BFLOAT16 tensors as UINT16 bit patterns.
void FixBfloat16(const onnx::TypeProto& declared, onnx::TensorProto* t) {
  if (declared.tensor_type().elem_type() == onnx::TensorProto::BFLOAT16 && t->data_type() == onnx::TensorProto::UINT16) {
    t->set_data_type(onnx::TensorProto::BFLOAT16);
  }
}

bool AllFoldable(const onnx::ModelProto& m) {
  for (const auto& n : m.graph().node()) {
    if (!(n.domain().empty() || n.domain() == "ai.onnx") || !onnx_import::IsFoldableOp(n.op_type())) return false;
  }
  return m.graph().node_size() > 0;
}

CaseResult RunFolded(const fs::path& dir, const onnx::ModelProto& model) {
  using onnx_import::ConstTensor;
  CaseResult r;
  r.name = dir.filename().string();
  r.outcome = Outcome::kPassFolded;
  int opset = 1;
  for (const auto& o : model.opset_import()) {
    if (o.domain().empty() || o.domain() == "ai.onnx") opset = static_cast<int>(o.version());
  }
  auto result = [&](Outcome o, const std::string& why) {
    r.outcome = o;
    r.detail = why;
    return r;
  };
  const auto sets = DataSets(dir);
  if (sets.empty()) return result(Outcome::kSkip, "no test_data_set folder");
  int checked = 0;
  for (const auto& set : sets) {
    std::map<std::string, ConstTensor> values;
    for (const auto& t : model.graph().initializer()) {
      if (!onnx_import::DecodeTensor(t, &values[t.name()]).ok()) return result(Outcome::kSkip, "initializer type");
    }
    int k = 0;
    for (const auto& vi : model.graph().input()) {
      if (values.count(vi.name())) continue;
      onnx::TensorProto t;
      if (!vi.type().has_tensor_type() || !ReadMessage(set / ("input_" + std::to_string(k++) + ".pb"), &t)) {
        return result(Outcome::kSkip, "input '" + vi.name() + "' is not a tensor (sequence/optional)");
      }
      FixBfloat16(vi.type(), &t);
      const Status s = onnx_import::DecodeTensor(t, &values[vi.name()]);
      if (!s.ok()) return result(Outcome::kSkip, "input '" + vi.name() + "': " + s.message());
    }
    for (const auto& n : model.graph().node()) {
      std::vector<const ConstTensor*> in;
      for (const auto& name : n.input()) in.push_back(name.empty() ? nullptr : &values.at(name));
      std::vector<ConstTensor> outs;
      const Status s = onnx_import::FoldNode(n, opset, in, &outs);
      if (!s.ok()) {
        return result(s.code() == StatusCode::kUnsupported ? Outcome::kSkip : Outcome::kFail,
                      "folding " + n.op_type() + ": " + s.message());
      }
      for (int o = 0; o < n.output_size(); ++o) values[n.output(o)] = outs[o];
    }
    for (int o = 0; o < model.graph().output_size(); ++o) {
      onnx::TensorProto t;
      ConstTensor want;
      if (!ReadMessage(set / ("output_" + std::to_string(o) + ".pb"), &t)) return result(Outcome::kFail, "output pb");
      FixBfloat16(model.graph().output(o).type(), &t);
      const Status s = onnx_import::DecodeTensor(t, &want);
      if (!s.ok()) return result(Outcome::kSkip, "expected output: " + s.message());
      const ConstTensor& got = values.at(model.graph().output(o).name());
      if (got.dims != want.dims) {
        return result(Outcome::kFail, "folded output " + std::to_string(o) + " has dims " +
                                          onnx_import::ShapeString(got.dims) + ", expected " +
                                          onnx_import::ShapeString(want.dims));
      }
      for (int64_t q = 0; q < want.count(); ++q) {
        const bool ok = want.is_float() ? Close(got.At(q), want.At(q)) : got.IntAt(q) == want.IntAt(q);
        if (!ok) {
          return result(Outcome::kFail, "folded output " + std::to_string(o) + " element " + std::to_string(q) +
                                            ": " + std::to_string(got.At(q)) + " vs " + std::to_string(want.At(q)));
        }
      }
      ++checked;
    }
  }
  r.detail = "import-time folding only (not an engine case): " + std::to_string(checked) + " output(s)";
  return r;
}

CaseResult RunEngine(const fs::path& dir, const onnx::ModelProto& model);

// Through the importer and the engine; a case the engine cannot take that consists only of import-time ops is
// checked through the folding evaluator instead.
CaseResult RunCase(const fs::path& dir) {
  onnx::ModelProto model;
  if (!ReadMessage(dir / "model.onnx", &model)) {
    return CaseResult{dir.filename().string(), Outcome::kFail, "model.onnx does not parse"};
  }
  const CaseResult engine = RunEngine(dir, model);
  if (engine.outcome != Outcome::kSkip || !AllFoldable(model)) return engine;
  const CaseResult folded = RunFolded(dir, model);
  if (folded.outcome != Outcome::kSkip) return folded;
  return engine;
}

CaseResult RunEngine(const fs::path& dir, const onnx::ModelProto& model) {
  CaseResult r;
  r.name = dir.filename().string();
  auto skip = [&](const std::string& why) {
    r.outcome = Outcome::kSkip;
    r.detail = why;
    return r;
  };
  auto fail = [&](const std::string& why) {
    r.outcome = Outcome::kFail;
    r.detail = why;
    return r;
  };
  std::set<std::string> initializers;
  for (const auto& t : model.graph().initializer()) initializers.insert(t.name());
  std::vector<const onnx::ValueInfoProto*> inputs;
  for (const auto& vi : model.graph().input()) {
    if (!initializers.count(vi.name())) inputs.push_back(&vi);
  }
  // Inputs the importer needs as constants.
  std::set<std::string> frozen;
  for (const auto& n : model.graph().node()) {
    for (int i = 0; i < n.input_size(); ++i) {
      if (OnnxInputMustBeConstant(n.op_type(), i)) frozen.insert(n.input(i));
    }
  }
  for (const auto* vi : inputs) {
    if (!vi->type().has_tensor_type()) return skip("input '" + vi->name() + "' is not a tensor (sequence/optional)");
    if (!frozen.count(vi->name()) && vi->type().tensor_type().elem_type() != onnx::TensorProto::FLOAT) {
      return skip("dtype not float: input '" + vi->name() + "' is " +
                  onnx::TensorProto::DataType_Name(
                      static_cast<onnx::TensorProto::DataType>(vi->type().tensor_type().elem_type())));
    }
  }
  for (const auto& vi : model.graph().output()) {
    if (!vi.type().has_tensor_type()) return skip("output '" + vi.name() + "' is not a tensor (sequence/optional)");
    if (vi.type().tensor_type().elem_type() != onnx::TensorProto::FLOAT) {
      return skip("dtype not float: output '" + vi.name() + "' is " +
                  onnx::TensorProto::DataType_Name(
                      static_cast<onnx::TensorProto::DataType>(vi.type().tensor_type().elem_type())));
    }
  }
  const auto sets = DataSets(dir);
  if (sets.empty()) return skip("no test_data_set folder");
  int outputs_checked = 0;
  for (const auto& set : sets) {
    std::vector<onnx::TensorProto> in_data(inputs.size());
    for (size_t k = 0; k < inputs.size(); ++k) {
      if (!ReadMessage(set / ("input_" + std::to_string(k) + ".pb"), &in_data[k])) {
        return fail(set.filename().string() + "/input_" + std::to_string(k) + ".pb does not parse as a TensorProto");
      }
    }
    onnx::ModelProto m = model;
    auto* g = m.mutable_graph();
    g->clear_input();
    for (const auto& vi : model.graph().input()) {
      if (initializers.count(vi.name())) *g->add_input() = vi;
    }
    for (size_t k = 0; k < inputs.size(); ++k) {
      if (frozen.count(inputs[k]->name())) {
        onnx::TensorProto t = in_data[k];
        t.set_name(inputs[k]->name());
        *g->add_initializer() = t;
        continue;
      }
      onnx::ValueInfoProto vi = *inputs[k];
      auto* shape = vi.mutable_type()->mutable_tensor_type()->mutable_shape();
      shape->clear_dim();
      for (int64_t d : in_data[k].dims()) shape->add_dim()->set_dim_value(d);
      *g->add_input() = vi;
    }
    std::string bytes;
    m.SerializeToString(&bytes);
    Graph graph;
    Status s = ImportOnnxModel(std::vector<uint8_t>(bytes.begin(), bytes.end()), r.name, &graph);
    if (!s.ok()) {
      std::string msg = s.message();
      if (msg.rfind(r.name + ": ", 0) == 0) msg = msg.substr(r.name.size() + 2);
      if (s.code() == StatusCode::kUnsupported) return skip(ShortReason(msg));
      return fail("import: " + s.message());
    }
    Net net;
    s = net.Init(graph);
    if (!s.ok()) return fail("engine init: " + s.message());
    size_t runtime_input = 0;
    for (size_t k = 0; k < inputs.size(); ++k) {
      if (frozen.count(inputs[k]->name())) continue;
      Tensor t;
      t.dims.assign(in_data[k].dims().begin(), in_data[k].dims().end());
      if (!TensorValues(in_data[k], &t.data)) return fail("input " + std::to_string(k) + " is not float data");
      s = net.SetInput(graph.inputs[runtime_input++].name, t);
      if (!s.ok()) return fail("set input: " + s.message());
    }
    s = net.Forward();
    if (!s.ok()) return fail("forward: " + s.message());
    for (int k = 0; k < model.graph().output_size(); ++k) {
      onnx::TensorProto expected;
      if (!ReadMessage(set / ("output_" + std::to_string(k) + ".pb"), &expected)) {
        return fail("output_" + std::to_string(k) + ".pb does not parse");
      }
      std::vector<float> want;
      if (!TensorValues(expected, &want)) return skip("dtype not float: expected output " + std::to_string(k));
      Tensor got;
      s = net.GetBlob(graph.outputs[k], &got);
      if (!s.ok()) return fail(s.message());
      const Dims want_dims(expected.dims().begin(), expected.dims().end());
      if (got.dims != want_dims) {
        return fail("output '" + model.graph().output(k).name() + "' has dims " + DimsToString(got.dims) +
                    ", expected " + DimsOf(expected));
      }
      int64_t bad = 0, worst_at = -1;
      double worst = 0;
      for (size_t q = 0; q < want.size(); ++q) {
        const double a = got.data[q], b = want[q];
        if (!Close(a, b)) {
          ++bad;
          const double err = std::isnan(a - b) ? INFINITY : std::fabs(a - b);
          if (worst_at < 0 || err > worst) {
            worst = err;
            worst_at = static_cast<int64_t>(q);
          }
        }
      }
      if (bad) {
        return fail("output '" + model.graph().output(k).name() + "': " + std::to_string(bad) + " of " +
                    std::to_string(want.size()) + " values off; worst at " + std::to_string(worst_at) + ": " +
                    std::to_string(got.data[worst_at]) + " vs " + std::to_string(want[worst_at]));
      }
      ++outputs_checked;
    }
  }
  r.detail = std::to_string(sets.size()) + " data set(s), " + std::to_string(outputs_checked) + " output(s)" +
             (frozen.empty() ? "" : ", constant inputs frozen from the test data");
  return r;
}

// Every case of every suite, named "<suite>/<case>".
const std::vector<CaseResult>& AllResults() {
  static const std::vector<CaseResult> results = [] {
    std::vector<CaseResult> out;
    for (const char* suite : kSuites) {
      const fs::path root = fs::path(kDataDir) / suite;
      if (!fs::is_directory(root)) continue;
      std::vector<fs::path> dirs;
      for (const auto& e : fs::directory_iterator(root)) {
        if (e.is_directory() && fs::exists(e.path() / "model.onnx")) dirs.push_back(e.path());
      }
      std::sort(dirs.begin(), dirs.end());
      for (const auto& d : dirs) {
        CaseResult r = RunCase(d);
        r.name = std::string(suite) + "/" + r.name;
        out.push_back(std::move(r));
      }
    }
    return out;
  }();
  return results;
}

// The standard 2-D (4-D NCHW) cases of every op the importer supports: they must pass, not be skipped.
const std::vector<std::string> kMustPass = {
    "test_basic_conv_with_padding", "test_basic_conv_without_padding", "test_conv_with_autopad_same",
    "test_conv_with_strides_and_asymmetric_padding", "test_conv_with_strides_no_padding",
    "test_conv_with_strides_padding",
    "test_convtranspose", "test_convtranspose_autopad_same", "test_convtranspose_dilations",
    "test_convtranspose_kernel_shape", "test_convtranspose_output_shape", "test_convtranspose_pad",
    "test_convtranspose_pads", "test_convtranspose_with_kernel",
    "test_maxpool_2d_ceil", "test_maxpool_2d_default", "test_maxpool_2d_pads", "test_maxpool_2d_precomputed_pads",
    "test_maxpool_2d_precomputed_same_upper", "test_maxpool_2d_precomputed_strides", "test_maxpool_2d_same_lower",
    "test_maxpool_2d_same_upper", "test_maxpool_2d_strides",
    "test_averagepool_2d_ceil", "test_averagepool_2d_default", "test_averagepool_2d_pads",
    "test_averagepool_2d_pads_count_include_pad", "test_averagepool_2d_precomputed_pads",
    "test_averagepool_2d_precomputed_pads_count_include_pad", "test_averagepool_2d_precomputed_same_upper",
    "test_averagepool_2d_precomputed_strides", "test_averagepool_2d_same_lower", "test_averagepool_2d_same_upper",
    "test_averagepool_2d_strides",
    "test_globalaveragepool", "test_globalaveragepool_precomputed", "test_globalmaxpool",
    "test_globalmaxpool_precomputed",
    "test_relu", "test_leakyrelu", "test_leakyrelu_default", "test_leakyrelu_example", "test_prelu_broadcast",
    "test_prelu_example", "test_clip", "test_clip_default_inbounds", "test_clip_default_max", "test_clip_default_min",
    "test_clip_example", "test_clip_inbounds", "test_clip_outbounds", "test_clip_splitbounds", "test_sigmoid",
    "test_sigmoid_example", "test_hardsigmoid", "test_hardsigmoid_default", "test_hardsigmoid_example",
    "test_hardswish", "test_hardswish_expanded", "test_tanh", "test_tanh_example",
    "test_add", "test_add_bcast", "test_sub", "test_sub_bcast", "test_sub_example", "test_mul", "test_mul_bcast",
    "test_mul_example", "test_div", "test_div_bcast", "test_div_example",
    "test_concat_2d_axis_0", "test_concat_2d_axis_1", "test_concat_3d_axis_1", "test_concat_3d_axis_negative_1",
    "test_gemm_all_attributes", "test_gemm_alpha", "test_gemm_beta", "test_gemm_default_matrix_bias",
    "test_gemm_default_no_bias", "test_gemm_default_scalar_bias", "test_gemm_default_single_elem_vector_bias",
    "test_gemm_default_vector_bias", "test_gemm_default_zero_bias", "test_gemm_transposeA", "test_gemm_transposeB",
    "test_matmul_2d", "test_matmul_3d", "test_matmul_4d",
    "test_flatten_axis0", "test_flatten_axis1", "test_flatten_axis2", "test_flatten_axis3",
    "test_flatten_default_axis", "test_flatten_negative_axis1",
    "test_reshape_extended_dims", "test_reshape_negative_dim", "test_reshape_one_dim", "test_reshape_reduced_dims",
    "test_reshape_reordered_all_dims", "test_reshape_zero_and_negative_dim", "test_reshape_zero_dim",
    "test_transpose_default", "test_transpose_all_permutations_0", "test_transpose_all_permutations_5",
    "test_squeeze", "test_squeeze_negative_axes", "test_unsqueeze_axis_0", "test_unsqueeze_two_axes",
    "test_unsqueeze_unsorted_axes",
    "test_softmax_axis_0", "test_softmax_axis_1", "test_softmax_axis_2", "test_softmax_default_axis",
    "test_softmax_example", "test_softmax_large_number", "test_softmax_negative_axis",
    "test_batchnorm_epsilon", "test_batchnorm_example",
    "test_constant_pad",
    "test_upsample_nearest", "test_resize_upsample_scales_nearest", "test_resize_upsample_scales_linear",
    "test_resize_upsample_scales_linear_align_corners",
    "test_dropout_default", "test_dropout_default_old", "test_dropout_default_ratio", "test_identity",
    // PyTorch module exports: grouped, depthwise and dilated convolutions, opset-6 PRelu, Linear.
    "pytorch-converted/test_Conv2d", "pytorch-converted/test_Conv2d_depthwise",
    "pytorch-converted/test_Conv2d_depthwise_padded", "pytorch-converted/test_Conv2d_depthwise_strided",
    "pytorch-converted/test_Conv2d_depthwise_with_multiplier", "pytorch-converted/test_Conv2d_dilated",
    "pytorch-converted/test_Conv2d_groups", "pytorch-converted/test_Conv2d_groups_thnn",
    "pytorch-converted/test_Conv2d_no_bias", "pytorch-converted/test_Conv2d_padding",
    "pytorch-converted/test_Conv2d_strided", "pytorch-converted/test_AvgPool2d", "pytorch-converted/test_AvgPool2d_stride",
    "pytorch-converted/test_MaxPool2d", "pytorch-converted/test_BatchNorm2d_eval",
    "pytorch-converted/test_BatchNorm2d_momentum_eval", "pytorch-converted/test_PReLU_2d",
    "pytorch-converted/test_PReLU_2d_multiparam", "pytorch-converted/test_LeakyReLU_with_negval",
    "pytorch-converted/test_Linear", "pytorch-converted/test_Linear_no_bias", "pytorch-converted/test_PixelShuffle",
    "pytorch-converted/test_ZeroPad2d", "pytorch-converted/test_ReflectionPad2d",
    "pytorch-converted/test_ReplicationPad2d", "pytorch-converted/test_Softmax",
    "pytorch-operator/test_operator_conv", "pytorch-operator/test_operator_mm", "pytorch-operator/test_operator_view",
    "pytorch-operator/test_operator_flatten", "pytorch-operator/test_operator_permute2",
    // Ops on run-time tensors: Slice, elementwise math, Pow with a scalar exponent, reductions, Gather.
    "test_slice", "test_slice_default_axes", "test_slice_default_steps", "test_slice_end_out_of_bounds",
    "test_slice_neg", "test_slice_neg_steps", "test_slice_negative_axes",
    "test_exp", "test_exp_example", "test_log", "test_log_example", "test_sqrt", "test_sqrt_example", "test_abs",
    "test_neg", "test_neg_example", "test_elu", "test_elu_default", "test_elu_example", "test_softplus",
    "test_softplus_example", "test_pow_bcast_scalar",
    "test_reduce_max_default_axes_keepdim_example", "test_reduce_max_do_not_keepdims_example",
    "test_reduce_max_keepdims_example", "test_reduce_max_negative_axes_keepdims_example",
    "test_reduce_mean_default_axes_keepdims_example", "test_reduce_mean_do_not_keepdims_example",
    "test_reduce_mean_keepdims_example", "test_reduce_mean_negative_axes_keepdims_example",
    "test_reduce_min_default_axes_keepdims_example", "test_reduce_min_do_not_keepdims_example",
    "test_reduce_min_keepdims_example", "test_reduce_min_negative_axes_keepdims_example",
    "test_reduce_sum_default_axes_keepdims_example", "test_reduce_sum_do_not_keepdims_example",
    "test_reduce_sum_empty_axes_input_noop_example", "test_reduce_sum_keepdims_example",
    "test_reduce_sum_negative_axes_keepdims_example",
    "test_gather_0", "test_gather_1", "test_gather_2d_indices", "test_gather_negative_indices",
    "test_unsqueeze_axis_1", "test_unsqueeze_axis_3", "test_unsqueeze_negative_axes", "test_unsqueeze_three_axes",
    "test_concat_1d_axis_0", "test_concat_3d_axis_0", "test_concat_3d_axis_2",
    "pytorch-operator/test_operator_exp", "pytorch-operator/test_operator_sqrt",
    "pytorch-operator/test_operator_reduced_mean", "pytorch-operator/test_operator_reduced_mean_keepdim",
    "pytorch-operator/test_operator_reduced_sum", "pytorch-operator/test_operator_reduced_sum_keepdim",
    "pytorch-operator/test_operator_index",
    "test_averagepool_1d_default", "test_maxpool_1d_default", "test_instancenorm_epsilon",
    "test_instancenorm_example", "test_lrn", "test_lrn_default",
    "pytorch-converted/test_Conv1d", "pytorch-converted/test_Conv1d_dilated", "pytorch-converted/test_Conv1d_groups",
    "pytorch-converted/test_Conv1d_pad1", "pytorch-converted/test_Conv1d_pad2", "pytorch-converted/test_Conv1d_stride",
    "pytorch-converted/test_AvgPool1d", "pytorch-converted/test_AvgPool1d_stride",
    "pytorch-converted/test_MaxPool1d", "pytorch-converted/test_MaxPool1d_stride",
    "test_split_equal_parts_1d", "test_split_equal_parts_2d", "test_split_equal_parts_default_axis",
    "test_split_variable_parts_1d", "test_split_variable_parts_2d", "test_split_variable_parts_default_axis",
};

TEST(OnnxNodeTest, EverySupportedCasePasses) {
  if (!fs::is_directory(fs::path(kDataDir) / "node")) {
    GTEST_SKIP() << kDataDir << "/node is absent (Debian package libonnx-testdata): skipping the ONNX node tests";
  }
  const auto& results = AllResults();
  int passed = 0, folded = 0, failed = 0, skipped = 0;
  std::map<std::string, std::vector<std::string>> skip_groups;
  for (const auto& r : results) {
    const char* tag = r.outcome == Outcome::kPass         ? "PASS"
                      : r.outcome == Outcome::kPassFolded ? "PASS"
                      : r.outcome == Outcome::kFail       ? "FAIL"
                                                          : "SKIP";
    std::printf("%s %s: %s\n", tag, r.name.c_str(), r.detail.c_str());
    if (r.outcome == Outcome::kPass) ++passed;
    if (r.outcome == Outcome::kPassFolded) ++folded;
    if (r.outcome == Outcome::kFail) ++failed;
    if (r.outcome == Outcome::kSkip) {
      ++skipped;
      skip_groups[r.detail].push_back(r.name);
    }
    EXPECT_NE(r.outcome, Outcome::kFail) << r.name << ": " << r.detail;
  }
  std::printf("\nskipped cases by reason:\n");
  for (const auto& [reason, names] : skip_groups) {
    std::printf("  %zu x %s:", names.size(), reason.c_str());
    for (const auto& n : names) std::printf(" %s", n.c_str());
    std::printf("\n");
  }
  std::printf("\n");
  for (const char* suite : kSuites) {
    int n[4] = {0, 0, 0, 0};
    for (const auto& r : results) {
      if (r.name.rfind(std::string(suite) + "/", 0) == 0) ++n[static_cast<int>(r.outcome)];
    }
    std::printf("%-18s %3d passed (%d through the engine, %d as import-time folding only), %d failed, %d skipped\n",
                suite, n[0] + n[1], n[0], n[1], n[2], n[3]);
  }
  std::printf("ONNX backend tests: %d passed (%d through the engine, %d as import-time folding only), %d failed, "
              "%d skipped, of %zu; tolerance |a-b| <= %g*max(1,|b|)\n",
              passed + folded, passed, folded, failed, skipped, results.size(), kRelTol);
  EXPECT_GT(passed, 0);
}

TEST(OnnxNodeTest, StandardCasesOfSupportedOpsAreNotSkipped) {
  if (!fs::is_directory(fs::path(kDataDir) / "node")) GTEST_SKIP() << kDataDir << "/node is absent: skipping";
  std::map<std::string, const CaseResult*> by_name;
  for (const auto& r : AllResults()) by_name[r.name] = &r;
  for (const auto& name : kMustPass) {
    auto it = by_name.find(name.find('/') == std::string::npos ? "node/" + name : name);
    ASSERT_NE(it, by_name.end()) << name << " is not in " << kDataDir;
    EXPECT_EQ(it->second->outcome, Outcome::kPass) << name << ": " << it->second->detail;
  }
}

}  // namespace
}  // namespace qt
