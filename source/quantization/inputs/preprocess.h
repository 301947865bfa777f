#pragma once

#include <string>
#include <vector>

#include "core/base/status.h"

namespace qt {

// Image preprocessing with TNN's semantics: destination channel c of the input takes R, G, B (c = 0, 1, 2) by
// default, or B, G, R with reverse_channel; then y = (pixel − mean[c]) · scale[c].
struct Preprocess {
  std::vector<float> mean;   // "-n" (TNN calls it bias); empty means 0
  std::vector<float> scale;  // "-s"; empty means 1
  bool reverse_channel = false;

  // Lists must hold one value (used for every channel) or exactly `channels` values.
  Status Validate(int channels, const std::string& input_name) const;
  float Mean(int c) const { return mean.empty() ? 0.f : mean[mean.size() == 1 ? 0 : c]; }
  float Scale(int c) const { return scale.empty() ? 1.f : scale[scale.size() == 1 ? 0 : c]; }
};

// Parses "104,117,123" or "1e-3, 0.0078125": any float syntax; an empty item, junk, NaN or Inf is an error
// naming the flag and the item.
Status ParseFloatList(const std::string& text, const std::string& flag, std::vector<float>* values);

// The preprocessing the tools' -n, -s and -r flags describe (empty mean or scale text: the default).
Status ParsePreprocess(const std::string& mean, const std::string& scale, bool reverse_channel, Preprocess* pre);

}  // namespace qt
