#pragma once

namespace qt {

struct LayerKind;

// TNN's ShuffleChannel layer line: group (1 when the line ends).
struct ShuffleChannelParams {
  int group = 1;
};

const LayerKind& ShuffleChannelKind();

}  // namespace qt
