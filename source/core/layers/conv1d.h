#pragma once

namespace qt {

struct LayerKind;

// TNN's Convolution1D on [N, C, L] tensors (weights [oc][ic/group][k]). TNN reads two pad tokens and applies the
// second one before the sequence and the first one after it (its converter writes ONNX's begin, end, so an
// asymmetric 1-D pad is swapped there too); the two are kept in file order.
struct Conv1dParams {
  int group = 1;
  int input_channel = 0;
  int output_channel = 0;
  int kernel = 0;
  int stride = 1;
  int pad_first = 0, pad_second = 0;  // pad_second: before the sequence, pad_first: after it
  int has_bias = 0;
  int pad_type = -1;  // -1 explicit, 0 SAME, 1 VALID
  int dilation = 1;
  int activation = 0;
};

const LayerKind& Convolution1DKind();

}  // namespace qt
