#pragma once

#include <algorithm>

#include "core/layers/layer.h"

namespace qt {

// The executor of layers that move no data (Flatten, Reshape, Dropout): the output is the input under new dims.
class CopyExec : public LayerExec {
 public:
  Status Prepare(const LayerContext&) override { return Status::Ok(); }
  Status Forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    std::copy(in[0]->data.begin(), in[0]->data.end(), out[0]->data.begin());
    return Status::Ok();
  }
};

inline std::unique_ptr<LayerExec> CreateCopyExec(const Layer&, const Fp32Options&) {
  return std::make_unique<CopyExec>();
}

}  // namespace qt
