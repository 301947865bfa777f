#pragma once

namespace qt {

struct LayerKind;

struct PReluParams {
  int channel_shared = 0;
  int has_filler = 0;
};

const LayerKind& PReluKind();

}  // namespace qt
