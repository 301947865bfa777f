#pragma once

#include "core/base/status.h"

namespace qt {

struct LayerKind;
class ParamReader;
class ParamWriter;

// Convolution and Deconvolution. Pads are symmetric (pad_h applies to top and bottom).
struct ConvParams {
  int group = 1;
  int input_channel = 0;  // per group: weight dim 1
  int output_channel = 0;
  int kernel_h = 0, kernel_w = 0;
  int stride_h = 1, stride_w = 1;
  int pad_h = 0, pad_w = 0;
  int has_bias = 0;
  int pad_type = -1;  // -1 explicit (Caffe), 0 SAME_UPPER, 1 VALID, 3 SAME with the odd pad first (deconvolution)
  int dilation_h = 1, dilation_w = 1;
  int activation = 0;  // 0 none, 1 ReLU, 2 ReLU6, 256 swish (not supported by int8 kernels)
  // Never in a file: TNN's runtime fuses a quantized 1x1 convolution with the quantized Add after it when it loads a
  // model (FuseQuantizedLikeTnn); the Add's other operand is then the convolution's second input.
  // 0 none, 1 add then activation, 2 activation then add (TNN's FusionType).
  int fusion = 0;
};

constexpr int kActivationNone = 0;
constexpr int kActivationRelu = 1;
constexpr int kActivationRelu6 = 2;
constexpr int kActivationSwish = 256;

// Output size and the resolved pads of a 2-D window along one image axis pair, with TNN's rules for explicit
// (Caffe), SAME_UPPER and VALID padding.
struct WindowGeometry {
  int out_h = 0, out_w = 0;
  int pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
};

Status ConvGeometry(const ConvParams& p, int in_h, int in_w, WindowGeometry* g);
Status DeconvGeometry(const ConvParams& p, int in_h, int in_w, WindowGeometry* g);
// SAME_UPPER (0) or VALID (1) output size along one axis, with the padding TNN splits as begin = total/2.
void TfWindow(int pad_type, int in, int k, int stride, int* out, int* pad_begin, int* pad_end);

// The convolution params line, shared by Convolution and Deconvolution.
Status ParseConvParams(ParamReader& r, ConvParams* p);
void WriteConvParams(const ConvParams& p, ParamWriter& w);

const LayerKind& ConvolutionKind();
const LayerKind& DeconvolutionKind();

}  // namespace qt
