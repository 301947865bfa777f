#include <algorithm>
#include <charconv>
#include <sstream>

#include "core/io/tnn_io.h"

namespace qt {
namespace {

std::vector<std::string> SplitTokens(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string t;
  while (in >> t) out.push_back(t);
  return out;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  return out;
}

bool ParseInt64(const std::string& t, int64_t* v) {
  const char* end = t.data() + t.size();
  auto [ptr, ec] = std::from_chars(t.data(), end, *v);
  return ec == std::errc() && ptr == end;
}

Status ParseInputs(const std::string& seg, bool v2, Graph* graph) {
  for (const auto& entry : Split(seg, ':')) {
    auto t = SplitTokens(entry);
    if (t.empty()) continue;
    InputSpec in;
    in.name = t[0];
    std::vector<std::string> dim_tokens;
    if (v2) {
      int64_t rank = 0;
      if (t.size() < 2 || !ParseInt64(t[1], &rank) || rank < 1 || rank > 6 ||
          t.size() != static_cast<size_t>(rank) + 3) {
        return Status::ParseError("input entry '" + entry + "' is not 'name rank d0 .. d(rank-1) dtype'");
      }
      dim_tokens.assign(t.begin() + 2, t.begin() + 2 + rank);
      int64_t dtype = 0;
      if (!ParseInt64(t.back(), &dtype) || !IsKnownDataType(static_cast<int32_t>(dtype))) {
        return Status::ParseError("input '" + in.name + "' has data type '" + t.back() + "', not a TNN DataType id");
      }
      in.dtype = static_cast<DataType>(dtype);
    } else {
      if (t.size() < 2) return Status::ParseError("input entry '" + entry + "' has no dims");
      // The same rank bound as v2's: a v1 input of 7 or more dims would be written as a v2 line no reader takes.
      if (t.size() > 7) {
        return Status::ParseError("input '" + t[0] + "' has " + std::to_string(t.size() - 1) + " dims, must have 1 to 6");
      }
      dim_tokens.assign(t.begin() + 1, t.end());
    }
    for (const auto& d : dim_tokens) {
      int64_t v = 0;
      if (!ParseInt64(d, &v) || v < 1 || v > (1 << 20)) {
        return Status::ParseError("input '" + in.name + "' has dim '" + d + "', must be an integer in [1, 2^20]");
      }
      in.dims.push_back(static_cast<int>(v));
    }
    if (graph->FindInput(in.name)) return Status::ParseError("input '" + in.name + "' is declared twice");
    graph->inputs.push_back(in);
  }
  if (graph->inputs.empty()) return Status::ParseError("the input line declares no input");
  return Status::Ok();
}

Status ParseLayer(const std::string& seg, Layer* layer) {
  auto t = SplitTokens(seg);
  if (t.size() < 4) return Status::ParseError("layer line '" + seg + "' needs type, name, input and output counts");
  std::string type_str = t[0];
  layer->name = t[1];
  const std::string prefix = kQuantizedPrefix;
  if (type_str.compare(0, prefix.size(), prefix) == 0) {
    layer->quantized = true;
    type_str = type_str.substr(prefix.size());
  }
  if (!LayerTypeFromString(type_str, &layer->type)) {
    return Status::Unsupported("layer '" + layer->name + "' has unknown or unsupported type '" + t[0] + "'");
  }
  if (layer->quantized && !HasQuantizedForm(layer->type)) {
    return Status::Unsupported("layer '" + layer->name + "': TNN has no quantized form of '" + type_str + "'");
  }
  layer->type_str = type_str;
  int64_t n_in = 0, n_out = 0;
  if (!ParseInt64(t[2], &n_in) || !ParseInt64(t[3], &n_out) || n_in < 0 || n_out < 0 ||
      static_cast<uint64_t>(n_in) + static_cast<uint64_t>(n_out) > t.size() - 4) {
    return Status::ParseError("layer '" + layer->name + "': input/output counts '" + t[2] + " " + t[3] +
                              "' are not valid for a line of " + std::to_string(t.size()) + " tokens");
  }
  layer->inputs.assign(t.begin() + 4, t.begin() + 4 + n_in);
  layer->outputs.assign(t.begin() + 4 + n_in, t.begin() + 4 + n_in + n_out);
  std::vector<std::string> params(t.begin() + 4 + n_in + n_out, t.end());
  return ParseLayerParams(layer->type, params, &layer->params)
      .WithContext("layer '" + layer->name + "' (" + t[0] + ")");
}

void AppendTokens(std::string* out, const std::vector<std::string>& tokens) {
  for (const auto& t : tokens) {
    *out += t;
    *out += ' ';
  }
}

}  // namespace

Status ParseTnnProto(const std::string& raw_text, const std::string& source, Graph* graph) {
  // TNN deletes every quote and newline before splitting on commas (§A.1); \r is dropped too so that files
  // edited on Windows read the same.
  std::string text;
  text.reserve(raw_text.size());
  for (char c : raw_text) {
    if (c != '"' && c != '\n' && c != '\r') text += c;
  }
  const auto segs = Split(text, ',');
  if (segs.size() < 6) {
    return Status::ParseError(source + ": expected at least 6 comma-separated sections (header, inputs, blobs, " +
                              "outputs, layer count, layers), found " + std::to_string(segs.size()));
  }
  *graph = Graph();
  auto header = SplitTokens(segs[0]);
  int64_t magic = 0;
  if (header.size() < 4 || !ParseInt64(header[3], &magic)) {
    return Status::ParseError(source + ": header '" + segs[0] + "' has no magic number (4th token)");
  }
  if (magic != kTnnMagicV1 && magic != kTnnMagicV2) {
    return Status::ParseError(source + ": bad magic " + header[3] + " (expected " + std::to_string(kTnnMagicV1) +
                              " for v1 or " + std::to_string(kTnnMagicV2) + " for v2)");
  }
  graph->magic = static_cast<uint32_t>(magic);
  QT_RETURN_IF_ERROR(ParseInputs(segs[1], graph->magic == kTnnMagicV2, graph).WithContext(source));
  graph->blob_names = SplitTokens(segs[2]);
  graph->outputs = SplitTokens(segs[3]);
  if (graph->outputs.empty()) return Status::ParseError(source + ": the output line names no output blob");
  // TNN keeps the outputs in a set: their order in the file means nothing, name order is what it reports.
  std::sort(graph->outputs.begin(), graph->outputs.end());
  graph->outputs.erase(std::unique(graph->outputs.begin(), graph->outputs.end()), graph->outputs.end());
  for (size_t i = 5; i < segs.size(); ++i) {
    if (SplitTokens(segs[i]).empty()) continue;
    Layer layer;
    QT_RETURN_IF_ERROR(ParseLayer(segs[i], &layer).WithContext(source));
    graph->layers.push_back(std::move(layer));
  }
  if (graph->layers.empty()) return Status::ParseError(source + ": the model has no layer");
  return Status::Ok();
}

std::string SerializeTnnProto(const Graph& graph) {
  std::vector<std::string> blobs = graph.blob_names;
  std::sort(blobs.begin(), blobs.end());
  blobs.erase(std::unique(blobs.begin(), blobs.end()), blobs.end());

  std::string out = "\"1 " + std::to_string(blobs.size()) + " 1 " + std::to_string(kTnnMagicV2) + " ,\"\n";

  std::vector<InputSpec> inputs = graph.inputs;
  std::sort(inputs.begin(), inputs.end(), [](const InputSpec& a, const InputSpec& b) { return a.name < b.name; });
  out += "\"";
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (i) out += ": ";
    std::vector<std::string> t = {inputs[i].name, std::to_string(inputs[i].dims.size())};
    for (int d : inputs[i].dims) t.push_back(std::to_string(d));
    t.push_back(std::to_string(static_cast<int>(inputs[i].dtype)));
    AppendTokens(&out, t);
  }
  out += ",\"\n";

  out += "\" ";
  AppendTokens(&out, blobs);
  out += ",\"\n";

  std::vector<std::string> outputs = graph.outputs;
  std::sort(outputs.begin(), outputs.end());
  outputs.erase(std::unique(outputs.begin(), outputs.end()), outputs.end());
  out += "\"";
  AppendTokens(&out, outputs);
  out += ",\"\n";

  out += "\" " + std::to_string(graph.layers.size()) + " ,\"\n";

  for (const auto& l : graph.layers) {
    std::vector<std::string> t;
    t.push_back(l.quantized ? std::string(kQuantizedPrefix) + LayerTypeName(l.type) : l.type_str);
    t.push_back(l.name);
    t.push_back(std::to_string(l.inputs.size()));
    t.push_back(std::to_string(l.outputs.size()));
    t.insert(t.end(), l.inputs.begin(), l.inputs.end());
    t.insert(t.end(), l.outputs.begin(), l.outputs.end());
    WriteLayerParams(l.type, l.params, &t);
    out += "\"";
    AppendTokens(&out, t);
    out += ",\"\n";
  }
  return out;
}

}  // namespace qt
