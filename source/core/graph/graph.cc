#include "graph.h"

#include <set>

#include "core/layers/layer.h"

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
    if (l.inputs.empty() || l.outputs.empty()) {
      return Status::InvalidArgument(LayerWhere(l) + " needs inputs and outputs");
    }
    for (const auto& in : l.inputs) {
      if (!available.count(in)) {
        return Status::InvalidArgument(LayerWhere(l) + " reads blob '" + in +
                                       "', which no earlier layer produces and is not a model input");
      }
    }
    for (const auto& o : l.outputs) available.insert(o);
    QT_RETURN_IF_ERROR(LayerKindOf(l.type).check(*this, l));
    if (l.quantized) {
      for (const auto* names : {&l.inputs, &l.outputs}) {
        for (const auto& b : *names) {
          if (!blob_scales.count(b)) {
            return Status::InvalidArgument(LayerWhere(l) + " is quantized but blob '" + b + "' has no " + b +
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
