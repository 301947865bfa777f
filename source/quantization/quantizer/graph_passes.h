#pragma once

#include <set>
#include <vector>
#include <string>

#include "core/base/status.h"
#include "core/graph/graph.h"
#include "core/graph/shape_inference.h"

namespace qt {

// The blobs whose statistics calibration collects: every input and output of Convolution, Add, Concat,
// InnerProduct, ReLU and Pooling layers (§D.1 step 2), in layer order without duplicates.
std::vector<std::string> CalibratedBlobs(const Graph& graph);

// Blobs that must have a single (per-tensor) scale whatever the merge type: inputs and outputs of
// InnerProduct, whose int8 kernel takes one input scale (§D.5).
std::set<std::string> PerTensorBlobs(const Graph& graph);

// Whether a layer is one quantization_cmd turns into an int8 layer by itself (Conv, FC, a two-input Add of
// same-shape inputs, Concat), before scale merging extends the int8 region through ReLU and max pooling. An Add
// that broadcasts stays float (TNN's int8 Add kernel does not broadcast), and so does a convolution with a fused
// swish (its int8 kernel would drop it), and so does a Concat of PriorBox outputs (SSD's prior boxes).
bool IsQuantizableLayer(const Graph& graph, const Layer& layer, const BlobDims& dims);

// Per layer of graph.layers, whether QuantizeGraph makes it int8 by itself: IsQuantizableLayer and not in
// `float_layers`, and, with `weightless_need_int8_input` (the default mode; TNN's tool quantizes every one), a
// Concat or Add only where some input is a model input or an int8 value: fed by float layers alone (an SSD's box
// decoding, a detector's Permute/Reshape heads) it would requantize float values for nothing but a loss of
// precision. The int8 values (model inputs, int8 layers' outputs, passed on through ReLU / max pooling) go to
// *int8_blobs when given.
std::vector<bool> Int8Layers(const Graph& graph, const BlobDims& dims, const std::set<std::string>& float_layers,
                             bool weightless_need_int8_input, std::set<std::string>* int8_blobs = nullptr);

// ReLU and max pooling: int8 layers whose output keeps their input's scale (tnn_format.md §D.7).
bool PassesScaleThrough(const Layer& l);

// Blobs from which no int8 layer is reachable: everything after them up to the model outputs stays float (an
// average pooling, a softmax, ...), so their values are the model's scores in all but the last float steps.
std::set<std::string> HeadBlobs(const Graph& graph, const BlobDims& dims);

// TNN's MergeBlobScale (§D.7): a ReLU or max Pooling whose producer is quantized and whose input and output
// both have scales is marked quantized and its input blob takes its output blob's scale, repeated back along
// chains (ReLU → MaxPool). Returns the names of the layers marked.
std::vector<std::string> MergeBlobScales(Graph* graph);

// TNN's int8 Concat copies bytes when any scale is per channel (tnn_format.md §C.8): each input channel must then
// have the scale of the output channel it lands in. Scales chosen per blob (-b auto with -t 0) can differ there, so
// each channel-axis Concat's inputs take their slices of its output's scales (outermost Concat first, so a Concat
// of Concats passes the slices on). Returns the input blobs whose scales changed.
std::vector<std::string> AlignConcatChannelScales(Graph* graph, const BlobDims& dims);

// With one scale per tensor, TNN's int8 Concat requantizes each input to the output's scale: a second rounding of
// values their producer has just rounded, which TNN's X86 device does as x·(s_in/s_out) and its NAIVE device in
// another order, so the two can differ by a step. An input that only the Concat reads is better stored at the
// output's scale in the first place: its producer rounds once, and the Concat copies. For each int8 channel-axis
// Concat (`int8`: per layer of graph->layers, Int8Layers) with a per-tensor scale, outermost first, such inputs
// take its scale. Returns the input blobs whose scales changed.
std::vector<std::string> ShareConcatScales(Graph* graph, const std::vector<bool>& int8);

// TNN's X86 device computes an int8 Add with fused multiply-adds (its kernels are built with -mfma, and the
// compiler contracts a·s_a + b·s_b, and the x·(s_x / s_y) term of a convolution fused with the Add, into FMAs)
// and divides by the output scale as a product with 1 / s_y, where its NAIVE device (and our engine) rounds each
// product and divides. Wherever a sum lies next to a rounding boundary the two then store different bytes, and one
// such step spreads through the rest of a network (hair segmentation: 0.106 of a 0.98 output range on one image
// of eight). Choosing the output scales well makes both devices agree on every input: for a pointwise convolution
// that TNN fuses with the Add reading it (FuseQuantizedLikeTnn), s_y such that the ratio s_x / s_y that TNN
// computes in float has at most 17 significant bits, so that its product with any int8 value is exact and the FMA
// rounds as the separate operations do; for an Add left alone, s_y such that both devices' expressions give the
// same byte for all 65,536 operand pairs. Each s_y moves by at most 2^-11 of its value (on the zoo's files by
// 1.9e-4 at most, mostly under 1e-5), with the blobs that share it through int8 ReLU / max pooling, and the int8
// convolutions and inner products that read them take the factor into their combined scales and biases. Runs on a
// quantized graph, after the choices scored on held-out inputs (which it leaves as they were), Adds in layer
// order, each seeing the scales the ones before it chose; per-channel scales channel by channel. An Add whose
// output an int8 Concat reads (which shares its scale, ShareConcatScales) or whose scales do not line up with its
// operands' is left as it is. Returns the Add outputs whose scales changed.
std::vector<std::string> MatchX86AddRounding(Graph* graph);

}  // namespace qt
