#pragma once

namespace qt {

struct LayerKind;

struct InnerProductParams {
  int num_output = 0;
  int has_bias = 0;
  int transpose = 0;
  int axis = 1;
};

const LayerKind& InnerProductKind();

}  // namespace qt
