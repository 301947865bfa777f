#pragma once

#include <string>

#include "core/base/status.h"
#include "core/graph/graph.h"

namespace qt {

// Reads a Caffe model (a text deploy .prototxt and a binary .caffemodel) into the same graph a TNN model reads
// into, using only real TNN layer types, so the graph runs on our engine and writes as a TNN model.
//
// Formats: the V2 `layer { type: "..." }` messages and the old V1 `layers { type: ENUM }` messages (weights with
// legacy num/channels/height/width dims); inputs from `Input` layers or from the old net-level `input:` with
// `input_dim:` or `input_shape`. Unknown fields of the text format are skipped (real prototxts carry fillers,
// learning rates, engines); layers that Caffe's TEST phase excludes (`include`/`exclude` rules) are dropped.
// Weights are matched to layers by name; a layer without weights in the caffemodel may carry them inline.
//
// Mapping (Caffe → TNN):
//   Convolution, Deconvolution      → Convolution / Deconvolution (explicit pads, pad_type -1)
//   Pooling MAX/AVE                 → Pooling with pad_type -1 and ceil_mode 1 where Caffe rounds up (0 where its
//                                     last-window rule gives the floor size); Caffe's average divisor
//   ReLU (negative_slope s ≠ 0)     → ReLU (PReLU with channel_shared 1 and the single slope s)
//   PReLU, Sigmoid, TanH, Softmax   → PReLU, Sigmoid, Tanh, Softmax
//   Eltwise SUM                     → Add chain; a coefficient c ≠ 1 becomes a Mul by the constant c before the Add
//                                     (c = -1 a Sub); PROD → Mul chain; MAX → Maximum chain
//   Concat, InnerProduct            → Concat, InnerProduct (transpose: the weights are transposed at import)
//   BatchNorm                       → BatchNormCxx with scale 1/sqrt(var/f + eps), bias -mean/f·scale
//   Scale (one bottom)              → Scale for a per-channel scale, else Mul (and Add) by a constant shaped
//                                     for broadcasting; a two-bottom Scale is rejected
//   Flatten, Reshape                → Flatten (to the last axis), else Reshape with the explicit Caffe shape
//   Dropout                         → Dropout (removed by SimplifyGraph); Split → aliases, no layer
//   Slice (axis or slice_dim; slice_point, or an even split) → SplitV with the slice sizes written out
//   Permute (Caffe-SSD)             → Permute, the unlisted axes appended in increasing order
//   ReLU6, Clip                     → ReLU6, Clip
//   PriorBox (Caffe-SSD)            → PriorBox with the aspect ratios expanded (1, then each ratio and its
//                                     reciprocal when flip), variance {0.1} when none is given; steps must be
//                                     whole pixels (TNN reads them as ints)
//   DetectionOutput (Caffe-SSD)     → DetectionOutput; confidence_threshold -FLT_MAX and top_k -1 when not
//                                     given (Caffe's); output [1, 1, rows, 7] with the static row bound of
//                                     core/layers/detection_output.h, padding rows all -1
//   Normalize (Caffe-SSD)           → Normalize (no scale in TNN) then a Mul by the scale blob, as TNN's
//                                     caffe2onnx writes it
//   ShuffleChannel, LRN ACROSS_CHANNELS → ShuffleChannel, LRN (WITHIN_CHANNEL refused)
//   Crop                            → StridedSlice (TNN v1) of the first bottom; the second bottom is read for
//                                     its shape only (it does not become a model output)
//   Interp (pads 0)                 → Upsample bilinear, align_corners 1, with the output size Caffe computes
// Then SimplifyGraph() drops Dropouts, folds BatchNorm/Scale into the preceding convolution and fuses
// Convolution+ReLU as TNN's runtime does.
//
// Inputs are imported with batch 1 whatever the prototxt declares (the V1 LeNet declares 64): our tools feed one
// sample at a time.
//
// Names: characters a .tnnproto cannot hold (`,` `"` `:` and whitespace) become '_'; a name that then collides
// gets a suffix `_1`, `_2`, ... in order of appearance. Blobs are renamed into single assignment: when layers
// write a blob in place (ReLU top == bottom), the last write keeps the Caffe name (so outputs such as `prob` keep
// theirs) and earlier versions are named `<blob>_v<k>`, k counting the writes; a model input keeps its name.
// Model outputs are the blobs no layer reads.
//
// Errors are one line naming the file, the layer and the rule broken: a text parse error with its line and
// column, a corrupt caffemodel, every unsupported layer type with its layer names at once, missing weights, a
// weight blob whose shape does not fit the layer, a bottom nobody produces.
// `input_shapes` replaces the declared dims of the inputs it names.
Status ImportCaffeModel(const std::string& prototxt_path, const std::string& caffemodel_path, Graph* graph,
                        const InputShapes& input_shapes = {});

// Whether the start of a file reads as Caffe prototxt text: after blank and '#' comment lines, an identifier
// followed by ':' or '{' (a .tnnproto starts with '"', an ONNX model is binary).
bool LooksLikeCaffePrototxt(const std::string& head);

}  // namespace qt
