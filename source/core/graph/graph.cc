#include "graph.h"

#include <set>

namespace qt {

const Layer* Graph::FindLayer(const std::string& name) const {
  for (const auto& l : layers) {
    if (l.name == name) return &l;
  }
  return nullptr;
}

Layer* Graph::FindLayer(const std::string& name) {
  for (auto& l : layers) {
    if (l.name == name) return &l;
  }
  return nullptr;
}

const InputSpec* Graph::FindInput(const std::string& name) const {
  for (const auto& in : inputs) {
    if (in.name == name) return &in;
  }
  return nullptr;
}

std::vector<const Layer*> Graph::Consumers(const std::string& blob) const {
  std::vector<const Layer*> out;
  for (const auto& l : layers) {
    for (const auto& in : l.inputs) {
      if (in == blob) {
        out.push_back(&l);
        break;
      }
    }
  }
  return out;
}

const Layer* Graph::Producer(const std::string& blob) const {
  for (const auto& l : layers) {
    for (const auto& o : l.outputs) {
      if (o == blob) return &l;
    }
  }
  return nullptr;
}

void Graph::RefreshBlobNames() {
  std::set<std::string> names(blob_names.begin(), blob_names.end());
  for (const auto& in : inputs) names.insert(in.name);
  for (const auto& l : layers) {
    names.insert(l.inputs.begin(), l.inputs.end());
    names.insert(l.outputs.begin(), l.outputs.end());
  }
  blob_names.assign(names.begin(), names.end());
}

namespace {

std::string Where(const Layer& l) { return "layer '" + l.name + "' (" + l.type_str + ")"; }

Status CheckCount(const Layer& l, const char* what, int64_t have, int64_t want) {
  if (have != want) {
    return Status::InvalidArgument(Where(l) + ": " + what + " has " + std::to_string(have) + " values, expected " +
                                   std::to_string(want));
  }
  return Status::Ok();
}

Status ValidateResource(const Graph& g, const Layer& l) {
  auto it = g.resources.find(l.name);
  const LayerResource* r = it == g.resources.end() ? nullptr : &it->second;
  auto missing = [&](const char* kind) {
    return Status::InvalidArgument(Where(l) + ": the model file has no " + kind + " resource for it");
  };
  switch (l.type) {
    case LayerType::kConvolution:
    case LayerType::kDeconvolution: {
      if (!r || !std::holds_alternative<ConvResource>(*r)) return missing("convolution");
      const auto& c = std::get<ConvResource>(*r);
      const auto& p = l.Params<ConvParams>();
      const int64_t want = l.type == LayerType::kConvolution
                               ? int64_t{p.output_channel} * p.input_channel * p.kernel_h * p.kernel_w
                               : -1;
      if (want >= 0) QT_RETURN_IF_ERROR(CheckCount(l, "filter", c.filter.count(), want));
      if (want < 0 && c.filter.count() % (int64_t{p.kernel_h} * p.kernel_w) != 0) {
        return Status::InvalidArgument(Where(l) + ": filter size is not a multiple of the kernel size");
      }
      if (c.has_bias) QT_RETURN_IF_ERROR(CheckCount(l, "bias", c.bias.count(), p.output_channel));
      if (c.filter.dtype() == DataType::kInt8) {
        const int64_t n = c.scale.count();
        if (n != 1 && n != p.output_channel) {
          return Status::InvalidArgument(Where(l) + ": weight scale has " + std::to_string(n) +
                                         " values, expected 1 or " + std::to_string(p.output_channel));
        }
      }
      return Status::Ok();
    }
    case LayerType::kInnerProduct: {
      if (!r || !std::holds_alternative<InnerProductResource>(*r)) return missing("inner product");
      const auto& f = std::get<InnerProductResource>(*r);
      const auto& p = l.Params<InnerProductParams>();
      if (f.weight.count() == 0 || f.weight.count() % p.num_output != 0) {
        return Status::InvalidArgument(Where(l) + ": weight has " + std::to_string(f.weight.count()) +
                                       " values, not a multiple of num_output " + std::to_string(p.num_output));
      }
      if (p.has_bias) QT_RETURN_IF_ERROR(CheckCount(l, "bias", f.bias.count(), p.num_output));
      return Status::Ok();
    }
    case LayerType::kAdd:
    case LayerType::kSub:
    case LayerType::kMul:
    case LayerType::kDiv:
    case LayerType::kMaximum:
      if (l.inputs.size() == 1 && (!r || !std::holds_alternative<BinaryResource>(*r))) return missing("constant");
      return Status::Ok();
    case LayerType::kBatchNorm:
      if (!r || !std::holds_alternative<BatchNormResource>(*r)) return missing("batch norm");
      return Status::Ok();
    case LayerType::kScale:
      if (!r || !std::holds_alternative<ScaleResource>(*r)) return missing("scale");
      return Status::Ok();
    case LayerType::kPRelu:
      if (!r || !std::holds_alternative<PReluResource>(*r)) return missing("PReLU slope");
      return Status::Ok();
    case LayerType::kMatMul: {
      if (l.inputs.size() != 1) return Status::Ok();
      if (!r || !std::holds_alternative<MatMulResource>(*r)) return missing("MatMul constant operand");
      const int pos = l.Params<MatMulParams>().weight_position;
      if (pos != 0 && pos != 1) {
        return Status::InvalidArgument(Where(l) + ": one input blob needs weight_position 0 or 1, got " +
                                       std::to_string(pos));
      }
      return Status::Ok();
    }
    default:
      return Status::Ok();
  }
}

}  // namespace

Status Graph::Validate() const {
  if (inputs.empty()) return Status::InvalidArgument("the model declares no input");
  if (layers.empty()) return Status::InvalidArgument("the model has no layer");
  std::set<std::string> available;
  for (const auto& in : inputs) {
    if (!available.insert(in.name).second) return Status::InvalidArgument("input '" + in.name + "' is declared twice");
  }
  std::set<std::string> layer_names;
  for (const auto& l : layers) {
    if (!layer_names.insert(l.name).second) {
      return Status::InvalidArgument("two layers are named '" + l.name + "'");
    }
    if (l.inputs.empty() || l.outputs.empty()) return Status::InvalidArgument(Where(l) + " needs inputs and outputs");
    const bool binary = l.type == LayerType::kAdd || l.type == LayerType::kSub || l.type == LayerType::kMul ||
                        l.type == LayerType::kDiv || l.type == LayerType::kMaximum || l.type == LayerType::kMatMul;
    if (binary && l.inputs.size() > 2) return Status::InvalidArgument(Where(l) + " has more than two inputs");
    if (!binary && l.type != LayerType::kConcat && l.inputs.size() != 1) {
      return Status::InvalidArgument(Where(l) + " takes one input blob, got " + std::to_string(l.inputs.size()));
    }
    if (l.type != LayerType::kSplitV && l.outputs.size() != 1) {
      return Status::InvalidArgument(Where(l) + " has " + std::to_string(l.outputs.size()) + " outputs, expected 1");
    }
    for (const auto& in : l.inputs) {
      if (!available.count(in)) {
        return Status::InvalidArgument(Where(l) + " reads blob '" + in +
                                       "', which no earlier layer produces and is not a model input");
      }
    }
    for (const auto& o : l.outputs) available.insert(o);
    QT_RETURN_IF_ERROR(ValidateResource(*this, l));
    if (l.quantized) {
      for (const auto* names : {&l.inputs, &l.outputs}) {
        for (const auto& b : *names) {
          if (!blob_scales.count(b)) {
            return Status::InvalidArgument(Where(l) + " is quantized but blob '" + b + "' has no " + b +
                                           kBlobScaleSuffix + " resource");
          }
        }
      }
    }
  }
  for (const auto& o : outputs) {
    if (!available.count(o)) return Status::InvalidArgument("output blob '" + o + "' is produced by no layer");
  }
  return Status::Ok();
}

}  // namespace qt
