#include <cstring>
#include <set>

#include "core/io/tnn_io.h"

namespace qt {
namespace {

// Bounds-checked little-endian cursor over the model bytes; every read that would pass the end fails with the
// offset and what was being read.
class Reader {
 public:
  Reader(const std::vector<uint8_t>& bytes) : bytes_(bytes) {}

  size_t offset() const { return pos_; }
  size_t remaining() const { return bytes_.size() - pos_; }

  Status U32(const char* what, uint32_t* v) {
    if (remaining() < 4) return Truncated(what, 4);
    std::memcpy(v, bytes_.data() + pos_, 4);
    pos_ += 4;
    return Status::Ok();
  }
  Status I32(const char* what, int32_t* v) {
    uint32_t u = 0;
    QT_RETURN_IF_ERROR(U32(what, &u));
    std::memcpy(v, &u, 4);
    return Status::Ok();
  }
  Status String(const char* what, std::string* s) {
    int32_t n = 0;
    QT_RETURN_IF_ERROR(I32(what, &n));
    if (n < 0 || static_cast<size_t>(n) > remaining()) {
      return Status::ParseError(std::string(what) + " at offset " + std::to_string(pos_ - 4) + " has length " +
                                std::to_string(n) + ", but " + std::to_string(remaining()) + " bytes remain");
    }
    s->assign(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
    pos_ += n;
    return Status::Ok();
  }
  Status Raw(const char* what, RawBuffer* rb) {
    const size_t start = pos_;
    uint32_t magic = 0;
    int32_t dtype = 0, byte_length = 0;
    QT_RETURN_IF_ERROR(U32(what, &magic));
    if (magic != kTnnMagicV1 && magic != kTnnMagicV2) {
      return Status::ParseError(std::string(what) + " at offset " + std::to_string(start) + " has bad magic " +
                                Hex(magic) + " (expected 0xfabc0002 or 0xfabc0004)");
    }
    QT_RETURN_IF_ERROR(I32(what, &dtype));
    if (!IsKnownDataType(dtype)) {
      return Status::ParseError(std::string(what) + " at offset " + std::to_string(start) + " has data type " +
                                std::to_string(dtype) + ", not a TNN DataType id");
    }
    QT_RETURN_IF_ERROR(I32(what, &byte_length));
    if (byte_length < 0) {
      return Status::ParseError(std::string(what) + " at offset " + std::to_string(start) + " has negative byte_length " +
                                std::to_string(byte_length));
    }
    std::vector<int32_t> dims;
    if (byte_length > 0 && magic == kTnnMagicV2) {
      int32_t ndims = 0;
      QT_RETURN_IF_ERROR(I32(what, &ndims));
      if (ndims < 0 || ndims > 8) {
        return Status::ParseError(std::string(what) + " at offset " + std::to_string(start) + " has " +
                                  std::to_string(ndims) + " dims, must be in [0, 8]");
      }
      dims.resize(ndims);
      for (auto& d : dims) {
        QT_RETURN_IF_ERROR(I32(what, &d));
        if (d < 0) return Status::ParseError(std::string(what) + " has a negative dim " + std::to_string(d));
      }
    }
    const size_t elem = DataTypeSize(static_cast<DataType>(dtype));
    if (static_cast<size_t>(byte_length) > remaining()) {
      return Status::ParseError(std::string(what) + " at offset " + std::to_string(start) + " has byte_length " +
                                std::to_string(byte_length) + " past the end of the file (" +
                                std::to_string(remaining()) + " bytes remain)");
    }
    if (byte_length % elem != 0) {
      return Status::ParseError(std::string(what) + " at offset " + std::to_string(start) + ": byte_length " +
                                std::to_string(byte_length) + " is not a multiple of the " +
                                DataTypeName(static_cast<DataType>(dtype)) + " size " + std::to_string(elem));
    }
    if (!dims.empty()) {
      // Stops multiplying once past byte_length, so huge dims cannot overflow.
      int64_t count = 1;
      for (int32_t d : dims) count = count > byte_length ? count : count * d;
      if (count * static_cast<int64_t>(elem) != byte_length) {
        std::string ds;
        for (int32_t d : dims) ds += (ds.empty() ? "" : ",") + std::to_string(d);
        return Status::ParseError(std::string(what) + " at offset " + std::to_string(start) + ": dims [" + ds +
                                  "] hold " + std::to_string(count) + " values but byte_length " +
                                  std::to_string(byte_length) + " holds " + std::to_string(byte_length / elem));
      }
    }
    std::vector<uint8_t> data(bytes_.begin() + pos_, bytes_.begin() + pos_ + byte_length);
    pos_ += byte_length;
    *rb = RawBuffer(static_cast<DataType>(dtype), std::move(dims), std::move(data));
    return Status::Ok();
  }

  static std::string Hex(uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "0x%08x", v);
    return buf;
  }

 private:
  Status Truncated(const char* what, size_t need) const {
    return Status::ParseError(std::string("truncated: ") + what + " at offset " + std::to_string(pos_) + " needs " +
                              std::to_string(need) + " bytes, " + std::to_string(remaining()) + " remain");
  }
  const std::vector<uint8_t>& bytes_;
  size_t pos_ = 0;
};

class Writer {
 public:
  void U32(uint32_t v) { Append(&v, 4); }
  void I32(int32_t v) { Append(&v, 4); }
  void String(const std::string& s) {
    I32(static_cast<int32_t>(s.size()));
    Append(s.data(), s.size());
  }
  void Raw(const RawBuffer& rb) {
    U32(kTnnMagicV2);
    I32(static_cast<int32_t>(rb.dtype()));
    I32(static_cast<int32_t>(rb.bytes().size()));
    if (rb.bytes().empty()) return;
    I32(static_cast<int32_t>(rb.dims().size()));
    for (int32_t d : rb.dims()) I32(d);
    Append(rb.bytes().data(), rb.bytes().size());
  }
  std::vector<uint8_t> Take() { return std::move(bytes_); }

 private:
  void Append(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    bytes_.insert(bytes_.end(), b, b + n);
  }
  std::vector<uint8_t> bytes_;
};

// A scale resource's first raw buffer is the int8 zero point in current files; old files store only the
// float scale (zero points 0).
Status ReadQuantization(Reader& r, RawBuffer* zero_point, RawBuffer* scale) {
  RawBuffer a;
  QT_RETURN_IF_ERROR(r.Raw("weight zero point/scale", &a));
  if (a.dtype() == DataType::kInt8) {
    *zero_point = std::move(a);
    return r.Raw("weight scale", scale);
  }
  *scale = std::move(a);
  *zero_point = RawBuffer::FromInt8(std::vector<int8_t>(scale->count(), 0));
  return Status::Ok();
}

// ---- Per-type resource bodies: reader and writer side by side (§B.2) ---------------------------------------
Status ReadConv(Reader& r, ConvResource* c) {
  std::string name;
  int32_t has_bias = 0;
  QT_RETURN_IF_ERROR(r.String("resource name", &name));
  QT_RETURN_IF_ERROR(r.I32("has_bias", &has_bias));
  c->has_bias = has_bias != 0;
  QT_RETURN_IF_ERROR(r.Raw("filter", &c->filter));
  if (c->has_bias) QT_RETURN_IF_ERROR(r.Raw("bias", &c->bias));
  if (c->filter.dtype() == DataType::kInt8) QT_RETURN_IF_ERROR(ReadQuantization(r, &c->zero_point, &c->scale));
  return Status::Ok();
}
void WriteConv(Writer& w, const std::string& name, const ConvResource& c) {
  w.String(name);
  w.I32(c.has_bias ? 1 : 0);
  w.Raw(c.filter);
  if (c.has_bias) w.Raw(c.bias);
  if (c.filter.dtype() == DataType::kInt8) {
    w.Raw(c.zero_point);
    w.Raw(c.scale);
  }
}

Status ReadInnerProduct(Reader& r, InnerProductResource* f) {
  std::string name;
  QT_RETURN_IF_ERROR(r.String("resource name", &name));
  QT_RETURN_IF_ERROR(r.Raw("weight", &f->weight));
  QT_RETURN_IF_ERROR(r.Raw("bias", &f->bias));
  if (f->weight.dtype() == DataType::kInt8) QT_RETURN_IF_ERROR(ReadQuantization(r, &f->zero_point, &f->scale));
  return Status::Ok();
}
void WriteInnerProduct(Writer& w, const std::string& name, const InnerProductResource& f) {
  w.String(name);
  w.Raw(f.weight);
  w.Raw(f.bias);
  if (f.weight.dtype() == DataType::kInt8) {
    w.Raw(f.zero_point);
    w.Raw(f.scale);
  }
}

Status ReadBinary(Reader& r, BinaryResource* b) { return r.Raw("constant operand", &b->element); }
void WriteBinary(Writer& w, const BinaryResource& b) { w.Raw(b.element); }

Status ReadBatchNorm(Reader& r, BatchNormResource* b) {
  QT_RETURN_IF_ERROR(r.Raw("batch norm scale", &b->scale));
  return r.Raw("batch norm bias", &b->bias);
}
void WriteBatchNorm(Writer& w, const BatchNormResource& b) {
  w.Raw(b.scale);
  w.Raw(b.bias);
}

Status ReadScale(Reader& r, ScaleResource* s) {
  std::string name;
  int32_t bias_term = 0;
  QT_RETURN_IF_ERROR(r.String("resource name", &name));
  QT_RETURN_IF_ERROR(r.I32("bias_term", &bias_term));
  s->bias_term = bias_term != 0;
  QT_RETURN_IF_ERROR(r.Raw("scale", &s->scale));
  if (s->bias_term) QT_RETURN_IF_ERROR(r.Raw("scale bias", &s->bias));
  return Status::Ok();
}
void WriteScale(Writer& w, const std::string& name, const ScaleResource& s) {
  w.String(name);
  w.I32(s.bias_term ? 1 : 0);
  w.Raw(s.scale);
  if (s.bias_term) w.Raw(s.bias);
}

Status ReadPRelu(Reader& r, PReluResource* p) {
  std::string name;
  QT_RETURN_IF_ERROR(r.String("resource name", &name));
  return r.Raw("slope", &p->slope);
}
void WritePRelu(Writer& w, const std::string& name, const PReluResource& p) {
  w.String(name);
  w.Raw(p.slope);
}

// TNN's MatMul body is the bare constant operand; an int8 one would be followed by its scale, which this tool
// does not run.
Status ReadMatMul(Reader& r, MatMulResource* m) {
  QT_RETURN_IF_ERROR(r.Raw("MatMul constant operand", &m->weight));
  if (m->weight.dtype() == DataType::kInt8) {
    return Status::Unsupported("an int8 (dynamic-range quantized) MatMul weight, which this tool does not run");
  }
  return Status::Ok();
}
void WriteMatMul(Writer& w, const MatMulResource& m) { w.Raw(m.weight); }

// TNN's GatherLayerInterpreter: no name; a flag and the data, a flag and the int32 indices. Int8 data (which
// TNN follows with a scale raw) is not supported.
Status ReadGather(Reader& r, GatherResource* g) {
  int32_t flag = 0;
  QT_RETURN_IF_ERROR(r.I32("gather data flag", &flag));
  g->has_data = flag == 1;
  if (g->has_data) QT_RETURN_IF_ERROR(r.Raw("gather data", &g->data));
  if (g->has_data && g->data.dtype() == DataType::kInt8) {
    return Status::Unsupported("int8 (dynamic-range quantized) gather data is not supported");
  }
  QT_RETURN_IF_ERROR(r.I32("gather indices flag", &flag));
  g->has_indices = flag == 1;
  if (g->has_indices) QT_RETURN_IF_ERROR(r.Raw("gather indices", &g->indices));
  return Status::Ok();
}
void WriteGather(Writer& w, const GatherResource& g) {
  w.I32(g.has_data ? 1 : 0);
  if (g.has_data) w.Raw(g.data);
  w.I32(g.has_indices ? 1 : 0);
  if (g.has_indices) w.Raw(g.indices);
}

Status ReadBlobScale(Reader& r, BlobScale* s) {
  RawBuffer zp, scale, bias;
  QT_RETURN_IF_ERROR(ReadQuantization(r, &zp, &scale));
  QT_RETURN_IF_ERROR(r.Raw("blob scale bias", &bias));
  if (scale.dtype() != DataType::kFloat || zp.count() != scale.count() || scale.count() == 0) {
    return Status::ParseError("blob scale must hold as many float scales as int8 zero points (got " +
                              std::to_string(scale.count()) + " and " + std::to_string(zp.count()) + ")");
  }
  s->scale = scale.As<float>();
  s->zero_point = zp.As<int8_t>();
  return Status::Ok();
}
void WriteBlobScale(Writer& w, const BlobScale& s) {
  w.Raw(RawBuffer::FromInt8(s.zero_point));
  w.Raw(RawBuffer::FromFloat(s.scale));
  w.Raw(RawBuffer::FromInt32(std::vector<int32_t>(s.scale.size(), 0)));
}

// Types whose TNN resource interpreter reads no body (tnn_layers.md §1.6): a file may hold a header-only entry for
// them, which TNN accepts and we skip. Types TNN has no resource interpreter for at all stay an error.
bool ResourceBodyIsEmpty(LayerType type) {
  switch (type) {
    case LayerType::kPooling:
    case LayerType::kPooling1D:
    case LayerType::kConcat:
    case LayerType::kSoftmax:
    case LayerType::kReshape:
    case LayerType::kPermute:
    case LayerType::kSplitV:
    case LayerType::kPad:
    case LayerType::kStridedSlice:
    case LayerType::kStridedSliceV2:
    case LayerType::kPriorBox:
    case LayerType::kDetectionOutput:
    case LayerType::kNormalize:
    case LayerType::kPower:
    case LayerType::kElu:
    case LayerType::kHardSwish:
    case LayerType::kHardSigmoid:
    case LayerType::kClip:
    case LayerType::kReduceMean:
    case LayerType::kReduceMax:
    case LayerType::kReduceMin:
    case LayerType::kReduceSum:
    case LayerType::kShuffleChannel:
    case LayerType::kUpsample:
    case LayerType::kLrn:
    case LayerType::kFlatten:
    case LayerType::kLog:
    case LayerType::kNeg:
    case LayerType::kSigmoid:
    case LayerType::kSoftplus:
    case LayerType::kSwish:
      return true;
    default:
      return false;
  }
}

Status ReadResource(Reader& r, LayerType type, LayerResource* res) {
  switch (type) {
    case LayerType::kConvolution:
    case LayerType::kDeconvolution:
    case LayerType::kConvolution1D: {
      ConvResource c;
      QT_RETURN_IF_ERROR(ReadConv(r, &c));
      *res = std::move(c);
      return Status::Ok();
    }
    case LayerType::kInnerProduct: {
      InnerProductResource f;
      QT_RETURN_IF_ERROR(ReadInnerProduct(r, &f));
      *res = std::move(f);
      return Status::Ok();
    }
    case LayerType::kAdd:
    case LayerType::kSub:
    case LayerType::kMul:
    case LayerType::kDiv:
    case LayerType::kMaximum: {
      BinaryResource b;
      QT_RETURN_IF_ERROR(ReadBinary(r, &b));
      *res = std::move(b);
      return Status::Ok();
    }
    case LayerType::kBatchNorm:
    case LayerType::kInstanceNorm: {  // TNN's InstBatchNormCxx body is BatchNormCxx's: scale, bias
      BatchNormResource b;
      QT_RETURN_IF_ERROR(ReadBatchNorm(r, &b));
      *res = std::move(b);
      return Status::Ok();
    }
    case LayerType::kScale: {
      ScaleResource s;
      QT_RETURN_IF_ERROR(ReadScale(r, &s));
      *res = std::move(s);
      return Status::Ok();
    }
    case LayerType::kPRelu: {
      PReluResource p;
      QT_RETURN_IF_ERROR(ReadPRelu(r, &p));
      *res = std::move(p);
      return Status::Ok();
    }
    case LayerType::kMatMul: {
      MatMulResource m;
      QT_RETURN_IF_ERROR(ReadMatMul(r, &m));
      *res = std::move(m);
      return Status::Ok();
    }
    case LayerType::kGather: {
      GatherResource g;
      QT_RETURN_IF_ERROR(ReadGather(r, &g));
      *res = std::move(g);
      return Status::Ok();
    }
    default:
      return Status::Unsupported(std::string("a resource of type ") + LayerTypeName(type) +
                                 ", which has none in this tool");
  }
}

void WriteResource(Writer& w, const std::string& name, const LayerResource& res) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, ConvResource>) WriteConv(w, name, v);
        if constexpr (std::is_same_v<T, InnerProductResource>) WriteInnerProduct(w, name, v);
        if constexpr (std::is_same_v<T, BinaryResource>) WriteBinary(w, v);
        if constexpr (std::is_same_v<T, BatchNormResource>) WriteBatchNorm(w, v);
        if constexpr (std::is_same_v<T, ScaleResource>) WriteScale(w, name, v);
        if constexpr (std::is_same_v<T, PReluResource>) WritePRelu(w, name, v);
        if constexpr (std::is_same_v<T, MatMulResource>) WriteMatMul(w, v);
        if constexpr (std::is_same_v<T, GatherResource>) WriteGather(w, v);
      },
      res);
}

}  // namespace

Status ParseTnnModel(const std::vector<uint8_t>& bytes, const std::string& source, Graph* graph) {
  Reader r(bytes);
  uint32_t magic = 0;
  QT_RETURN_IF_ERROR(r.U32("model magic", &magic).WithContext(source));
  if (magic != kTnnMagicV1 && magic != kTnnMagicV2) {
    return Status::ParseError(source + ": bad magic " + Reader::Hex(magic) +
                              " (expected 0xfabc0002 or 0xfabc0004): not a TNN model file");
  }
  int32_t count = 0;
  QT_RETURN_IF_ERROR(r.I32("resource count", &count).WithContext(source));
  count &= 0x1FFFFFFF;
  if (count >= 10000) {
    return Status::ParseError(source + ": resource count " + std::to_string(count) + " is not in [0, 10000)");
  }
  for (int32_t i = 0; i < count; ++i) {
    const size_t start = r.offset();
    auto ctx = [&](const std::string& name) {
      return source + ": resource " + std::to_string(i) + (name.empty() ? "" : " '" + name + "'") + " at offset " +
             std::to_string(start);
    };
    int32_t type_id = 0;
    std::string type_str, name;
    QT_RETURN_IF_ERROR(r.I32("layer type id", &type_id).WithContext(ctx("")));
    if (type_id < 0 || type_id > 10000) {
      return Status::ParseError(ctx("") + ": layer type id " + std::to_string(type_id) + " is not in [0, 10000]");
    }
    QT_RETURN_IF_ERROR(r.String("type string", &type_str).WithContext(ctx("")));
    if (type_id == kTnnBlobScaleTypeId || type_str == "BlobScale") {
      QT_RETURN_IF_ERROR(r.String("resource name", &name).WithContext(ctx("")));
      const std::string suffix = kBlobScaleSuffix;
      if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
        return Status::ParseError(ctx(name) + ": blob scale name does not end in " + suffix);
      }
      BlobScale s;
      QT_RETURN_IF_ERROR(ReadBlobScale(r, &s).WithContext(ctx(name)));
      graph->blob_scales[name.substr(0, name.size() - suffix.size())] = std::move(s);
      continue;
    }
    LayerType type;
    std::string stripped = type_str;
    if (stripped.compare(0, 9, kQuantizedPrefix) == 0) stripped = stripped.substr(9);
    if (LayerTypeFromString(stripped, &type)) {
      QT_RETURN_IF_ERROR(r.String("resource name", &name).WithContext(ctx("")));
    } else if (LayerTypeFromTnnId(type_id, &type)) {
      name = type_str;  // legacy header: no type string, the string read was the name
    } else {
      return Status::Unsupported(ctx("") + ": unknown resource type '" + type_str + "' (id " + std::to_string(type_id) +
                                 ")");
    }
    if (ResourceBodyIsEmpty(type)) continue;
    LayerResource res;
    QT_RETURN_IF_ERROR(ReadResource(r, type, &res).WithContext(ctx(name)));
    const Layer* layer = graph->FindLayer(name);
    // TNN keeps a resource no proto layer names (its network never asks for it, its writer drops it): so do we.
    if (!layer) continue;
    const bool same_kind = [](LayerType a, LayerType b) {
      auto group = [](LayerType t) {
        if (t == LayerType::kDeconvolution) return LayerType::kConvolution;
        if (t == LayerType::kSub || t == LayerType::kMul || t == LayerType::kDiv || t == LayerType::kMaximum) {
          return LayerType::kAdd;
        }
        return t;
      };
      return group(a) == group(b);
    }(type, layer->type);
    if (!same_kind) {
      return Status::ParseError(ctx(name) + ": a " + LayerTypeName(type) + " resource for layer '" + name +
                                "', which is a " + layer->type_str);
    }
    graph->resources[name] = std::move(res);
  }
  if (r.remaining() >= 4) {
    uint32_t const_magic = 0;
    int32_t n = 0;
    QT_RETURN_IF_ERROR(r.U32("constant map magic", &const_magic).WithContext(source));
    QT_RETURN_IF_ERROR(r.I32("constant map count", &n).WithContext(source));
    if (n < 0 || n > 100000) {
      return Status::ParseError(source + ": constant map count " + std::to_string(n) + " is not in [0, 100000]");
    }
    for (int32_t i = 0; i < n; ++i) {
      std::string key;
      RawBuffer value;
      QT_RETURN_IF_ERROR(r.String("constant name", &key).WithContext(source));
      QT_RETURN_IF_ERROR(r.Raw("constant", &value).WithContext(source + ": constant '" + key + "'"));
      graph->constants[key] = std::move(value);
    }
  }
  if (r.remaining() != 0) {
    return Status::ParseError(source + ": " + std::to_string(r.remaining()) + " unexpected bytes at the end (offset " +
                              std::to_string(r.offset()) + ")");
  }
  return Status::Ok();
}

std::vector<uint8_t> SerializeTnnModel(const Graph& graph) {
  // Entries in ModelPacker's order; written once to count, then the counted list is emitted.
  struct Entry {
    bool blob_scale;
    std::string name;  // layer or blob name
  };
  std::vector<Entry> entries;
  std::set<std::string> written;
  auto add_scales = [&](const std::vector<std::string>& blobs) {
    for (const auto& b : blobs) {
      if (graph.blob_scales.count(b) && written.insert(b + kBlobScaleSuffix).second) entries.push_back({true, b});
    }
  };
  for (const auto& l : graph.layers) {
    if (l.quantized) add_scales(l.inputs);
    if (graph.resources.count(l.name) && written.insert(l.name).second) entries.push_back({false, l.name});
    if (l.quantized) add_scales(l.outputs);
  }
  Writer w;
  w.U32(kTnnMagicV2);
  w.I32(static_cast<int32_t>(entries.size()));
  for (const auto& e : entries) {
    if (e.blob_scale) {
      w.I32(kTnnBlobScaleTypeId);
      w.String("BlobScale");
      w.String(e.name + kBlobScaleSuffix);
      WriteBlobScale(w, graph.blob_scales.at(e.name));
      continue;
    }
    const Layer* l = graph.FindLayer(e.name);
    w.I32(TnnLayerTypeId(l->type));
    w.String(l->type_str);
    w.String(l->name);
    WriteResource(w, l->name, graph.resources.at(e.name));
  }
  if (!graph.constants.empty()) {
    w.U32(kTnnMagicV2);
    w.I32(static_cast<int32_t>(graph.constants.size()));
    for (const auto& [key, value] : graph.constants) {
      w.String(key);
      w.Raw(value);
    }
  }
  return w.Take();
}

}  // namespace qt
