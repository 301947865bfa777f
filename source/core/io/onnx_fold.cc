// ONNX tensors, attributes and import-time evaluation of constant subgraphs (shape arithmetic such as
// Shape → Gather → Unsqueeze → Concat → Reshape, and constant weights preprocessing).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>

#include "core/base/data_type.h"
#include "core/io/onnx_internal.h"

namespace qt {
namespace onnx_import {

using onnx::TensorProto;

bool ConstTensor::IsFloatType(int32_t dtype) {
  return dtype == TensorProto::FLOAT || dtype == TensorProto::FLOAT16 || dtype == TensorProto::BFLOAT16 ||
         dtype == TensorProto::DOUBLE;
}

ConstTensor ConstTensor::Zeros(int32_t dtype, std::vector<int64_t> dims) {
  ConstTensor t;
  t.dtype = dtype;
  t.dims = std::move(dims);
  const int64_t n = ShapeCount(t.dims);
  if (t.is_float()) {
    t.f.assign(n, 0.f);
  } else {
    t.i.assign(n, 0);
  }
  return t;
}

void ConstTensor::CopyElement(int64_t to, const ConstTensor& src, int64_t from) {
  if (is_float()) {
    f[to] = src.is_float() ? src.f[from] : static_cast<float>(src.i[from]);
  } else {
    i[to] = src.is_float() ? SaturatingInt64(src.f[from]) : src.i[from];
  }
}

std::vector<float> ConstTensor::ToFloats() const {
  if (is_float()) return f;
  return std::vector<float>(i.begin(), i.end());
}

std::vector<int64_t> ConstTensor::ToInts() const {
  if (!is_float()) return i;
  std::vector<int64_t> v(f.size());
  for (size_t k = 0; k < f.size(); ++k) v[k] = SaturatingInt64(f[k]);
  return v;
}

const char* DtypeName(int32_t dtype) {
  if (TensorProto::DataType_IsValid(dtype)) {
    static std::string names[32];
    std::string& n = names[dtype & 31];
    if (n.empty()) n = TensorProto::DataType_Name(static_cast<TensorProto::DataType>(dtype));
    return n.c_str();
  }
  return "UNKNOWN";
}

std::string ShapeString(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t k = 0; k < dims.size(); ++k) s += (k ? "," : "") + std::to_string(dims[k]);
  return s + "]";
}

// Dims come from the file: a product past int64 saturates (and matches no real element count), a negative dim
// gives -1.
int64_t ShapeCount(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) return -1;
    n = d != 0 && n > INT64_MAX / d ? INT64_MAX : n * d;
  }
  return n;
}

int64_t SaturatingInt64(double v) {
  if (std::isnan(v)) return 0;
  // 2^63 is exact in double; every double below it converts.
  constexpr double kLimit = 9223372036854775808.0;
  if (v >= kLimit) return INT64_MAX;
  if (v < -kLimit) return INT64_MIN;
  return static_cast<int64_t>(v);
}

namespace {

template <typename T>
T ReadLe(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

size_t ElementSize(int32_t dtype) {
  switch (dtype) {
    case TensorProto::FLOAT:
    case TensorProto::INT32:
    case TensorProto::UINT32: return 4;
    case TensorProto::UINT8:
    case TensorProto::INT8:
    case TensorProto::BOOL: return 1;
    case TensorProto::UINT16:
    case TensorProto::INT16:
    case TensorProto::FLOAT16:
    case TensorProto::BFLOAT16: return 2;
    case TensorProto::INT64:
    case TensorProto::UINT64:
    case TensorProto::DOUBLE: return 8;
    default: return 0;
  }
}

// Element k of little-endian raw bytes of `dtype`, stored into `out` (float or int storage).
void StoreRaw(const char* p, int32_t dtype, int64_t k, ConstTensor* out) {
  switch (dtype) {
    case TensorProto::FLOAT: out->f[k] = ReadLe<float>(p); break;
    case TensorProto::DOUBLE: out->f[k] = static_cast<float>(ReadLe<double>(p)); break;
    case TensorProto::FLOAT16: out->f[k] = HalfToFloat(ReadLe<uint16_t>(p)); break;
    case TensorProto::BFLOAT16: out->f[k] = Bfp16ToFloat(ReadLe<uint16_t>(p)); break;
    case TensorProto::UINT8: out->i[k] = ReadLe<uint8_t>(p); break;
    case TensorProto::INT8: out->i[k] = ReadLe<int8_t>(p); break;
    case TensorProto::BOOL: out->i[k] = ReadLe<uint8_t>(p) != 0; break;
    case TensorProto::UINT16: out->i[k] = ReadLe<uint16_t>(p); break;
    case TensorProto::INT16: out->i[k] = ReadLe<int16_t>(p); break;
    case TensorProto::INT32: out->i[k] = ReadLe<int32_t>(p); break;
    case TensorProto::UINT32: out->i[k] = ReadLe<uint32_t>(p); break;
    case TensorProto::INT64: out->i[k] = ReadLe<int64_t>(p); break;
    case TensorProto::UINT64: out->i[k] = static_cast<int64_t>(ReadLe<uint64_t>(p)); break;
    default: break;
  }
}

Status CountMismatch(const char* field, int64_t have, int64_t want, const std::vector<int64_t>& dims) {
  return Status::InvalidArgument(std::string(field) + " holds " + std::to_string(have) + " values but dims " +
                                 ShapeString(dims) + " need " + std::to_string(want));
}

}  // namespace

Status DecodeTensor(const TensorProto& t, ConstTensor* out) {
  if (t.data_location() == TensorProto::EXTERNAL || t.external_data_size() > 0) {
    return Status::Unsupported("its data is stored in an external file, which is not supported");
  }
  if (t.has_segment()) return Status::Unsupported("segmented tensors are not supported");
  const int32_t dtype = t.data_type();
  const size_t esize = ElementSize(dtype);
  if (esize == 0) {
    return Status::Unsupported(std::string("element type ") + DtypeName(dtype) + " is not supported");
  }
  std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0 || (d > 0 && n > (int64_t{1} << 40) / d)) {
      return Status::InvalidArgument("dims " + ShapeString(dims) + " are negative or too large");
    }
    n *= d;
  }
  // Each branch checks that the data is all there before allocating: dims alone may claim terabytes.
  if (t.has_raw_data()) {
    const std::string& raw = t.raw_data();
    if (raw.size() != static_cast<size_t>(n) * esize) {
      return Status::InvalidArgument("raw_data has " + std::to_string(raw.size()) + " bytes but dims " +
                                     ShapeString(dims) + " of " + DtypeName(dtype) + " need " +
                                     std::to_string(n * static_cast<int64_t>(esize)));
    }
    *out = ConstTensor::Zeros(dtype, dims);
    for (int64_t k = 0; k < n; ++k) StoreRaw(raw.data() + k * esize, dtype, k, out);
    return Status::Ok();
  }
  switch (dtype) {
    case TensorProto::FLOAT:
      if (t.float_data_size() != n) return CountMismatch("float_data", t.float_data_size(), n, dims);
      *out = ConstTensor::Zeros(dtype, dims);
      for (int64_t k = 0; k < n; ++k) out->f[k] = t.float_data(k);
      return Status::Ok();
    case TensorProto::DOUBLE:
      if (t.double_data_size() != n) return CountMismatch("double_data", t.double_data_size(), n, dims);
      *out = ConstTensor::Zeros(dtype, dims);
      for (int64_t k = 0; k < n; ++k) out->f[k] = static_cast<float>(t.double_data(k));
      return Status::Ok();
    case TensorProto::INT64:
      if (t.int64_data_size() != n) return CountMismatch("int64_data", t.int64_data_size(), n, dims);
      *out = ConstTensor::Zeros(dtype, dims);
      for (int64_t k = 0; k < n; ++k) out->i[k] = t.int64_data(k);
      return Status::Ok();
    case TensorProto::UINT32:
    case TensorProto::UINT64:
      if (t.uint64_data_size() != n) return CountMismatch("uint64_data", t.uint64_data_size(), n, dims);
      *out = ConstTensor::Zeros(dtype, dims);
      for (int64_t k = 0; k < n; ++k) out->i[k] = static_cast<int64_t>(t.uint64_data(k));
      return Status::Ok();
    default:
      // INT32, INT16, INT8, UINT16, UINT8, BOOL, FLOAT16 and BFLOAT16 (as bit patterns) live in int32_data.
      if (t.int32_data_size() != n) return CountMismatch("int32_data", t.int32_data_size(), n, dims);
      *out = ConstTensor::Zeros(dtype, dims);
      for (int64_t k = 0; k < n; ++k) {
        const int32_t v = t.int32_data(k);
        if (dtype == TensorProto::FLOAT16) {
          out->f[k] = HalfToFloat(static_cast<uint16_t>(v));
        } else if (dtype == TensorProto::BFLOAT16) {
          out->f[k] = Bfp16ToFloat(static_cast<uint16_t>(v));
        } else if (dtype == TensorProto::BOOL) {
          out->i[k] = v != 0;
        } else {
          out->i[k] = v;
        }
      }
      return Status::Ok();
  }
}

// ---- attributes ----------------------------------------------------------------------------------------------

const onnx::AttributeProto* FindAttr(const onnx::NodeProto& node, const std::string& name) {
  for (const auto& a : node.attribute()) {
    if (a.name() == name) return &a;
  }
  return nullptr;
}

namespace {

Status WrongType(const onnx::AttributeProto& a, const char* want) {
  return Status::InvalidArgument("attribute '" + a.name() + "' is " +
                                 onnx::AttributeProto::AttributeType_Name(a.type()) + ", expected " + want);
}

}  // namespace

Status AttrInt(const onnx::NodeProto& node, const std::string& name, int64_t def, int64_t* v) {
  const auto* a = FindAttr(node, name);
  if (!a) {
    *v = def;
    return Status::Ok();
  }
  if (a->type() != onnx::AttributeProto::INT && !(a->type() == 0 && a->has_i())) return WrongType(*a, "INT");
  *v = a->i();
  return Status::Ok();
}

Status AttrFloat(const onnx::NodeProto& node, const std::string& name, float def, float* v) {
  const auto* a = FindAttr(node, name);
  if (!a) {
    *v = def;
    return Status::Ok();
  }
  if (a->type() == onnx::AttributeProto::INT) {
    *v = static_cast<float>(a->i());
    return Status::Ok();
  }
  if (a->type() != onnx::AttributeProto::FLOAT && !(a->type() == 0 && a->has_f())) return WrongType(*a, "FLOAT");
  *v = a->f();
  return Status::Ok();
}

Status AttrString(const onnx::NodeProto& node, const std::string& name, const std::string& def, std::string* v) {
  const auto* a = FindAttr(node, name);
  if (!a) {
    *v = def;
    return Status::Ok();
  }
  if (a->type() != onnx::AttributeProto::STRING && !(a->type() == 0 && a->has_s())) return WrongType(*a, "STRING");
  *v = a->s();
  return Status::Ok();
}

Status AttrInts(const onnx::NodeProto& node, const std::string& name, std::vector<int64_t>* v) {
  v->clear();
  const auto* a = FindAttr(node, name);
  if (!a) return Status::Ok();
  if (a->type() != onnx::AttributeProto::INTS && a->type() != 0) return WrongType(*a, "INTS");
  v->assign(a->ints().begin(), a->ints().end());
  return Status::Ok();
}

Status AttrFloats(const onnx::NodeProto& node, const std::string& name, std::vector<float>* v) {
  v->clear();
  const auto* a = FindAttr(node, name);
  if (!a) return Status::Ok();
  if (a->type() != onnx::AttributeProto::FLOATS && a->type() != 0) return WrongType(*a, "FLOATS");
  v->assign(a->floats().begin(), a->floats().end());
  return Status::Ok();
}

// ---- folding -------------------------------------------------------------------------------------------------

namespace {

std::vector<int64_t> Strides(const std::vector<int64_t>& dims) {
  std::vector<int64_t> s(dims.size(), 1);
  for (int k = static_cast<int>(dims.size()) - 2; k >= 0; --k) s[k] = s[k + 1] * dims[k + 1];
  return s;
}

Status NormalizeAxis(int64_t axis, size_t rank, int64_t* out) {
  const int64_t r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r) {
    return Status::InvalidArgument("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(r));
  }
  *out = axis < 0 ? axis + r : axis;
  return Status::Ok();
}

Status BroadcastDims(const std::vector<int64_t>& a, const std::vector<int64_t>& b, std::vector<int64_t>* out) {
  const size_t n = std::max(a.size(), b.size());
  out->assign(n, 1);
  for (size_t k = 0; k < n; ++k) {
    const int64_t da = k < n - a.size() ? 1 : a[k - (n - a.size())];
    const int64_t db = k < n - b.size() ? 1 : b[k - (n - b.size())];
    if (da != db && da != 1 && db != 1) {
      return Status::InvalidArgument("shapes " + ShapeString(a) + " and " + ShapeString(b) + " do not broadcast");
    }
    (*out)[k] = da == 1 ? db : da;
  }
  return Status::Ok();
}

// Index into a tensor of `dims` broadcast to `out_dims`, for the output element with multi-index `idx`.
int64_t BroadcastIndex(const std::vector<int64_t>& dims, const std::vector<int64_t>& out_dims,
                       const std::vector<int64_t>& idx) {
  int64_t flat = 0;
  const size_t off = out_dims.size() - dims.size();
  for (size_t k = 0; k < dims.size(); ++k) flat = flat * dims[k] + (dims[k] == 1 ? 0 : idx[k + off]);
  return flat;
}

void NextIndex(const std::vector<int64_t>& dims, std::vector<int64_t>* idx) {
  for (int k = static_cast<int>(dims.size()) - 1; k >= 0; --k) {
    if (++(*idx)[k] < dims[k]) return;
    (*idx)[k] = 0;
  }
}

// Elementwise op over broadcast inputs. `fn` maps the input values (as double, exact for float32 and for the
// integers shapes use) to the output value; `out_dtype` stores it (float32 results are rounded once, which for
// + − × ÷ gives the float32 IEEE result).
Status Elementwise(const std::vector<const ConstTensor*>& in, int32_t out_dtype,
                   const std::function<double(const std::vector<double>&)>& fn, ConstTensor* out) {
  std::vector<int64_t> dims;
  for (const ConstTensor* t : in) {
    std::vector<int64_t> d;
    QT_RETURN_IF_ERROR(BroadcastDims(dims, t->dims, &d));
    dims = d;
  }
  *out = ConstTensor::Zeros(out_dtype, dims);
  std::vector<int64_t> idx(dims.size(), 0);
  std::vector<double> args(in.size());
  const int64_t n = out->count();
  for (int64_t k = 0; k < n; ++k) {
    for (size_t a = 0; a < in.size(); ++a) args[a] = in[a]->At(BroadcastIndex(in[a]->dims, dims, idx));
    const double v = fn(args);
    if (out->is_float()) {
      out->f[k] = static_cast<float>(v);
    } else {
      out->i[k] = SaturatingInt64(v);
    }
    NextIndex(dims, &idx);
  }
  return Status::Ok();
}

// Integer binary ops stay in int64 so large shape values are exact.
Status IntBinary(const ConstTensor& a, const ConstTensor& b, const std::function<int64_t(int64_t, int64_t)>& fn,
                 ConstTensor* out) {
  std::vector<int64_t> dims;
  QT_RETURN_IF_ERROR(BroadcastDims(a.dims, b.dims, &dims));
  *out = ConstTensor::Zeros(a.dtype, dims);
  std::vector<int64_t> idx(dims.size(), 0);
  for (int64_t k = 0; k < out->count(); ++k) {
    out->i[k] = fn(a.i[BroadcastIndex(a.dims, dims, idx)], b.i[BroadcastIndex(b.dims, dims, idx)]);
    NextIndex(dims, &idx);
  }
  return Status::Ok();
}

Status Binary(const std::string& op, const ConstTensor& a, const ConstTensor& b, ConstTensor* out) {
  if (!a.is_float() && !b.is_float()) {
    if (op == "Add") return IntBinary(a, b, [](int64_t x, int64_t y) { return x + y; }, out);
    if (op == "Sub") return IntBinary(a, b, [](int64_t x, int64_t y) { return x - y; }, out);
    if (op == "Mul") return IntBinary(a, b, [](int64_t x, int64_t y) { return x * y; }, out);
    if (op == "Min") return IntBinary(a, b, [](int64_t x, int64_t y) { return std::min(x, y); }, out);
    if (op == "Max") return IntBinary(a, b, [](int64_t x, int64_t y) { return std::max(x, y); }, out);
    if (op == "Div") {
      bool div_zero = false;
      QT_RETURN_IF_ERROR(IntBinary(a, b, [&](int64_t x, int64_t y) {
        if (y == 0) {
          div_zero = true;
          return int64_t{0};
        }
        return x / y;
      }, out));
      if (div_zero) return Status::InvalidArgument("integer division by zero");
      return Status::Ok();
    }
  }
  std::function<double(const std::vector<double>&)> fn;
  if (op == "Add") fn = [](const std::vector<double>& v) { return static_cast<double>(static_cast<float>(v[0]) + static_cast<float>(v[1])); };
  if (op == "Sub") fn = [](const std::vector<double>& v) { return static_cast<double>(static_cast<float>(v[0]) - static_cast<float>(v[1])); };
  if (op == "Mul") fn = [](const std::vector<double>& v) { return static_cast<double>(static_cast<float>(v[0]) * static_cast<float>(v[1])); };
  if (op == "Div") fn = [](const std::vector<double>& v) { return static_cast<double>(static_cast<float>(v[0]) / static_cast<float>(v[1])); };
  if (op == "Pow") fn = [](const std::vector<double>& v) { return static_cast<double>(std::pow(static_cast<float>(v[0]), static_cast<float>(v[1]))); };
  if (op == "Min") fn = [](const std::vector<double>& v) { return std::min(v[0], v[1]); };
  if (op == "Max") fn = [](const std::vector<double>& v) { return std::max(v[0], v[1]); };
  if (op == "Equal") fn = [](const std::vector<double>& v) { return v[0] == v[1] ? 1.0 : 0.0; };
  if (op == "Less") fn = [](const std::vector<double>& v) { return v[0] < v[1] ? 1.0 : 0.0; };
  if (op == "Greater") fn = [](const std::vector<double>& v) { return v[0] > v[1] ? 1.0 : 0.0; };
  if (op == "And") fn = [](const std::vector<double>& v) { return (v[0] != 0 && v[1] != 0) ? 1.0 : 0.0; };
  if (op == "Or") fn = [](const std::vector<double>& v) { return (v[0] != 0 || v[1] != 0) ? 1.0 : 0.0; };
  if (!fn) return Status::Internal("no folding rule for binary " + op);
  const bool logical = op == "Equal" || op == "Less" || op == "Greater" || op == "And" || op == "Or";
  return Elementwise({&a, &b}, logical ? TensorProto::BOOL : a.dtype, fn, out);
}

Status Unary(const std::string& op, const ConstTensor& a, ConstTensor* out) {
  std::function<double(double)> g;
  if (op == "Neg") g = [](double x) { return -x; };
  if (op == "Abs") g = [](double x) { return std::fabs(x); };
  if (op == "Floor") g = [](double x) { return std::floor(x); };
  if (op == "Ceil") g = [](double x) { return std::ceil(x); };
  if (op == "Round") g = [](double x) { return std::nearbyint(x); };
  if (op == "Sqrt") g = [](double x) { return static_cast<double>(std::sqrt(static_cast<float>(x))); };
  if (op == "Reciprocal") g = [](double x) { return static_cast<double>(1.f / static_cast<float>(x)); };
  if (op == "Relu") g = [](double x) { return x > 0 ? x : 0.0; };
  if (op == "Sigmoid") g = [](double x) { return 1.0 / (1.0 + std::exp(-x)); };
  if (op == "Tanh") g = [](double x) { return std::tanh(x); };
  if (op == "Exp") g = [](double x) { return std::exp(x); };
  if (op == "Log") g = [](double x) { return std::log(x); };
  if (op == "Not") g = [](double x) { return x == 0 ? 1.0 : 0.0; };
  if (!g) return Status::Internal("no folding rule for unary " + op);
  return Elementwise({&a}, op == "Not" ? TensorProto::BOOL : a.dtype,
                     [&](const std::vector<double>& v) { return g(v[0]); }, out);
}

// A float cast to bfloat16, kept as the float it represents. ONNX 1.12's reference (the installed backend test
// data) truncates the low 16 bits; the Cast spec names no rounding.
float TruncateToBfloat16(float v) {
  uint32_t u = 0;
  std::memcpy(&u, &v, 4);
  return Bfp16ToFloat(static_cast<uint16_t>(u >> 16));
}

Status Cast(const ConstTensor& a, int64_t to, ConstTensor* out) {
  if (!TensorProto::DataType_IsValid(static_cast<int>(to)) || ElementSize(static_cast<int32_t>(to)) == 0) {
    return Status::Unsupported("Cast to " + std::string(DtypeName(static_cast<int32_t>(to))) + " is not supported");
  }
  *out = ConstTensor::Zeros(static_cast<int32_t>(to), a.dims);
  for (int64_t k = 0; k < a.count(); ++k) {
    if (out->is_float()) {
      float v = static_cast<float>(a.At(k));
      if (to == TensorProto::FLOAT16) v = HalfToFloat(FloatToHalf(v));
      if (to == TensorProto::BFLOAT16) v = TruncateToBfloat16(v);
      out->f[k] = v;
    } else if (to == TensorProto::BOOL) {
      out->i[k] = a.At(k) != 0;
    } else if (a.is_float()) {
      const double v = a.f[k];
      out->i[k] = SaturatingInt64(v);
    } else {
      out->i[k] = a.i[k];
    }
  }
  return Status::Ok();
}

Status Transpose(const ConstTensor& a, std::vector<int64_t> perm, ConstTensor* out) {
  const size_t r = a.dims.size();
  if (perm.empty()) {
    for (size_t k = 0; k < r; ++k) perm.push_back(static_cast<int64_t>(r - 1 - k));
  }
  if (perm.size() != r) return Status::InvalidArgument("perm has " + std::to_string(perm.size()) + " axes for rank " + std::to_string(r));
  std::vector<int64_t> od(r);
  for (size_t k = 0; k < r; ++k) {
    if (perm[k] < 0 || perm[k] >= static_cast<int64_t>(r)) return Status::InvalidArgument("perm is not a permutation");
    od[k] = a.dims[perm[k]];
  }
  *out = ConstTensor::Zeros(a.dtype, od);
  const auto in_strides = Strides(a.dims);
  std::vector<int64_t> idx(r, 0);
  for (int64_t k = 0; k < out->count(); ++k) {
    int64_t src = 0;
    for (size_t d = 0; d < r; ++d) src += idx[d] * in_strides[perm[d]];
    out->CopyElement(k, a, src);
    NextIndex(od, &idx);
  }
  return Status::Ok();
}

Status Gather(const ConstTensor& data, const ConstTensor& indices, int64_t axis_attr, ConstTensor* out) {
  if (data.dims.empty()) return Status::InvalidArgument("Gather on a scalar");
  int64_t axis = 0;
  QT_RETURN_IF_ERROR(NormalizeAxis(axis_attr, data.dims.size(), &axis));
  std::vector<int64_t> od(data.dims.begin(), data.dims.begin() + axis);
  od.insert(od.end(), indices.dims.begin(), indices.dims.end());
  od.insert(od.end(), data.dims.begin() + axis + 1, data.dims.end());
  *out = ConstTensor::Zeros(data.dtype, od);
  const int64_t outer = ShapeCount(std::vector<int64_t>(data.dims.begin(), data.dims.begin() + axis));
  const int64_t inner = ShapeCount(std::vector<int64_t>(data.dims.begin() + axis + 1, data.dims.end()));
  const int64_t n = data.dims[axis], ni = indices.count();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < ni; ++j) {
      int64_t ix = indices.IntAt(j);
      if (ix < -n || ix >= n) {
        return Status::InvalidArgument("Gather index " + std::to_string(ix) + " is out of range for axis of size " +
                                       std::to_string(n));
      }
      if (ix < 0) ix += n;
      for (int64_t q = 0; q < inner; ++q) out->CopyElement((o * ni + j) * inner + q, data, (o * n + ix) * inner + q);
    }
  }
  return Status::Ok();
}

Status Concat(const std::vector<const ConstTensor*>& in, int64_t axis_attr, ConstTensor* out) {
  const ConstTensor& first = *in[0];
  int64_t axis = 0;
  QT_RETURN_IF_ERROR(NormalizeAxis(axis_attr, first.dims.size(), &axis));
  std::vector<int64_t> od = first.dims;
  od[axis] = 0;
  for (const ConstTensor* t : in) {
    if (t->dims.size() != first.dims.size()) return Status::InvalidArgument("Concat inputs differ in rank");
    for (size_t d = 0; d < od.size(); ++d) {
      if (static_cast<int64_t>(d) != axis && t->dims[d] != first.dims[d]) {
        return Status::InvalidArgument("Concat inputs " + ShapeString(first.dims) + " and " + ShapeString(t->dims) +
                                       " differ off the axis");
      }
    }
    od[axis] += t->dims[axis];
  }
  *out = ConstTensor::Zeros(first.dtype, od);
  const int64_t outer = ShapeCount(std::vector<int64_t>(od.begin(), od.begin() + axis));
  const int64_t inner = ShapeCount(std::vector<int64_t>(od.begin() + axis + 1, od.end()));
  int64_t offset = 0;
  for (const ConstTensor* t : in) {
    const int64_t len = t->dims[axis] * inner;
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t q = 0; q < len; ++q) out->CopyElement(o * od[axis] * inner + offset + q, *t, o * len + q);
    }
    offset += len;
  }
  return Status::Ok();
}

Status Slice(const ConstTensor& a, std::vector<int64_t> starts, std::vector<int64_t> ends, std::vector<int64_t> axes,
             std::vector<int64_t> steps, ConstTensor* out) {
  const size_t r = a.dims.size();
  if (axes.empty()) {
    for (size_t k = 0; k < starts.size(); ++k) axes.push_back(static_cast<int64_t>(k));
  }
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size()) {
    return Status::InvalidArgument("Slice starts, ends, axes and steps differ in length");
  }
  std::vector<int64_t> begin(r, 0), step(r, 1), od = a.dims;
  for (size_t k = 0; k < starts.size(); ++k) {
    int64_t ax = 0;
    QT_RETURN_IF_ERROR(NormalizeAxis(axes[k], r, &ax));
    const int64_t dim = a.dims[ax], st = steps[k];
    if (st == 0) return Status::InvalidArgument("Slice step 0");
    int64_t s = starts[k], e = ends[k];
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    if (st > 0) {
      s = std::max<int64_t>(0, std::min(s, dim));
      e = std::max<int64_t>(0, std::min(e, dim));
      od[ax] = e > s ? (e - s + st - 1) / st : 0;
    } else {
      s = std::max<int64_t>(-1, std::min(s, dim - 1));
      e = std::max<int64_t>(-1, std::min(e, dim - 1));
      od[ax] = s > e ? (s - e + (-st) - 1) / (-st) : 0;
    }
    begin[ax] = s;
    step[ax] = st;
  }
  *out = ConstTensor::Zeros(a.dtype, od);
  const auto strides = Strides(a.dims);
  std::vector<int64_t> idx(r, 0);
  for (int64_t k = 0; k < out->count(); ++k) {
    int64_t src = 0;
    for (size_t d = 0; d < r; ++d) src += (begin[d] + idx[d] * step[d]) * strides[d];
    out->CopyElement(k, a, src);
    NextIndex(od, &idx);
  }
  return Status::Ok();
}

}  // namespace

Status ReshapeDims(const std::vector<int64_t>& in, const std::vector<int64_t>& shape, bool allowzero,
                   std::vector<int64_t>* out) {
  out->clear();
  int infer = -1;
  int64_t known = 1;
  for (size_t k = 0; k < shape.size(); ++k) {
    int64_t d = shape[k];
    if (d == 0 && !allowzero) {
      if (k >= in.size()) return Status::InvalidArgument("Reshape shape " + ShapeString(shape) + " copies dim " + std::to_string(k) + " past the input rank");
      d = in[k];
    }
    if (d == -1) {
      if (infer >= 0) return Status::InvalidArgument("Reshape shape " + ShapeString(shape) + " has two -1");
      infer = static_cast<int>(k);
      d = 1;
    } else if (d < 0) {
      return Status::InvalidArgument("Reshape shape " + ShapeString(shape) + " has a negative dim");
    } else {
      known = d != 0 && known > INT64_MAX / d ? INT64_MAX : known * d;
    }
    out->push_back(d);
  }
  const int64_t total = ShapeCount(in);
  if (infer >= 0) {
    if (known == 0 || total % known != 0) {
      return Status::InvalidArgument("cannot reshape " + ShapeString(in) + " to " + ShapeString(shape));
    }
    (*out)[infer] = total / known;
  }
  if (ShapeCount(*out) != total) {
    return Status::InvalidArgument("cannot reshape " + ShapeString(in) + " (" + std::to_string(total) + " values) to " +
                                   ShapeString(shape));
  }
  return Status::Ok();
}

namespace {

// Tensors made from shape values (ConstantOfShape, Expand, Range) must stay of a size a model constant can have:
// 2^26 values (512 MiB as int64), far above any real shape computation.
constexpr int64_t kMaxCreatedCount = int64_t{1} << 26;

Status CheckCreatedSize(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0 || (d > 0 && n > kMaxCreatedCount / d)) {
      return Status::InvalidArgument("a constant of dims " + ShapeString(dims) + " is negative or too large");
    }
    n *= d;
  }
  return Status::Ok();
}

Status Expand(const ConstTensor& a, const std::vector<int64_t>& shape, ConstTensor* out) {
  std::vector<int64_t> dims;
  QT_RETURN_IF_ERROR(BroadcastDims(a.dims, shape, &dims));
  QT_RETURN_IF_ERROR(CheckCreatedSize(dims));
  *out = ConstTensor::Zeros(a.dtype, dims);
  std::vector<int64_t> idx(dims.size(), 0);
  for (int64_t k = 0; k < out->count(); ++k) {
    out->CopyElement(k, a, BroadcastIndex(a.dims, dims, idx));
    NextIndex(dims, &idx);
  }
  return Status::Ok();
}

Status Where(const ConstTensor& c, const ConstTensor& x, const ConstTensor& y, ConstTensor* out) {
  std::vector<int64_t> d1, dims;
  QT_RETURN_IF_ERROR(BroadcastDims(c.dims, x.dims, &d1));
  QT_RETURN_IF_ERROR(BroadcastDims(d1, y.dims, &dims));
  *out = ConstTensor::Zeros(x.dtype, dims);
  std::vector<int64_t> idx(dims.size(), 0);
  for (int64_t k = 0; k < out->count(); ++k) {
    if (c.At(BroadcastIndex(c.dims, dims, idx)) != 0) {
      out->CopyElement(k, x, BroadcastIndex(x.dims, dims, idx));
    } else {
      out->CopyElement(k, y, BroadcastIndex(y.dims, dims, idx));
    }
    NextIndex(dims, &idx);
  }
  return Status::Ok();
}

// Axes from the attribute (older opsets) or the optional second input (newer ones).
Status AxesOf(const onnx::NodeProto& node, const std::vector<const ConstTensor*>& in, std::vector<int64_t>* axes) {
  if (in.size() > 1 && in[1]) {
    *axes = in[1]->ToInts();
    return Status::Ok();
  }
  return AttrInts(node, "axes", axes);
}

Status Require(const std::vector<const ConstTensor*>& in, size_t n, const std::string& op) {
  for (size_t k = 0; k < n; ++k) {
    if (k >= in.size() || !in[k]) {
      return Status::InvalidArgument(op + " needs input " + std::to_string(k));
    }
  }
  return Status::Ok();
}

}  // namespace

Status SqueezeDims(const std::vector<int64_t>& in, const std::vector<int64_t>& axes_in, std::vector<int64_t>* out) {
  std::vector<bool> drop(in.size(), false);
  if (axes_in.empty()) {
    for (size_t k = 0; k < in.size(); ++k) drop[k] = in[k] == 1;
  }
  for (int64_t a : axes_in) {
    int64_t ax = 0;
    QT_RETURN_IF_ERROR(NormalizeAxis(a, in.size(), &ax));
    if (in[ax] != 1) {
      return Status::InvalidArgument("Squeeze axis " + std::to_string(a) + " has size " + std::to_string(in[ax]) +
                                     ", not 1");
    }
    drop[ax] = true;
  }
  out->clear();
  for (size_t k = 0; k < in.size(); ++k) {
    if (!drop[k]) out->push_back(in[k]);
  }
  return Status::Ok();
}

Status UnsqueezeDims(const std::vector<int64_t>& in, const std::vector<int64_t>& axes_in, std::vector<int64_t>* out) {
  const size_t r = in.size() + axes_in.size();
  std::vector<bool> ones(r, false);
  for (int64_t a : axes_in) {
    int64_t ax = 0;
    QT_RETURN_IF_ERROR(NormalizeAxis(a, r, &ax));
    if (ones[ax]) return Status::InvalidArgument("Unsqueeze axes repeat " + std::to_string(a));
    ones[ax] = true;
  }
  out->clear();
  size_t next = 0;
  for (size_t k = 0; k < r; ++k) out->push_back(ones[k] ? 1 : in[next++]);
  return Status::Ok();
}

bool IsFoldableOp(const std::string& op) {
  static const std::set<std::string> kOps = {
      "Identity", "Dropout", "Cast", "Shape", "Size", "Gather", "Concat", "Reshape", "Flatten", "Squeeze",
      "Unsqueeze", "Transpose", "Slice", "ConstantOfShape", "Range", "Expand", "Where", "Equal", "Less", "Greater",
      "Not", "And", "Or", "Add", "Sub", "Mul", "Div", "Pow", "Min", "Max", "Neg", "Abs", "Floor", "Ceil", "Round",
      "Sqrt", "Reciprocal", "Relu", "Sigmoid", "Tanh", "Exp", "Log", "Constant"};
  return kOps.count(op) > 0;
}

ConstTensor ShapeOf(const std::vector<int64_t>& dims, const onnx::NodeProto& node) {
  const int64_t r = static_cast<int64_t>(dims.size());
  int64_t start = 0, end = r;
  if (!AttrInt(node, "start", 0, &start).ok()) start = 0;
  if (!AttrInt(node, "end", r, &end).ok()) end = r;
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = std::max<int64_t>(0, std::min(start, r));
  end = std::max<int64_t>(0, std::min(end, r));
  ConstTensor t = ConstTensor::Zeros(TensorProto::INT64, {std::max<int64_t>(0, end - start)});
  for (int64_t k = start; k < end; ++k) t.i[k - start] = dims[k];
  return t;
}

Status CastTarget(const onnx::NodeProto& node, int64_t* to) {
  const auto* a = FindAttr(node, "to");
  if (!a) return Status::InvalidArgument("Cast has no 'to' attribute");
  if (a->type() == onnx::AttributeProto::STRING) {
    TensorProto::DataType t;
    if (!TensorProto::DataType_Parse(a->s(), &t)) {
      return Status::InvalidArgument("Cast to '" + a->s() + "' is not an ONNX type");
    }
    *to = t;
    return Status::Ok();
  }
  return AttrInt(node, "to", 0, to);
}

Status ConstantNodeValue(const onnx::NodeProto& node, ConstTensor* out) {
  for (const auto& a : node.attribute()) {
    if (a.name() == "value") return DecodeTensor(a.t(), out);
    if (a.name() == "value_float") {
      *out = ConstTensor::Zeros(TensorProto::FLOAT, {});
      out->f[0] = a.f();
      return Status::Ok();
    }
    if (a.name() == "value_floats") {
      *out = ConstTensor::Zeros(TensorProto::FLOAT, {a.floats_size()});
      for (int k = 0; k < a.floats_size(); ++k) out->f[k] = a.floats(k);
      return Status::Ok();
    }
    if (a.name() == "value_int") {
      *out = ConstTensor::Zeros(TensorProto::INT64, {});
      out->i[0] = a.i();
      return Status::Ok();
    }
    if (a.name() == "value_ints") {
      *out = ConstTensor::Zeros(TensorProto::INT64, {a.ints_size()});
      for (int k = 0; k < a.ints_size(); ++k) out->i[k] = a.ints(k);
      return Status::Ok();
    }
    if (a.name() == "sparse_value" || a.name() == "value_string" || a.name() == "value_strings") {
      return Status::Unsupported("Constant with attribute '" + a.name() + "' is not supported");
    }
  }
  return Status::InvalidArgument("Constant has no value attribute");
}

Status FoldNode(const onnx::NodeProto& node, int opset, const std::vector<const ConstTensor*>& in,
                std::vector<ConstTensor>* outputs) {
  const std::string& op = node.op_type();
  outputs->assign(std::max(1, node.output_size()), ConstTensor());
  ConstTensor& y = (*outputs)[0];
  if (op == "Constant") return ConstantNodeValue(node, &y);
  if (op == "Identity") {
    QT_RETURN_IF_ERROR(Require(in, 1, op));
    y = *in[0];
    return Status::Ok();
  }
  if (op == "Dropout") {
    QT_RETURN_IF_ERROR(Require(in, 1, op));
    if (in.size() > 2 && in[2] && in[2]->count() == 1 && in[2]->At(0) != 0) {
      return Status::Unsupported("Dropout in training mode (random) is not supported");
    }
    y = *in[0];
    if (outputs->size() > 1) {
      (*outputs)[1] = ConstTensor::Zeros(TensorProto::BOOL, in[0]->dims);
      std::fill((*outputs)[1].i.begin(), (*outputs)[1].i.end(), 1);
    }
    return Status::Ok();
  }
  if (op == "Cast") {
    QT_RETURN_IF_ERROR(Require(in, 1, op));
    int64_t to = 0;
    QT_RETURN_IF_ERROR(CastTarget(node, &to));
    return Cast(*in[0], to, &y);
  }
  if (op == "Shape") {
    QT_RETURN_IF_ERROR(Require(in, 1, op));
    y = ShapeOf(in[0]->dims, node);
    return Status::Ok();
  }
  if (op == "Size") {
    QT_RETURN_IF_ERROR(Require(in, 1, op));
    y = ConstTensor::Zeros(TensorProto::INT64, {});
    y.i[0] = in[0]->count();
    return Status::Ok();
  }
  if (op == "Gather") {
    QT_RETURN_IF_ERROR(Require(in, 2, op));
    int64_t axis = 0;
    QT_RETURN_IF_ERROR(AttrInt(node, "axis", 0, &axis));
    return Gather(*in[0], *in[1], axis, &y);
  }
  if (op == "Concat") {
    std::vector<const ConstTensor*> parts;
    for (const ConstTensor* t : in) {
      if (t) parts.push_back(t);
    }
    if (parts.empty()) return Status::InvalidArgument("Concat has no input");
    int64_t axis = 0;
    QT_RETURN_IF_ERROR(AttrInt(node, "axis", opset < 4 ? 1 : 0, &axis));
    return Concat(parts, axis, &y);
  }
  if (op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze") {
    QT_RETURN_IF_ERROR(Require(in, 1, op));
    std::vector<int64_t> dims;
    if (op == "Reshape") {
      std::vector<int64_t> shape;
      if (opset < 5) {
        QT_RETURN_IF_ERROR(AttrInts(node, "shape", &shape));
      } else {
        QT_RETURN_IF_ERROR(Require(in, 2, op));
        shape = in[1]->ToInts();
      }
      int64_t allowzero = 0;
      QT_RETURN_IF_ERROR(AttrInt(node, "allowzero", 0, &allowzero));
      QT_RETURN_IF_ERROR(ReshapeDims(in[0]->dims, shape, allowzero != 0, &dims));
    } else if (op == "Flatten") {
      int64_t axis = 1;
      QT_RETURN_IF_ERROR(AttrInt(node, "axis", 1, &axis));
      const int64_t r = static_cast<int64_t>(in[0]->dims.size());
      if (axis < 0) axis += r;
      if (axis < 0 || axis > r) return Status::InvalidArgument("Flatten axis out of range");
      dims = {ShapeCount(std::vector<int64_t>(in[0]->dims.begin(), in[0]->dims.begin() + axis)),
              ShapeCount(std::vector<int64_t>(in[0]->dims.begin() + axis, in[0]->dims.end()))};
    } else {
      std::vector<int64_t> axes;
      QT_RETURN_IF_ERROR(AxesOf(node, in, &axes));
      QT_RETURN_IF_ERROR(op == "Squeeze" ? SqueezeDims(in[0]->dims, axes, &dims)
                                         : UnsqueezeDims(in[0]->dims, axes, &dims));
    }
    y = *in[0];
    y.dims = dims;
    return Status::Ok();
  }
  if (op == "Transpose") {
    QT_RETURN_IF_ERROR(Require(in, 1, op));
    std::vector<int64_t> perm;
    QT_RETURN_IF_ERROR(AttrInts(node, "perm", &perm));
    return Transpose(*in[0], perm, &y);
  }
  if (op == "Slice") {
    QT_RETURN_IF_ERROR(Require(in, 1, op));
    std::vector<int64_t> starts, ends, axes, steps;
    if (opset < 10) {
      QT_RETURN_IF_ERROR(AttrInts(node, "starts", &starts));
      QT_RETURN_IF_ERROR(AttrInts(node, "ends", &ends));
      QT_RETURN_IF_ERROR(AttrInts(node, "axes", &axes));
    } else {
      QT_RETURN_IF_ERROR(Require(in, 3, op));
      starts = in[1]->ToInts();
      ends = in[2]->ToInts();
      if (in.size() > 3 && in[3]) axes = in[3]->ToInts();
      if (in.size() > 4 && in[4]) steps = in[4]->ToInts();
    }
    return Slice(*in[0], starts, ends, axes, steps, &y);
  }
  if (op == "ConstantOfShape") {
    QT_RETURN_IF_ERROR(Require(in, 1, op));
    ConstTensor value = ConstTensor::Zeros(TensorProto::FLOAT, {1});
    if (const auto* a = FindAttr(node, "value")) QT_RETURN_IF_ERROR(DecodeTensor(a->t(), &value));
    if (value.count() != 1) return Status::InvalidArgument("ConstantOfShape value must hold one element");
    const std::vector<int64_t> dims = in[0]->ToInts();
    QT_RETURN_IF_ERROR(CheckCreatedSize(dims));
    y = ConstTensor::Zeros(value.dtype, dims);
    for (int64_t k = 0; k < y.count(); ++k) y.CopyElement(k, value, 0);
    return Status::Ok();
  }
  if (op == "Range") {
    QT_RETURN_IF_ERROR(Require(in, 3, op));
    const double start = in[0]->At(0), limit = in[1]->At(0), delta = in[2]->At(0);
    if (delta == 0) return Status::InvalidArgument("Range delta 0");
    const double n = std::max(0.0, std::ceil((limit - start) / delta));
    if (!(n <= kMaxCreatedCount)) return Status::InvalidArgument("Range of more than 2^26 values (or NaN bounds)");
    y = ConstTensor::Zeros(in[0]->dtype, {static_cast<int64_t>(n)});
    for (int64_t k = 0; k < static_cast<int64_t>(n); ++k) {
      if (y.is_float()) {
        y.f[k] = static_cast<float>(start + k * delta);
      } else {
        y.i[k] = in[0]->IntAt(0) + k * in[2]->IntAt(0);
      }
    }
    return Status::Ok();
  }
  if (op == "Expand") {
    QT_RETURN_IF_ERROR(Require(in, 2, op));
    return Expand(*in[0], in[1]->ToInts(), &y);
  }
  if (op == "Where") {
    QT_RETURN_IF_ERROR(Require(in, 3, op));
    return Where(*in[0], *in[1], *in[2], &y);
  }
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Pow" || op == "Equal" || op == "Less" ||
      op == "Greater" || op == "And" || op == "Or") {
    QT_RETURN_IF_ERROR(Require(in, 2, op));
    ConstTensor b = *in[1];
    int64_t broadcast = 0, axis = -1;
    // Before opset 7, a lower-rank B broadcasts from `axis` of A.
    if (opset < 7 && AttrInt(node, "broadcast", 0, &broadcast).ok() && broadcast &&
        AttrInt(node, "axis", -1, &axis).ok() && axis >= 0) {
      std::vector<int64_t> d(axis, 1);
      d.insert(d.end(), b.dims.begin(), b.dims.end());
      while (d.size() < in[0]->dims.size()) d.push_back(1);
      b.dims = d;
    }
    return Binary(op, *in[0], b, &y);
  }
  if (op == "Min" || op == "Max") {
    QT_RETURN_IF_ERROR(Require(in, 1, op));
    y = *in[0];
    for (size_t k = 1; k < in.size(); ++k) {
      if (!in[k]) continue;
      ConstTensor next;
      QT_RETURN_IF_ERROR(Binary(op, y, *in[k], &next));
      y = std::move(next);
    }
    return Status::Ok();
  }
  if (op == "Not" || op == "Neg" || op == "Abs" || op == "Floor" || op == "Ceil" || op == "Round" || op == "Sqrt" ||
      op == "Reciprocal" || op == "Relu" || op == "Sigmoid" || op == "Tanh" || op == "Exp" || op == "Log") {
    QT_RETURN_IF_ERROR(Require(in, 1, op));
    return Unary(op, *in[0], &y);
  }
  return Status::Internal("no folding rule for " + op);
}

}  // namespace onnx_import
}  // namespace qt
